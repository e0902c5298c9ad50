// Process entry of the CLI: real stdout/stderr, yes/no and password prompts on a terminal, and the exit code.
import { createInterface } from 'node:readline/promises';
import { main } from './index.js';
import { promptHidden, readAll } from './secret-input.js';

const code = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  readStdin: () => readAll(process.stdin),
  ...(process.stdin.isTTY && process.stderr.isTTY
    ? {
        askSecret: (prompt: string) => promptHidden(prompt, process.stdin, process.stderr),
        confirm: async (question: string) => {
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
          } finally {
            rl.close();
          }
        },
      }
    : {}),
});
process.exitCode = code;
// Done: a connection still winding down (an SSH socket, a keep-alive timer) must not keep the command alive.
setTimeout(() => process.exit(code), 2000).unref();
