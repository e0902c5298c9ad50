// Whether to go on with a device's SSH host key, decided before any password or key is sent.
import { PortwrightError } from '../errors.js';
import { fingerprintSha256, type PublicKey } from './fingerprint.js';
import type { LookupResult } from './known-hosts.js';

/** A host key as Portwright's own store keeps it. */
export interface TrustedKey {
  keyType: string;
  keyBase64: string;
  fingerprint: string;
}

export type TrustSource = 'store' | 'known_hosts' | 'pinned';

export type HostKeyDecision =
  | { verdict: 'trusted'; via: TrustSource | 'accepted-new'; fingerprint: string; type: string }
  | {
      verdict: 'unknown';
      fingerprint: string;
      type: string;
      /** Key types this host is already known by; non-empty means "known, but not by this kind of key". */
      otherKnownTypes: string[];
    }
  | { verdict: 'changed'; presentedFingerprint: string; knownFingerprints: string[]; via: TrustSource; type: string }
  | { verdict: 'revoked'; fingerprint: string; type: string; source: string; line: number };

export type RefusedHostKey = Exclude<HostKeyDecision, { verdict: 'trusted' }>;

export interface HostKeyQuestion {
  host: string;
  port: number;
  presented: PublicKey;
  /** What Portwright's store holds for this same host:port. */
  trusted: TrustedKey[];
  /** known_hosts looked up for this same host:port. */
  knownHosts: LookupResult;
  /** From a script or `--host-key`: this key and no other, whatever else is known. */
  pinnedFingerprint?: string;
  /** The user said yes to a host seen for the first time. */
  acceptNew?: boolean;
}

export function decideHostKey(q: HostKeyQuestion): HostKeyDecision {
  const { type, blob } = q.presented;
  const fingerprint = fingerprintSha256(blob);

  const revoked = q.knownHosts.revoked.find((k) => k.blob.equals(blob));
  if (revoked) return { verdict: 'revoked', fingerprint, type, source: revoked.source, line: revoked.line };

  // A pin is how a user re-trusts a re-keyed device, so it overrides the store and known_hosts.
  if (q.pinnedFingerprint !== undefined) {
    if (q.pinnedFingerprint === fingerprint) return { verdict: 'trusted', via: 'pinned', fingerprint, type };
    return {
      verdict: 'changed',
      presentedFingerprint: fingerprint,
      knownFingerprints: [q.pinnedFingerprint],
      via: 'pinned',
      type,
    };
  }

  const stored = q.trusted.map((k) => ({ type: k.keyType, blob: Buffer.from(k.keyBase64, 'base64') }));
  const same = (k: PublicKey): boolean => k.type === type && k.blob.equals(blob);
  if (stored.some(same)) return { verdict: 'trusted', via: 'store', fingerprint, type };
  if (q.knownHosts.keys.some(same)) return { verdict: 'trusted', via: 'known_hosts', fingerprint, type };

  // A host knows one key per type; another key of that type is what a man in the middle looks like.
  const storedOfType = stored.filter((k) => k.type === type);
  const knownOfType = q.knownHosts.keys.filter((k) => k.type === type);
  if (storedOfType.length > 0 || knownOfType.length > 0) {
    const knownFingerprints = [...storedOfType, ...knownOfType].map((k) => fingerprintSha256(k.blob));
    return {
      verdict: 'changed',
      presentedFingerprint: fingerprint,
      knownFingerprints: [...new Set(knownFingerprints)],
      via: storedOfType.length > 0 ? 'store' : 'known_hosts',
      type,
    };
  }

  // Known only by other key types: OpenSSH calls this a new key and asks, so we answer 'unknown' too.
  // But a man in the middle can simply offer a type we do not know, so accept-new does not cover
  // it: the user must confirm this fingerprint by a pin, and the UI should warn with otherKnownTypes.
  const otherKnownTypes = [...new Set([...stored, ...q.knownHosts.keys].map((k) => k.type))];
  if (otherKnownTypes.length === 0 && q.acceptNew === true) {
    return { verdict: 'trusted', via: 'accepted-new', fingerprint, type };
  }
  return { verdict: 'unknown', fingerprint, type, otherKnownTypes };
}

const SOURCE_NAMES: Record<TrustSource, string> = {
  store: "Portwright's trusted keys",
  known_hosts: 'your known_hosts',
  pinned: 'the pinned fingerprint',
};

/** The error that stops the connection; `deviceName` fills in the re-pin command. */
export function hostKeyError(
  decision: RefusedHostKey,
  host: string,
  port: number,
  deviceName: string = host,
): PortwrightError {
  const where = port === 22 ? host : `${host} port ${port}`;
  const nothingSent = 'Portwright sent no password or key to it.';
  const checkOnDevice = `check the fingerprint on the device itself (${fingerprintCommand(decision.type)})`;

  switch (decision.verdict) {
    case 'changed':
      return new PortwrightError({
        code: 'HOST_KEY_CHANGED',
        message:
          `The host key of ${where} has changed: it presented ${decision.type} ${decision.presentedFingerprint}, ` +
          `but ${SOURCE_NAMES[decision.via]} expects ${decision.knownFingerprints.join(' or ')}. ${nothingSent}`,
        hint:
          'Either the device was reinstalled or re-keyed (new image, factory reset), or something between you ' +
          `and the device is pretending to be it. Before anything else, ${checkOnDevice}. Only if it matches, ` +
          `re-pin it: portwright device test ${deviceName} --host-key ${decision.presentedFingerprint}`,
      });
    case 'revoked':
      return new PortwrightError({
        code: 'HOST_KEY_CHANGED',
        message:
          `${where} presented the host key ${decision.fingerprint}, which is marked @revoked ` +
          `(${decision.source} line ${decision.line}). ${nothingSent}`,
        hint:
          'A revoked key is one its owner declared compromised: whoever holds it may be in the middle. Give the ' +
          `device new host keys, ${checkOnDevice}, and pin the new one: ` +
          `portwright device test ${deviceName} --host-key SHA256:…`,
      });
    case 'unknown': {
      const others = decision.otherKnownTypes;
      const known =
        others.length > 0
          ? ` It was known by its ${others.join(' and ')} key, but now offers a ${decision.type} key instead: ` +
            'a re-keyed device does that, and so does someone in the middle.'
          : '';
      // accept-new does not cover a host known by other key types (see decideHostKey), so don't offer it.
      const accept = others.length > 0 ? '' : 'connect again with --accept-new-host-key, or ';
      return new PortwrightError({
        code: 'HOST_KEY_UNKNOWN',
        message:
          `Portwright does not know the ${decision.type} host key of ${where}: ${decision.fingerprint}.${known} ` +
          nothingSent,
        hint: `First ${checkOnDevice}. If it matches, ${accept}pin it with --host-key ${decision.fingerprint}`,
      });
    }
  }
}

function fingerprintCommand(type: string): string {
  const name = type === 'ssh-rsa' ? 'rsa' : type.startsWith('ecdsa-') ? 'ecdsa' : 'ed25519';
  return `ssh-keygen -lf /etc/ssh/ssh_host_${name}_key.pub`;
}
