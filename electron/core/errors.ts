// Errors as values: a stable code, a plain message, a hint, and where in the input it happened.
import type { z } from 'zod';
import type { ErrorInfo } from './contract.js';

export class PortwrightError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly path: string | undefined;
  /** What the other side (Docker, sshd) said, kept alongside our own message. */
  readonly detail: string | undefined;

  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'PortwrightError';
    this.code = info.code;
    this.hint = info.hint;
    this.path = info.path;
    this.detail = info.detail;
  }

  toInfo(): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.message };
    if (this.hint !== undefined) info.hint = this.hint;
    if (this.path !== undefined) info.path = this.path;
    if (this.detail !== undefined) info.detail = this.detail;
    return info;
  }
}

/** Turns anything thrown into an ErrorInfo; unexpected errors keep their message but no stack. */
export function toErrorInfo(e: unknown): ErrorInfo {
  if (e instanceof PortwrightError) return e.toInfo();
  const message = e instanceof Error ? e.message : String(e);
  return {
    code: 'INTERNAL',
    message: message || 'unexpected error',
    hint: 'This is a bug in Portwright; please report it with the steps that led here.',
  };
}

/** One line for a terminal: `CODE: message (hint)`. */
export function formatErrorLine(info: ErrorInfo): string {
  const where = info.path ? ` at ${info.path}` : '';
  const hint = info.hint ? ` Hint: ${info.hint}` : '';
  return `error ${info.code}${where}: ${info.message.replace(/\.$/, '')}.${hint}`.replace(/\n/g, ' ');
}

/** `['networks', 1, 'ipv4']` → `networks[1].ipv4` */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** The first problem of a failed parse, with its path; an unknown key is pointed at itself. */
export function zodErrorInfo(error: z.ZodError): ErrorInfo {
  const first = error.issues[0];
  const where = first?.code === 'unrecognized_keys' ? [...first.path, ...first.keys.slice(0, 1)] : (first?.path ?? []);
  const path = formatPath(where);
  return {
    code: 'INVALID_INPUT',
    message: first ? first.message : 'invalid input',
    hint:
      error.issues.length > 1
        ? `${error.issues.length - 1} more problem(s) in the same input`
        : 'Check the value and try again.',
    ...(path ? { path } : {}),
  };
}

/** Parses input or throws INVALID_INPUT naming the first problem. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new PortwrightError(zodErrorInfo(parsed.error));
}
