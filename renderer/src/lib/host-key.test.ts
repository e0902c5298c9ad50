import { describe, expect, it } from 'vitest';
import { hostKeyQuestion } from './host-key';

const A = `SHA256:${'a'.repeat(43)}`;
const B = `SHA256:${'B'.repeat(43)}`;

describe('host-key questions', () => {
  it('asks about an unknown key with its fingerprint', () => {
    expect(
      hostKeyQuestion({
        code: 'HOST_KEY_UNKNOWN',
        message: `Portwright does not know the ssh-ed25519 host key of gw: ${A}.`,
        hint: 'check',
      }),
    ).toEqual({ kind: 'unknown', fingerprint: A, message: expect.any(String) as string, hint: 'check' });
  });

  it('shows a changed key with the presented and the trusted fingerprints', () => {
    const q = hostKeyQuestion({
      code: 'HOST_KEY_CHANGED',
      message: `The host key of gw has changed: it presented ssh-ed25519 ${B}, but Portwright's store expects ${A}. No credential was sent.`,
    });
    expect(q).toMatchObject({ kind: 'changed', presented: B, trusted: [A] });
  });

  it('has no question for other errors', () => {
    expect(hostKeyQuestion({ code: 'AUTH_FAILED', message: `nope ${A}` })).toBeUndefined();
  });
});
