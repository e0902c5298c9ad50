import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PortwrightError } from '../errors.js';
import { fingerprintSha256, keyTypeOfBlob, parsePublicKeyLine } from './fingerprint.js';

const dir = mkdtempSync(join(tmpdir(), 'portwright-fp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeKey(name: string, type: string): string {
  const bits = type === 'rsa' ? ['-b', '2048'] : []; // the default 3072 takes seconds on a slow machine
  execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', `${name}@test`, '-f', join(dir, name)]);
  return join(dir, `${name}.pub`);
}

describe('SSH key fingerprints', () => {
  it.each(['ed25519', 'ecdsa', 'rsa'])('shows the same SHA256 fingerprint as ssh-keygen -lf for %s keys', (type) => {
    const pub = makeKey(type, type);
    const key = parsePublicKeyLine(readFileSync(pub, 'utf8'));
    const printed = execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' }).split(' ')[1];
    expect(fingerprintSha256(key.blob)).toBe(printed);
  });

  it('reads the key type both from the line and from inside the key', () => {
    const key = parsePublicKeyLine(readFileSync(makeKey('typed', 'ecdsa'), 'utf8'));
    expect(key.type).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOfBlob(key.blob)).toBe('ecdsa-sha2-nistp256');
  });

  it('refuses a line whose label does not match the key inside it', () => {
    const [, base64] = readFileSync(makeKey('mislabelled', 'ed25519'), 'utf8').split(' ');
    expect(() => parsePublicKeyLine(`ssh-rsa ${base64}`)).toThrow(/says ssh-rsa but the key inside is ssh-ed25519/);
  });

  it('refuses text that is not a public key with BAD_PUBLIC_KEY and a hint', () => {
    for (const line of ['', 'ssh-ed25519', 'ssh-ed25519 not*base64', 'ssh-ed25519 AAAA']) {
      let error: unknown;
      try {
        parsePublicKeyLine(line);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PortwrightError);
      expect(error).toMatchObject({ code: 'BAD_PUBLIC_KEY', hint: expect.stringContaining('.pub') as string });
    }
  });
});
