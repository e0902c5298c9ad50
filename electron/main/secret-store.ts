// Secrets kept across runs, encrypted by the OS keyring through Electron's safeStorage; the
// encrypted blobs live in the inventory, the key never does.
import type { SafeStorage } from 'electron';
import { PortwrightError } from '../core/errors.js';
import type { SecretBlobStore, SecretStore } from '../core/store/secret-store.js';

/**
 * The slice of safeStorage we use. The async methods, because Electron 45 deprecates the sync
 * ones; getSelectedStorageBackend exists only on Linux, so it is optional.
 */
export type SafeStorageLike = Pick<
  SafeStorage,
  'isAsyncEncryptionAvailable' | 'encryptStringAsync' | 'decryptStringAsync'
> &
  Partial<Pick<SafeStorage, 'getSelectedStorageBackend'>>;

/** Why secrets cannot be kept safely here, or undefined when they can. Lets the app fall back to memory. */
export async function safeStorageProblem(safeStorage: SafeStorageLike): Promise<PortwrightError | undefined> {
  // On Linux without a keyring Electron "encrypts" with a hard-coded password: that is not safe storage.
  const backend = safeStorage.getSelectedStorageBackend?.();
  if (backend !== 'basic_text' && (await safeStorage.isAsyncEncryptionAvailable())) return undefined;
  return new PortwrightError({
    code: 'SECRET_STORE_INSECURE',
    message:
      backend === 'basic_text'
        ? 'no OS keyring is available, so secrets would be stored with a fixed, well-known key'
        : 'the operating system offers no encryption for stored secrets',
    hint:
      'Install and unlock a keyring (gnome-keyring or KWallet on Linux) and restart Portwright, ' +
      'or enter passwords each time instead of saving them.',
  });
}

export class SafeStorageSecretStore implements SecretStore {
  readonly persistent = true;

  constructor(
    private readonly safeStorage: SafeStorageLike,
    private readonly blobs: SecretBlobStore,
  ) {}

  async get(account: string): Promise<string | undefined> {
    const blob = this.blobs.getSecretBlob(account);
    if (!blob) return undefined;
    await this.requireSecure();
    let decrypted: Awaited<ReturnType<SafeStorage['decryptStringAsync']>>;
    try {
      decrypted = await this.safeStorage.decryptStringAsync(blob);
    } catch (e) {
      throw new PortwrightError({
        code: 'SECRET_UNREADABLE',
        message: `the saved secret for ${account} cannot be decrypted`,
        hint: 'The keyring that saved it is not the one in use now; enter the secret again to replace it.',
        detail: e instanceof Error ? e.message : String(e),
      });
    }
    // The keyring rotated its key: store the secret again under the new one.
    if (decrypted.shouldReEncrypt) await this.set(account, decrypted.result);
    return decrypted.result;
  }

  async set(account: string, secret: string): Promise<void> {
    await this.requireSecure();
    this.blobs.setSecretBlob(account, await this.safeStorage.encryptStringAsync(secret));
  }

  /** Always allowed: forgetting a secret needs no keyring. */
  delete(account: string): Promise<void> {
    this.blobs.deleteSecretBlob(account);
    return Promise.resolve();
  }

  private async requireSecure(): Promise<void> {
    const problem = await safeStorageProblem(this.safeStorage);
    if (problem) throw problem;
  }
}
