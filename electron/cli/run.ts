// Process entry of the CLI: real stdout/stderr and exit code.
import { main } from './index.js';

const code = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
process.exitCode = code;
