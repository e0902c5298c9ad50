import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PublicKey, fingerprintSha256, parsePublicKeyLine } from './fingerprint.js';
import { type HostKeyDecision, decideHostKey } from './host-key-trust.js';
import { lookupKnownHosts, parseKnownHosts } from './known-hosts.js';
import { makeHostVerifier } from './host-verifier.js';

const { Client } = ssh2;

const dir = mkdtempSync(join(tmpdir(), 'portwright-verifier-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function makeKey(name: string): PublicKey {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
  return parsePublicKeyLine(readFileSync(join(dir, `${name}.pub`), 'utf8'));
}

/** Runs the verifier the way ssh2 does and resolves with what it answered. */
function answer(verifier: (key: Buffer, cb: (ok: boolean) => void) => void, key: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    // ssh2 takes any returned value as the answer, so the verifier must return nothing at all.
    const asSsh2Calls: (key: Buffer, cb: (ok: boolean) => void) => unknown = verifier;
    const returned = asSsh2Calls(key, resolve);
    expect(returned).toBeUndefined();
  });
}

describe('host verifier for ssh2', () => {
  const device = makeKey('device');
  const trusted: HostKeyDecision = {
    verdict: 'trusted',
    via: 'store',
    type: device.type,
    fingerprint: fingerprintSha256(device.blob),
  };

  it('goes on only when the key is trusted, and remembers the decision', async () => {
    const seen: PublicKey[] = [];
    const { verifier, outcome } = makeHostVerifier((presented) => {
      seen.push(presented);
      return trusted;
    });
    expect(outcome()).toBeUndefined();
    expect(await answer(verifier, device.blob)).toBe(true);
    expect(seen).toEqual([device]); // the type comes from the key itself
    expect(outcome()).toBe(trusted);
  });

  it('stops the handshake when an asynchronous decision refuses the key', async () => {
    const changed: HostKeyDecision = {
      verdict: 'changed',
      via: 'store',
      type: device.type,
      presentedFingerprint: fingerprintSha256(device.blob),
      knownFingerprints: ['SHA256:other'],
    };
    const { verifier, outcome } = makeHostVerifier(() => Promise.resolve(changed));
    expect(await answer(verifier, device.blob)).toBe(false);
    expect(outcome()).toBe(changed);
  });

  it('stops the handshake when deciding fails, and keeps the reason', async () => {
    const broken = new Error('store is locked');
    const { verifier, outcome, failure } = makeHostVerifier(() => {
      throw broken;
    });
    expect(await answer(verifier, device.blob)).toBe(false);
    expect(outcome()).toBeUndefined();
    expect(failure()).toBe(broken);
  });

  it('stops the handshake when handed a hash instead of the key (hostHash set by mistake)', async () => {
    const { verifier, failure } = makeHostVerifier(() => trusted);
    const hex = 'ab12' as unknown as Buffer;
    expect(await answer(verifier, hex)).toBe(false);
    expect(String(failure())).toMatch(/hostHash/);
  });
});

// A real sshd proves the point that matters: on a refused key not even a username or key reaches it.
const canRunSshd = process.getuid?.() === 0 && existsSync('/usr/sbin/sshd');

describe.skipIf(!canRunSshd)('host verifier against a real sshd', () => {
  let sshd: ChildProcess | undefined;
  let log = '';
  let port = 0;
  let hostKey: PublicKey;
  const clientKey = join(dir, 'client');

  function waitForLog(pattern: RegExp, from = 0, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = () => {
        if (pattern.test(log.slice(from))) resolve();
        else if (Date.now() - started > timeoutMs) reject(new Error(`sshd never logged ${pattern}:\n${log}`));
        else setTimeout(poll, 20);
      };
      poll();
    });
  }

  beforeAll(async () => {
    hostKey = makeKey('ssh_host_ed25519_key');
    makeKey('client');
    const config = join(dir, 'sshd_config');
    writeFileSync(
      config,
      [
        `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
        `AuthorizedKeysFile ${clientKey}.pub`,
        'UsePAM no',
        'PidFile none',
        'StrictModes no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        // DEBUG1 logs every userauth request, so a credential sent would show in the log.
        'LogLevel DEBUG1',
        '',
      ].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege-separation directory
    port = await freePort();
    sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config, '-o', 'ListenAddress=127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    sshd.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
    await waitForLog(/Server listening on 127\.0\.0\.1 port/);
  });

  afterAll(() => {
    sshd?.kill('SIGTERM');
  });

  function connect(decide: Parameters<typeof makeHostVerifier>[0]) {
    const { verifier, outcome } = makeHostVerifier(decide);
    const client = new Client();
    const result = new Promise<'ready'>((resolve, reject) => {
      client.on('ready', () => resolve('ready')).on('error', reject);
    });
    client.connect({
      host: '127.0.0.1',
      port,
      username: 'root',
      privateKey: readFileSync(clientKey),
      hostVerifier: verifier,
      readyTimeout: 5000,
    });
    return { client, result, outcome };
  }

  it('connects when the key is the one in known_hosts (hashed, on a non-standard port)', async () => {
    const knownHostsFile = join(dir, 'known_hosts');
    writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostKey.type} ${hostKey.blob.toString('base64')}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', knownHostsFile], { stdio: 'pipe' });
    const { entries } = parseKnownHosts(readFileSync(knownHostsFile, 'utf8'), knownHostsFile);

    const { client, result, outcome } = connect(async (presented) => {
      await Promise.resolve(); // as a real check would, reading the store
      const knownHosts = lookupKnownHosts(entries, '127.0.0.1', port);
      return decideHostKey({ host: '127.0.0.1', port, presented, trusted: [], knownHosts });
    });
    try {
      await expect(result).resolves.toBe('ready');
      expect(outcome()).toMatchObject({ verdict: 'trusted', via: 'known_hosts' });
      // The control for the next test: an accepted key does lead to a publickey login.
      expect(log).toMatch(/Accepted publickey for root/);
    } finally {
      client.end();
    }
  });

  it('refuses a key that does not match the pinned fingerprint before sending any credential', async () => {
    const mark = log.length;
    const pinnedFingerprint = fingerprintSha256(makeKey('someone-else').blob);
    const { result, outcome } = connect((presented) =>
      decideHostKey({
        host: '127.0.0.1',
        port,
        presented,
        trusted: [],
        knownHosts: { keys: [], revoked: [] },
        pinnedFingerprint,
      }),
    );

    await expect(result).rejects.toThrow(/Host denied/);
    expect(outcome()).toEqual({
      verdict: 'changed',
      via: 'pinned',
      type: 'ssh-ed25519',
      presentedFingerprint: fingerprintSha256(hostKey.blob),
      knownFingerprints: [pinnedFingerprint],
    });
    await waitForLog(/Connection closed by 127\.0\.0\.1|Received disconnect from 127\.0\.0\.1/, mark);
    const thisConnection = log.slice(mark);
    expect(thisConnection).toMatch(/Connection from 127\.0\.0\.1/);
    expect(thisConnection).not.toMatch(/userauth-request/);
    expect(thisConnection).not.toMatch(/publickey/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
