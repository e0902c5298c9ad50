// Runs host commands for the lab, with errors that say which command failed and what it printed.
import { execFile, spawn } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  /** Resolve with the exit code instead of rejecting when the command fails. */
  allowFail?: boolean;
}

export class CommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: RunResult,
  ) {
    const out = (result.stderr || result.stdout).trim().split('\n').slice(-5).join(' | ');
    super(`\`${argv.join(' ')}\` exited ${result.code}: ${out}`);
    this.name = 'CommandError';
  }
}

export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('run: empty command');
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        const result = { stdout, stderr, code };
        if (err && !opts.allowFail) reject(new CommandError(argv, result));
        else resolve(result);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Runs a shell script with `sh -c`. */
export function sh(script: string, opts: RunOptions = {}): Promise<RunResult> {
  return run(['sh', '-c', script], opts);
}

/**
 * Starts a long-lived process detached from our process group, so Ctrl-C in a terminal reaches
 * the lab's own handler first and the teardown decides the order things die in.
 */
export function spawnDetached(argv: string[], logFile: number): number {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('spawnDetached: empty command');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', logFile, logFile] });
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  return child.pid;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
