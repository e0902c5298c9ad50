// Where the CLI gets a password or key passphrase it must not store: a prompt on the terminal with
// echo off, or stdin for scripts (--password-stdin). Nothing here writes a secret anywhere.
import type { ErrorInfo } from '../core/contract.js';

/** What a connect needs that only the user can give, by the core's error code. */
export type SecretKind = 'password' | 'passphrase';

/** The secret a failed call is missing, if its error says so; `null` if it is not about a secret. */
export function missingSecret(error: ErrorInfo, target: string): SecretKind | null {
  if (error.code === 'PASSWORD_NEEDED') return 'password';
  if (error.code === 'KEY_PASSPHRASE_NEEDED') return 'passphrase';
  // An ssh:// target with no key and no agent: ask for its password, as ssh does.
  if (error.code === 'NO_CREDENTIALS' && target.startsWith('ssh://')) return 'password';
  return null;
}

/** The line a user sees when a secret is needed and cannot be asked for. */
export function secretUnavailable(kind: SecretKind, error: ErrorInfo): ErrorInfo {
  return {
    code: error.code,
    message: error.message,
    hint:
      `No terminal to ask for the ${kind} on: pipe it in with --password-stdin ` +
      `(e.g. \`printf '%s\\n' "$SECRET" | portwright … --password-stdin\`)` +
      (kind === 'passphrase' ? ', or load the key into ssh-agent.' : '.'),
  };
}

/** The prompt for a secret; never includes the secret. */
export function promptFor(kind: SecretKind, target: string): string {
  return kind === 'password' ? `Password for ${target}: ` : `Passphrase for the key of ${target}: `;
}

/**
 * The secret from piped stdin: everything up to the first line end (a trailing newline is how
 * `echo` and `printf '%s\n'` hand it over; it is never part of the secret).
 */
export function secretFromStdin(text: string): string {
  const nl = text.search(/\r?\n/);
  return nl === -1 ? text : text.slice(0, nl);
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += String(chunk);
  return text;
}

interface TtyIn extends NodeJS.ReadableStream {
  isTTY?: boolean;
  isRaw?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/**
 * Asks on the terminal with echo off: the prompt goes to stderr (stdout may be a pipe to a script),
 * keys are read in raw mode so nothing is shown. Enter ends; Backspace edits; Ctrl-C, or Ctrl-D on
 * an empty line, cancels (resolves null).
 */
export function promptHidden(prompt: string, input: TtyIn, output: NodeJS.WritableStream): Promise<string | null> {
  return new Promise((resolve) => {
    const setRaw = input.setRawMode?.bind(input);
    const wasRaw = input.isRaw ?? false;
    let secret = '';
    const finish = (answer: string | null): void => {
      input.off('data', onData);
      setRaw?.(wasRaw);
      input.pause();
      output.write('\n');
      resolve(answer);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') {
          finish(secret);
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && secret === '')) {
          finish(null);
          return;
        }
        if (ch === '\u007f' || ch === '\b') secret = secret.slice(0, -1);
        else if (ch >= ' ') secret += ch;
      }
    };
    output.write(prompt);
    setRaw?.(true);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
  });
}
