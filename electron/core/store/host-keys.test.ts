// Trusting device host keys: first use, refusing a changed key, the explicit re-pin, forgetting.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprintOf, keyTypeOf } from './host-keys.js';
import { tempStore, thrown, type TempStore } from './test-store.js';

// Made with ssh-keygen; fingerprints as `ssh-keygen -l` printed them.
const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAILVvCMGhihDK7xEMlqYf95qa2dx6xW7azi2WVMTxhehE';
const FP_A = 'SHA256:9PPeYUAgwTGB3TKUyDxyiix2ANAGUXyv+TD8DV1QKgk';
const KEY_B = 'AAAAC3NzaC1lZDI1NTE5AAAAIE1FBRBN0hR4xqWRFcIxCyuI+vKYMxyzwZAY8ir2REAk';
const FP_B = 'SHA256:xMFL1bVQA2vpruSLO/9PGBcsVPd+UF3HKzXjKOfyQFk';

/** A fresh ed25519 host key blob, in the wire format sshd sends. */
function freshKey(): string {
  const { x } = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const type = Buffer.from('ssh-ed25519');
  const raw = Buffer.from(x ?? '', 'base64url');
  const sshString = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([sshString(type), sshString(raw)]).toString('base64');
}

describe('host key fingerprints', () => {
  it('matches what ssh-keygen shows the user', () => {
    expect(fingerprintOf(Buffer.from(KEY_A, 'base64'))).toBe(FP_A);
    expect(fingerprintOf(Buffer.from(KEY_B, 'base64'))).toBe(FP_B);
  });

  it('reads the key type from the key itself', () => {
    expect(keyTypeOf(Buffer.from(KEY_A, 'base64'))).toBe('ssh-ed25519');
    expect(keyTypeOf(Buffer.from('nonsense'))).toBeUndefined();
  });
});

describe('trusted host keys', () => {
  let t: TempStore;
  afterEach(() => t.cleanup());

  it('remembers an accepted key with its type and fingerprint', () => {
    t = tempStore();
    const key = t.store.trustHostKey({ host: '198.18.0.10', keyBase64: KEY_A });
    expect(key).toMatchObject({ host: '198.18.0.10', port: 22, keyType: 'ssh-ed25519', fingerprint: FP_A });
    expect(key.source).toBe('accepted');
    expect(t.store.getTrustedHostKeys('198.18.0.10', 22)).toEqual([key]);
    expect(t.store.getTrustedHostKeys('198.18.0.10', 2222)).toEqual([]);
  });

  it('accepts the same key again without asking', () => {
    t = tempStore();
    const first = t.store.trustHostKey({ host: 'gw.local', keyBase64: KEY_A, source: 'pinned' });
    expect(t.store.trustHostKey({ host: 'GW.local', keyBase64: KEY_A })).toEqual(first);
  });

  it('refuses to replace a trusted host key silently and shows both fingerprints', () => {
    t = tempStore();
    t.store.trustHostKey({ host: 'gw.local', keyBase64: KEY_A, device: 'gw-01' });
    const error = thrown(() => t.store.trustHostKey({ host: 'gw.local', keyBase64: KEY_B, device: 'gw-01' }));
    expect(error.code).toBe('HOST_KEY_CHANGED');
    expect(error.message).toContain(FP_A);
    expect(error.message).toContain(FP_B);
    expect(t.store.getTrustedHostKeys('gw.local')[0]?.fingerprint).toBe(FP_A);
    expect(t.store.listAudit({ device: 'gw-01', limit: 1 })[0]).toMatchObject({
      action: 'host-key.trust',
      result: 'failed',
      error: { code: 'HOST_KEY_CHANGED' },
    });
  });

  it('replaces a key only when re-pinned, and records old and new fingerprints', () => {
    t = tempStore();
    t.store.trustHostKey({ host: 'gw.local', keyBase64: KEY_A });
    const key = t.store.repinHostKey({ host: 'gw.local', keyBase64: KEY_B, device: 'gw-01' });
    expect(key).toMatchObject({ fingerprint: FP_B, source: 'repinned' });
    expect(t.store.getTrustedHostKeys('gw.local')).toEqual([key]);
    expect(t.store.listAudit({ device: 'gw-01' })[0]).toMatchObject({
      action: 'host-key.repin',
      result: 'ok',
      detail: { oldFingerprint: FP_A, newFingerprint: FP_B },
    });
  });

  it('keeps keys of different types for one host side by side', () => {
    t = tempStore();
    t.store.trustHostKey({ host: 'gw.local', keyBase64: KEY_A });
    const rsaLike = Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa'), Buffer.alloc(20, 1)]);
    t.store.trustHostKey({ host: 'gw.local', keyBase64: rsaLike.toString('base64') });
    expect(t.store.getTrustedHostKeys('gw.local').map((k) => k.keyType)).toEqual(['ssh-ed25519', 'ssh-rsa']);
  });

  it('refuses a key whose stated type does not match the key', () => {
    t = tempStore();
    const error = thrown(() => t.store.trustHostKey({ host: 'gw', keyType: 'rsa-sha2-512', keyBase64: KEY_A }));
    expect(error).toMatchObject({ code: 'INVALID_INPUT', path: 'keyType' });
    expect(thrown(() => t.store.trustHostKey({ host: 'gw', keyBase64: 'AAAA' })).path).toBe('keyBase64');
  });

  it('forgets the keys of one host and port, so the next connection asks again', () => {
    t = tempStore();
    t.store.trustHostKey({ host: 'gw.local', keyBase64: freshKey() });
    t.store.trustHostKey({ host: 'gw.local', port: 2222, keyBase64: KEY_B });
    expect(t.store.forgetHostKeys('gw.local', 22)).toHaveLength(1);
    expect(t.store.getTrustedHostKeys('gw.local', 22)).toEqual([]);
    expect(t.store.getTrustedHostKeys('gw.local', 2222)).toHaveLength(1);
    expect(t.store.listAudit({ limit: 1 })[0]?.action).toBe('host-key.forget');
  });
});
