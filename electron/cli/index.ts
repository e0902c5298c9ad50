// The `portwright` command: the core service for scripts, CI and headless commissioning.
import { Command, CommanderError } from 'commander';
import type { ErrorInfo } from '../core/contract.js';
import { formatErrorLine } from '../core/errors.js';
import { packageVersion, Service } from '../core/service.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

class CliFailure extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
  }
}

/** Calls a core method and unwraps its result; failures become one clear line and exit 1. */
async function call<T>(service: Service, method: string, input: unknown): Promise<T> {
  const result = await service.invoke(method, input);
  if (!result.ok) throw new CliFailure(result.error);
  return result.data as T;
}

export function buildProgram(service: Service, io: CliIo): Command {
  const program = new Command('portwright')
    .description('Commission the container networks of embedded Linux devices over SSH.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run `portwright --help` for usage)')
    .exitOverride();

  program
    .command('info')
    .description('show the version and platform of the Portwright core')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const info = await call<Record<string, string>>(service, 'appInfo', {});
      if (opts.json) io.out(`${JSON.stringify(info, null, 2)}\n`);
      else
        io.out(
          Object.entries(info)
            .map(([k, v]) => `${k.padEnd(10)} ${v}`)
            .join('\n') + '\n',
        );
    });

  return program;
}

/** Runs the CLI; returns the exit code: 0 success, 1 failure, 2 usage. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const service = new Service({ frontEnd: 'cli' });
  const program = buildProgram(service, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
        return 0;
      return 2;
    }
    if (e instanceof CliFailure) {
      io.err(`${formatErrorLine(e.info)}\n`);
      return 1;
    }
    io.err(`error INTERNAL: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
