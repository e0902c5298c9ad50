// SSH keys for the lab: the client's key, each device's host key, and their fingerprints.
import { readFile } from 'node:fs/promises';
import { fingerprintSha256 } from '../../electron/core/ssh/fingerprint.js';
import { run } from './exec.js';

export interface PublicKey {
  /** e.g. `ssh-ed25519` */
  type: string;
  /** base64 key blob, as in authorized_keys / known_hosts */
  base64: string;
  /** `SHA256:…`, as OpenSSH prints it */
  fingerprint: string;
}

export function parsePublicKey(line: string): PublicKey {
  const [type, base64] = line.trim().split(/\s+/);
  if (!type || !base64) throw new Error(`not an OpenSSH public key line: ${line.slice(0, 40)}`);
  return { type, base64, fingerprint: fingerprintOf(base64) };
}

export function fingerprintOf(base64Blob: string): string {
  return fingerprintSha256(Buffer.from(base64Blob, 'base64'));
}

/** Makes an ed25519 key pair at `path` (and `path.pub`); returns the public key. */
export async function makeKey(path: string, comment: string, passphrase = ''): Promise<PublicKey> {
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', path]);
  return parsePublicKey(await readFile(`${path}.pub`, 'utf8'));
}

/** Dropbear wants its own key format; the key stays the same, so the fingerprint does too. */
export async function toDropbearKey(opensshKey: string, dropbearKey: string): Promise<void> {
  await run(['dropbearconvert', 'openssh', 'dropbear', opensshKey, dropbearKey]);
}
