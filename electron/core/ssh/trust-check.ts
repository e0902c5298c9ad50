// Binds host-key trust to a session: Portwright's store plus the user's known_hosts decide, a key
// accepted or pinned by the user is remembered, and anything else stops the connection.
import type { Store } from '../store/db.js';
import { keyTypeOfBlob } from './fingerprint.js';
import { decideHostKey, hostKeyError } from './host-key-trust.js';
import { lookupKnownHosts, type KnownHostsEntry } from './known-hosts.js';
import type { HostKeyCheck } from './session.js';

export interface TrustOptions {
  store: Store;
  knownHosts: KnownHostsEntry[];
  /** `--host-key SHA256:…`: this key and no other (also how a changed key is re-pinned). */
  pinnedFingerprint?: string;
  /** `--accept-new-host-key`, or the user's yes in the GUI: trust a host seen for the first time. */
  acceptNew?: boolean;
  /** For messages: the device as the user named it. */
  deviceName?: string;
  /** The saved device, when there is one: host-key changes are audited under it. */
  savedDevice?: string;
}

export function storeHostKeyCheck(o: TrustOptions): HostKeyCheck {
  return (host, port, blob) => {
    const type = keyTypeOfBlob(blob) ?? 'unknown';
    const stored = o.store.getTrustedHostKeys(host, port);
    const decision = decideHostKey({
      host,
      port,
      presented: { type, blob },
      trusted: stored,
      knownHosts: lookupKnownHosts(o.knownHosts, host, port),
      ...(o.pinnedFingerprint !== undefined ? { pinnedFingerprint: o.pinnedFingerprint } : {}),
      ...(o.acceptNew !== undefined ? { acceptNew: o.acceptNew } : {}),
    });
    if (decision.verdict !== 'trusted') throw hostKeyError(decision, host, port, o.deviceName);
    const keyBase64 = blob.toString('base64');
    const device = o.savedDevice !== undefined ? { device: o.savedDevice } : {};
    if (decision.via === 'accepted-new') {
      o.store.trustHostKey({ host, port, keyBase64, source: 'accepted', ...device });
    } else if (decision.via === 'pinned') {
      const sameType = stored.find((k) => k.keyType === decision.type);
      // Re-pinning a changed key is its own, audited act; a first pin is a plain trust.
      if (!sameType) o.store.trustHostKey({ host, port, keyBase64, source: 'pinned', ...device });
      else if (sameType.keyBase64 !== keyBase64) o.store.repinHostKey({ host, port, keyBase64, ...device });
    }
  };
}
