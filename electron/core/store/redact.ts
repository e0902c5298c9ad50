// Keeps secrets out of what is written down: any value under a secret-sounding key is replaced.
const SECRET_KEY = /pass(word|phrase)?|secret|token|private.?key|credential/i;

export const REDACTED = '[redacted]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * A JSON copy of `value` with every secret-named key's value replaced, at any depth. Going through
 * JSON first means what is scrubbed is exactly what would be stored (toJSON, Buffers, Dates).
 */
export function redactSecrets(value: unknown): unknown {
  const json = JSON.stringify(value);
  return json === undefined ? null : scrub(JSON.parse(json) as unknown);
}

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, isSecretKey(key) ? REDACTED : scrub(v)] as const),
  );
}
