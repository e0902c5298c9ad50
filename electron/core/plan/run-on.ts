// Runs shell on a device over its SSH session, or on this computer for `local`.
import { execFile } from 'node:child_process';
import type { Connection } from '../devices/connections.js';

/** Runs a shell command on the device (or here, for `local`), optionally feeding it stdin. */
export function runOn(
  conn: Connection,
  command: string,
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  if (conn.session) return conn.session.exec(command, { timeoutMs: 30_000, ...(input !== undefined ? { input } : {}) });
  return new Promise((resolve) => {
    const child = execFile('sh', ['-c', command], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}
