// Runs shell on a device over its SSH session, or on this computer for `local` (no session).
import { execFile } from 'node:child_process';
import type { SshSession } from '../ssh/session.js';
import type { Connection } from './connections.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a shell command through `session`, or here without one, optionally feeding it stdin. */
export function runScript(
  session: SshSession | undefined,
  command: string,
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const { input, timeoutMs = 30_000 } = opts;
  if (session) return session.exec(command, { timeoutMs, ...(input !== undefined ? { input } : {}) });
  return new Promise((resolve) => {
    const child = execFile(
      'sh',
      ['-c', command],
      { maxBuffer: 8 * 1024 * 1024, timeout: timeoutMs },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** The same on a device's connection. */
export function runOn(conn: Connection, command: string, input?: string): Promise<RunResult> {
  return runScript(conn.session, command, input !== undefined ? { input } : {});
}
