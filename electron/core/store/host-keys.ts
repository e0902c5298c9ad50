// Reading an SSH public key blob: its type and its SHA256 fingerprint, as OpenSSH shows them.
import { keyTypeOfBlob } from '../ssh/fingerprint.js';
import { PortwrightError } from '../errors.js';

export { fingerprintSha256 as fingerprintOf, keyTypeOfBlob as keyTypeOf } from '../ssh/fingerprint.js';

/** Decodes and checks a host key; the stored base64 is the canonical re-encoding. */
export function readHostKey(keyBase64: string, keyType?: string): { blob: Buffer; keyType: string } {
  const blob = Buffer.from(keyBase64, 'base64');
  const inBlob = keyTypeOfBlob(blob);
  if (blob.toString('base64') !== keyBase64 || inBlob === undefined || !/^[a-z0-9][a-z0-9@.-]*$/.test(inBlob)) {
    throw new PortwrightError({
      code: 'INVALID_INPUT',
      path: 'keyBase64',
      message: 'this is not an SSH public key blob',
      hint: 'Pass the base64 key exactly as the server sent it (the second field of a known_hosts line).',
    });
  }
  // ssh2 reports RSA keys by the signature algorithm (rsa-sha2-512); the blob still says ssh-rsa.
  if (keyType !== undefined && keyType !== inBlob) {
    throw new PortwrightError({
      code: 'INVALID_INPUT',
      path: 'keyType',
      message: `the key type "${keyType}" does not match the key, which is "${inBlob}"`,
      hint: 'Leave keyType out to take it from the key itself.',
    });
  }
  return { blob, keyType: inBlob };
}
