// Errors as values: a stable code, a plain message, a hint, and where in the input it happened.
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
