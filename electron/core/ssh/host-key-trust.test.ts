import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type PublicKey, fingerprintSha256, parsePublicKeyLine } from './fingerprint.js';
import { type HostKeyQuestion, type TrustedKey, decideHostKey, hostKeyError } from './host-key-trust.js';
import { type KnownKey, type LookupResult } from './known-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'portwright-trust-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeKey(name: string, type: string): PublicKey {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', join(dir, name)]);
  return parsePublicKeyLine(readFileSync(join(dir, `${name}.pub`), 'utf8'));
}

const device = makeKey('device', 'ed25519');
const impostor = makeKey('impostor', 'ed25519');
const deviceEcdsa = makeKey('device-ecdsa', 'ecdsa');

const stored = (k: PublicKey): TrustedKey => ({
  keyType: k.type,
  keyBase64: k.blob.toString('base64'),
  fingerprint: fingerprintSha256(k.blob),
});
const known = (k: PublicKey, line = 1): KnownKey => ({
  ...k,
  fingerprint: fingerprintSha256(k.blob),
  line,
  source: '/home/eng/.ssh/known_hosts',
});
const nothingKnown: LookupResult = { keys: [], revoked: [] };

function ask(presented: PublicKey, more: Partial<HostKeyQuestion> = {}) {
  return decideHostKey({ host: 'gateway-1', port: 22, presented, trusted: [], knownHosts: nothingKnown, ...more });
}

function refusal(presented: PublicKey, more: Partial<HostKeyQuestion> = {}) {
  const decision = ask(presented, more);
  if (decision.verdict === 'trusted') throw new Error('expected the key to be refused');
  return { decision, error: hostKeyError(decision, 'gateway-1', 22, 'packing-hall') };
}

describe('host-key trust', () => {
  it('connects to a device whose key Portwright already trusts', () => {
    expect(ask(device, { trusted: [stored(device)] })).toMatchObject({ verdict: 'trusted', via: 'store' });
  });

  it('connects to a device the user already trusts in ssh known_hosts', () => {
    const knownHosts = { keys: [known(device)], revoked: [] };
    expect(ask(device, { knownHosts })).toMatchObject({ verdict: 'trusted', via: 'known_hosts' });
  });

  it('refuses a changed host key and shows both fingerprints with the re-pin command', () => {
    const { decision, error } = refusal(impostor, { trusted: [stored(device)] });
    expect(decision).toEqual({
      verdict: 'changed',
      via: 'store',
      type: 'ssh-ed25519',
      presentedFingerprint: fingerprintSha256(impostor.blob),
      knownFingerprints: [fingerprintSha256(device.blob)],
    });
    expect(error.code).toBe('HOST_KEY_CHANGED');
    expect(error.message).toContain(fingerprintSha256(impostor.blob));
    expect(error.message).toContain(fingerprintSha256(device.blob));
    expect(error.hint).toMatch(/reinstalled/);
    expect(error.hint).toMatch(/pretending to be it/);
    expect(error.hint).toContain(`portwright device test packing-hall --host-key ${fingerprintSha256(impostor.blob)}`);
  });

  it('refuses a key that differs from the one in known_hosts', () => {
    const knownHosts = { keys: [known(device)], revoked: [] };
    expect(ask(impostor, { knownHosts })).toMatchObject({ verdict: 'changed', via: 'known_hosts' });
  });

  it('refuses a key marked @revoked even when it is otherwise trusted or pinned', () => {
    const knownHosts = { keys: [], revoked: [known(device, 12)] };
    const { decision, error } = refusal(device, {
      knownHosts,
      trusted: [stored(device)],
      pinnedFingerprint: fingerprintSha256(device.blob),
    });
    expect(decision).toMatchObject({ verdict: 'revoked', line: 12 });
    expect(error.code).toBe('HOST_KEY_CHANGED');
    expect(error.message).toContain(fingerprintSha256(device.blob));
    expect(error.message).toMatch(/@revoked \(\/home\/eng\/\.ssh\/known_hosts line 12\)/);
  });

  it('accepts a re-keyed device once the user pins its new fingerprint', () => {
    const pinnedFingerprint = fingerprintSha256(impostor.blob);
    expect(ask(impostor, { trusted: [stored(device)], pinnedFingerprint })).toMatchObject({
      verdict: 'trusted',
      via: 'pinned',
    });
  });

  it('refuses any key but the pinned one, even a key it trusted before', () => {
    const pinnedFingerprint = fingerprintSha256(impostor.blob);
    const { decision, error } = refusal(device, { trusted: [stored(device)], pinnedFingerprint });
    expect(decision).toMatchObject({ verdict: 'changed', via: 'pinned', knownFingerprints: [pinnedFingerprint] });
    expect(error.message).toContain('the pinned fingerprint expects');
  });

  it('asks about a device seen for the first time, showing its fingerprint and how to check it', () => {
    const { decision, error } = refusal(device);
    expect(decision).toEqual({
      verdict: 'unknown',
      type: 'ssh-ed25519',
      fingerprint: fingerprintSha256(device.blob),
      otherKnownTypes: [],
    });
    expect(error.code).toBe('HOST_KEY_UNKNOWN');
    expect(error.message).toContain(fingerprintSha256(device.blob));
    expect(error.hint).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    expect(error.hint).toContain('--accept-new-host-key');
    expect(error.hint).toContain(`--host-key ${fingerprintSha256(device.blob)}`);
  });

  it('trusts a first-seen device when the user accepts new keys, so the caller can store it', () => {
    expect(ask(device, { acceptNew: true })).toEqual({
      verdict: 'trusted',
      via: 'accepted-new',
      type: 'ssh-ed25519',
      fingerprint: fingerprintSha256(device.blob),
    });
  });

  it('warns when a device known by another key type offers a new type, and needs a pin for it', () => {
    const { decision, error } = refusal(deviceEcdsa, { trusted: [stored(device)], acceptNew: true });
    expect(decision).toMatchObject({ verdict: 'unknown', otherKnownTypes: ['ssh-ed25519'] });
    expect(error.code).toBe('HOST_KEY_UNKNOWN');
    expect(error.message).toMatch(/known by its ssh-ed25519 key, but now offers a ecdsa-sha2-nistp256 key/);
    expect(error.hint).toContain('ssh_host_ecdsa_key.pub');
    expect(error.hint).not.toContain('--accept-new-host-key');
  });

  it('names the port in messages for devices not on port 22', () => {
    const decision = ask(device);
    if (decision.verdict === 'trusted') throw new Error('expected unknown');
    expect(hostKeyError(decision, 'gateway-1', 2222).message).toContain('gateway-1 port 2222');
  });
});
