// SSH public keys as OpenSSH writes them: key lines, wire-format blobs and SHA256 fingerprints.
import { createHash } from 'node:crypto';
import { PortwrightError } from '../errors.js';

export interface PublicKey {
  /** The key type named inside the blob, e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  type: string;
  /** The key in SSH wire format, exactly as sshd sends it during key exchange. */
  blob: Buffer;
}

/** The fingerprint `ssh-keygen -lf` prints: `SHA256:` and unpadded base64. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type a blob names in its first SSH string, or undefined when the blob is not one. */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) return undefined;
  const type = blob.toString('latin1', 4, 4 + length);
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

/**
 * Decodes the `type base64` pair of a key line. Returns the reason instead of throwing, so a
 * known_hosts parser can skip one bad line and keep the rest.
 */
export function decodePublicKey(type: string, base64: string): PublicKey | { reason: string } {
  // Buffer.from ignores junk in base64, so check the alphabet first or typos would decode silently.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return { reason: 'the key is not base64' };
  const blob = Buffer.from(base64, 'base64');
  const inner = keyTypeOfBlob(blob);
  if (inner === undefined || !isStringSequence(blob)) return { reason: 'the key data is not an SSH public key' };
  // OpenSSH refuses a line whose label disagrees with the blob; a mislabelled key is a damaged file.
  if (inner !== type) return { reason: `the line says ${type} but the key inside is ${inner}` };
  return { type, blob };
}

/** Parses `type base64 [comment]`, as in a `.pub` file or authorized_keys without options. */
export function parsePublicKeyLine(line: string): PublicKey {
  const [type, base64] = line.trim().split(/\s+/);
  const decoded = type && base64 ? decodePublicKey(type, base64) : { reason: 'expected "type base64 [comment]"' };
  if ('reason' in decoded) {
    throw new PortwrightError({
      code: 'BAD_PUBLIC_KEY',
      message: `This is not an SSH public key: ${decoded.reason}.`,
      hint: 'Copy the whole line of the .pub file, e.g. "ssh-ed25519 AAAAC3Nza... comment".',
    });
  }
  return decoded;
}

/** Every public key format is length-prefixed fields end to end: type, then at least one more. */
function isStringSequence(blob: Buffer): boolean {
  let offset = 0;
  let fields = 0;
  while (offset + 4 <= blob.length) {
    offset += 4 + blob.readUInt32BE(offset);
    fields++;
  }
  return offset === blob.length && fields >= 2;
}
