// Where passwords and passphrases go instead of the inventory: an OS keyring, or only this process.

export interface SecretStore {
  /** True when secrets outlive the process (an OS keyring); false for the CLI's memory store. */
  readonly persistent: boolean;
  get(account: string): Promise<string | undefined>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<void>;
}

/** The narrow slice of the inventory a keyring-backed store uses: opaque, already-encrypted blobs. */
export interface SecretBlobStore {
  getSecretBlob(account: string): Buffer | undefined;
  setSecretBlob(account: string, blob: Buffer): void;
  deleteSecretBlob(account: string): void;
}

/** For the CLI: secrets asked for once per run and never written anywhere. */
export class MemorySecretStore implements SecretStore {
  readonly persistent = false;
  private readonly secrets = new Map<string, string>();

  get(account: string): Promise<string | undefined> {
    return Promise.resolve(this.secrets.get(account));
  }

  set(account: string, secret: string): Promise<void> {
    this.secrets.set(account, secret);
    return Promise.resolve();
  }

  delete(account: string): Promise<void> {
    this.secrets.delete(account);
    return Promise.resolve();
  }
}
