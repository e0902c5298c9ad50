// What the plan checker reports: one finding per problem, each with a stable code and where it is.
import { formatPath } from '../errors.js';
import type { Finding, Severity } from './types.js';

export type { Finding, Severity } from './types.js';

export type PathKey = string | number;

export class Findings {
  readonly list: Finding[] = [];

  add(severity: Severity, path: readonly PathKey[], code: string, message: string, hint?: string): void {
    this.list.push({ severity, code, path: formatPath(path), message, ...(hint ? { hint } : {}) });
  }
  error(path: readonly PathKey[], code: string, message: string, hint?: string): void {
    this.add('error', path, code, message, hint);
  }
  warn(path: readonly PathKey[], code: string, message: string, hint?: string): void {
    this.add('warning', path, code, message, hint);
  }
  notice(path: readonly PathKey[], code: string, message: string, hint?: string): void {
    this.add('notice', path, code, message, hint);
  }
}

export const hasErrors = (findings: readonly Finding[]): boolean => findings.some((f) => f.severity === 'error');

/** One line for a terminal: `file:12:7 error GATEWAY_OUTSIDE_SUBNET at networks[0].ipv4.gateway: … Hint: …` */
export function formatFinding(f: Finding, source?: string): string {
  const pos = source ? `${source}${f.line ? `:${f.line}:${f.column ?? 1}` : ''} ` : '';
  const where = f.path ? ` at ${f.path}` : '';
  const hint = f.hint ? ` Hint: ${f.hint}` : '';
  return `${pos}${f.severity} ${f.code}${where}: ${f.message.replace(/\.$/, '')}.${hint}`.replace(/\n/g, ' ');
}
