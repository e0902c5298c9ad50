// Plugs the host-key decision into ssh2's `hostVerifier`, so authentication never starts on a bad key.
import { keyTypeOfBlob, type PublicKey } from './fingerprint.js';
import type { HostKeyDecision } from './host-key-trust.js';

export type DecideHostKey = (presented: PublicKey) => HostKeyDecision | Promise<HostKeyDecision>;

export interface HostVerifier {
  /**
   * ssh2's `hostVerifier`. Do not set `hostHash`: that would hand us a hex digest instead of the
   * key, and a digest names neither the key type nor the key the user has to be shown.
   */
  verifier: (key: Buffer, callback: (ok: boolean) => void) => void;
  /** The decision for the latest key exchange; undefined until one is made. */
  outcome: () => HostKeyDecision | undefined;
  /** Why no decision was made (the key could not be read, or `decide` threw), if that happened. */
  failure: () => unknown;
}

export function makeHostVerifier(decide: DecideHostKey): HostVerifier {
  let outcome: HostKeyDecision | undefined;
  let failure: unknown;

  // ssh2 takes any returned value as the answer, so this returns nothing and answers through the
  // callback: ssh2 then holds NEWKEYS, and with it all of authentication, until we say yes.
  const verifier = (key: Buffer, callback: (ok: boolean) => void): void => {
    outcome = undefined;
    failure = undefined;
    const type = Buffer.isBuffer(key) ? keyTypeOfBlob(key) : undefined;
    if (type === undefined) {
      failure = new Error('ssh2 passed no readable host key (is hostHash set?)');
      callback(false);
      return;
    }
    void Promise.resolve()
      .then(() => decide({ type, blob: key }))
      .then(
        (decision) => {
          outcome = decision;
          callback(decision.verdict === 'trusted');
        },
        (e: unknown) => {
          failure = e;
          callback(false);
        },
      );
  };

  return { verifier, outcome: () => outcome, failure: () => failure };
}
