// What a host-key refusal says, as data for the decision dialog: the core puts the fingerprints in
// its message (SHA256:… has a fixed shape), and the code says which case it is.
import type { ErrorInfo } from '../../../electron/core/contract';

export type HostKeyQuestion =
  | { kind: 'unknown'; fingerprint: string; message: string; hint?: string }
  | { kind: 'changed'; presented: string; trusted: string[]; message: string; hint?: string };

const FINGERPRINT = /SHA256:[A-Za-z0-9+/]{43}/g;

export function hostKeyQuestion(e: ErrorInfo): HostKeyQuestion | undefined {
  const found = [...new Set(e.message.match(FINGERPRINT) ?? [])];
  const extra = e.hint !== undefined ? { hint: e.hint } : {};
  if (e.code === 'HOST_KEY_UNKNOWN' && found[0])
    return { kind: 'unknown', fingerprint: found[0], message: e.message, ...extra };
  if (e.code === 'HOST_KEY_CHANGED' && found.length > 0) {
    // The core names the key the device presented first, then the one(s) it trusted.
    const [presented = '', ...trusted] = found;
    return { kind: 'changed', presented, trusted, message: e.message, ...extra };
  }
  return undefined;
}
