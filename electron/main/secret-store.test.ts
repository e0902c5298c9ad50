// Saved secrets through safeStorage: encrypted into the inventory, refused without a real keyring.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PortwrightError } from '../core/errors.js';
import { tempStore, type TempStore } from '../core/store/test-store.js';
import { SafeStorageSecretStore, type SafeStorageLike } from './secret-store.js';

type Backend = ReturnType<NonNullable<SafeStorageLike['getSelectedStorageBackend']>>;

/** Stands in for Electron's safeStorage: a reversible "cipher" and a switchable backend. */
function fakeSafeStorage(options: { available?: boolean; backend?: Backend | 'absent'; rotated?: boolean } = {}) {
  const { available = true, backend = 'gnome_libsecret', rotated = false } = options;
  const fake: SafeStorageLike = {
    isAsyncEncryptionAvailable: () => Promise.resolve(available),
    encryptStringAsync: (plain) => Promise.resolve(Buffer.from(`enc:${Buffer.from(plain).reverse().toString('hex')}`)),
    decryptStringAsync: (blob) => {
      const text = blob.toString();
      if (!text.startsWith('enc:')) return Promise.reject(new Error('Error while decrypting the ciphertext'));
      const result = Buffer.from(text.slice(4), 'hex').reverse().toString();
      return Promise.resolve({ result, shouldReEncrypt: rotated });
    },
  };
  if (backend !== 'absent') fake.getSelectedStorageBackend = () => backend;
  return fake;
}

async function rejection(promise: Promise<unknown>): Promise<PortwrightError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof PortwrightError) return e;
    throw e;
  }
  throw new Error('expected a PortwrightError');
}

describe('safeStorage secret store', () => {
  let t: TempStore;
  afterEach(() => t.cleanup());

  it('saves a secret encrypted, so the inventory file never holds it in clear', async () => {
    t = tempStore();
    const secrets = new SafeStorageSecretStore(fakeSafeStorage(), t.store);
    expect(secrets.persistent).toBe(true);
    await secrets.set('gw-01', 'hunter2-plain');
    expect(await secrets.get('gw-01')).toBe('hunter2-plain');
    t.store.close();
    expect(readFileSync(t.file).includes('hunter2-plain')).toBe(false);
  });

  it('works on macOS and Windows, where there is no backend to ask about', async () => {
    t = tempStore();
    const secrets = new SafeStorageSecretStore(fakeSafeStorage({ backend: 'absent' }), t.store);
    await secrets.set('gw-01', 's');
    expect(await secrets.get('gw-01')).toBe('s');
  });

  it('refuses to save a secret on Linux without a keyring and says how to get one', async () => {
    t = tempStore();
    const secrets = new SafeStorageSecretStore(fakeSafeStorage({ backend: 'basic_text' }), t.store);
    const error = await rejection(secrets.set('gw-01', 'hunter2'));
    expect(error.code).toBe('SECRET_STORE_INSECURE');
    expect(error.hint).toMatch(/gnome-keyring|KWallet/);
    expect(t.store.getSecretBlob('gw-01')).toBeUndefined();
  });

  it('refuses to save a secret when the OS offers no encryption', async () => {
    t = tempStore();
    const secrets = new SafeStorageSecretStore(fakeSafeStorage({ available: false, backend: 'absent' }), t.store);
    expect((await rejection(secrets.set('gw-01', 'x'))).code).toBe('SECRET_STORE_INSECURE');
  });

  it('forgets a secret even when no keyring is available', async () => {
    t = tempStore();
    await new SafeStorageSecretStore(fakeSafeStorage(), t.store).set('gw-01', 'x');
    await new SafeStorageSecretStore(fakeSafeStorage({ available: false }), t.store).delete('gw-01');
    expect(t.store.getSecretBlob('gw-01')).toBeUndefined();
  });

  it('says a secret saved under another keyring cannot be read, instead of returning garbage', async () => {
    t = tempStore();
    t.store.setSecretBlob('gw-01', Buffer.from('v10-from-another-keyring'));
    const error = await rejection(new SafeStorageSecretStore(fakeSafeStorage(), t.store).get('gw-01'));
    expect(error).toMatchObject({ code: 'SECRET_UNREADABLE', detail: 'Error while decrypting the ciphertext' });
  });

  it('re-encrypts a secret when the keyring has rotated its key', async () => {
    t = tempStore();
    const rotated = fakeSafeStorage({ rotated: true });
    const secrets = new SafeStorageSecretStore(rotated, t.store);
    await secrets.set('gw-01', 's');
    const encrypt = vi.spyOn(rotated, 'encryptStringAsync');
    expect(await secrets.get('gw-01')).toBe('s');
    expect(encrypt).toHaveBeenCalledWith('s');
  });
});
