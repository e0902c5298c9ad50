import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from './index.js';
import { missingSecret, promptHidden, secretFromStdin } from './secret-input.js';

describe('secrets for the CLI', () => {
  it('knows which errors a password or passphrase would fix', () => {
    expect(missingSecret({ code: 'PASSWORD_NEEDED', message: '' }, 'gw')).toBe('password');
    expect(missingSecret({ code: 'KEY_PASSPHRASE_NEEDED', message: '' }, 'gw')).toBe('passphrase');
    expect(missingSecret({ code: 'NO_CREDENTIALS', message: '' }, 'ssh://op@10.0.0.2')).toBe('password');
    // A saved device without credentials is a setup problem, not a missing password.
    expect(missingSecret({ code: 'NO_CREDENTIALS', message: '' }, 'gw')).toBeNull();
    expect(missingSecret({ code: 'AUTH_FAILED', message: '' }, 'gw')).toBeNull();
  });

  it('takes the first line of stdin, without its line end', () => {
    expect(secretFromStdin('s3cret\n')).toBe('s3cret');
    expect(secretFromStdin('s3cret\r\nignored\n')).toBe('s3cret');
    expect(secretFromStdin('  spaces kept ')).toBe('  spaces kept ');
    expect(secretFromStdin('\n')).toBe('');
  });

  it('asks with echo off: raw mode on while typing, backspace edits, and nothing echoed', async () => {
    const input = Object.assign(new PassThrough(), { isRaw: false, modes: [] as boolean[] });
    const tty = Object.assign(input, {
      isTTY: true,
      setRawMode(mode: boolean) {
        input.modes.push(mode);
        input.isRaw = mode;
        return input;
      },
    });
    let shown = '';
    const output = new PassThrough();
    output.on('data', (d: Buffer) => (shown += d.toString()));
    const answer = promptHidden('Password for gw: ', tty, output);
    tty.write('pa');
    tty.write('x\u007fss\r');
    expect(await answer).toBe('pass');
    expect(input.modes).toEqual([true, false]);
    expect(shown).toBe('Password for gw: \n');
  });

  it('treats Ctrl-C at the prompt as a cancel', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
    const answer = promptHidden('Password: ', tty, new PassThrough());
    tty.write('ab\u0003');
    expect(await answer).toBeNull();
  });
});

describe('portwright CLI with a device that needs a password or passphrase', () => {
  let home: string;
  const saved = { home: process.env.PORTWRIGHT_HOME, agent: process.env.SSH_AUTH_SOCK };
  // Nothing listens on port 1: a connect that gets that far fails with CONNECT_REFUSED, which
  // proves the secret was taken and the device was tried, without a device.
  const closed = 'ssh://op@127.0.0.1:1';

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pw-cli-secret-'));
    process.env.PORTWRIGHT_HOME = home;
    delete process.env.SSH_AUTH_SOCK;
  });
  afterAll(async () => {
    if (saved.home === undefined) delete process.env.PORTWRIGHT_HOME;
    else process.env.PORTWRIGHT_HOME = saved.home;
    if (saved.agent !== undefined) process.env.SSH_AUTH_SOCK = saved.agent;
    await rm(home, { recursive: true, force: true });
  });

  async function cli(io: Partial<CliIo>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t), ...io });
    return { code, out, err };
  }

  it('says in one line how to give the password when there is no terminal and no --password-stdin', async () => {
    const r = await cli({}, 'device', 'test', closed);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^error NO_CREDENTIALS: .*Hint: .*--password-stdin/);
  });

  it('asks on the terminal, with the target in the prompt, and uses the answer', async () => {
    const prompts: string[] = [];
    const r = await cli(
      { askSecret: (p) => (prompts.push(p), Promise.resolve('s3cret-pw')) },
      'device',
      'test',
      closed,
    );
    expect(prompts).toEqual([`Password for ${closed}: `]);
    expect(r.err).toContain('CONNECT_REFUSED');
    expect(r.err + r.out).not.toContain('s3cret-pw');
  });

  it('reads the password of a saved password device from stdin with --password-stdin', async () => {
    const add = await cli({}, 'device', 'add', 'pwdev', '--host', '127.0.0.1', '--port', '1', '--auth', 'password');
    expect(add.code).toBe(0);
    expect(add.out).toMatch(/auth\s+password/);
    let asked = 0;
    const io: Partial<CliIo> = {
      readStdin: () => Promise.resolve('s3cret-pw\n'),
      askSecret: () => (asked++, Promise.resolve('wrong')),
    };
    const r = await cli(io, 'networks', 'pwdev', '--password-stdin');
    expect(asked).toBe(0);
    expect(r.err).toContain('CONNECT_REFUSED');
    expect(r.err + r.out).not.toContain('s3cret-pw');

    const none = await cli({}, 'networks', 'pwdev');
    expect(none.err).toMatch(/^error PASSWORD_NEEDED: .*--password-stdin/);
    const empty = await cli({ readStdin: () => Promise.resolve('') }, 'networks', 'pwdev', '--password-stdin');
    expect(empty.err).toMatch(/^error INVALID_INPUT: --password-stdin was given but nothing came on stdin/);
  });

  it('asks for the passphrase of an encrypted key before contacting the device', async () => {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { passphrase: 'key-pass', cipher: 'aes256-ctr', rounds: 4 });
    const keyFile = join(home, 'id_enc');
    await writeFile(keyFile, pair.private, { mode: 0o600 });
    const ask = (answer: string): Partial<CliIo> => ({ askSecret: () => Promise.resolve(answer) });

    const wrong = await cli(ask('nope'), 'device', 'test', closed, '--identity', keyFile);
    expect(wrong.err).toMatch(/^error KEY_PASSPHRASE: /);
    const right = await cli(ask('key-pass'), 'device', 'test', closed, '--identity', keyFile);
    expect(right.err).toContain('CONNECT_REFUSED');
    const piped = await cli(
      { readStdin: () => Promise.resolve('key-pass\n') },
      'device',
      'test',
      closed,
      '--identity',
      keyFile,
      '--password-stdin',
    );
    expect(piped.err).toContain('CONNECT_REFUSED');
  });

  it('ends with CANCELLED when the prompt is cancelled', async () => {
    const r = await cli({ askSecret: () => Promise.resolve(null) }, 'device', 'test', closed);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error CANCELLED/);
  });
});
