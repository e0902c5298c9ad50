// The core's SSH session and Docker tunnel against real lab devices: strategies and their fallbacks,
// users and permissions, a jump host, refused host keys, and a connection that dies and comes back.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Service } from '../../electron/core/service.js';
import { MemorySecretStore } from '../../electron/core/store/secret-store.js';
import { openDockerTunnel } from '../../electron/core/docker/tunnel.js';
import { PortwrightError } from '../../electron/core/errors.js';
import { SshSession, type Auth, type SessionOptions, type StateChange } from '../../electron/core/ssh/session.js';
import { makeKey, fingerprintOf } from '../lab/keys.js';
import { startLab, stopLab, type Lab } from '../lab/index.js';
import { labSkipReason } from './support.js';

const skip = await labSkipReason();

/** Accepts exactly the fingerprints given per host:port, refusing anything else as a changed key. */
function pinned(known: Record<string, string>): SessionOptions['checkHostKey'] {
  return (host, port, blob) => {
    const fp = fingerprintOf(blob.toString('base64'));
    const expected = known[`${host}:${port}`];
    if (fp !== expected) {
      throw new PortwrightError({
        code: 'HOST_KEY_CHANGED',
        message: `host key for ${host}:${port} is ${fp}, expected ${expected ?? 'none'}`,
      });
    }
  };
}

describe.skipIf(skip)('SSH session and Docker tunnel (lab)', () => {
  let lab: Lab;
  const sessions: SshSession[] = [];
  let known: Record<string, string>;

  beforeAll(async () => {
    lab = await startLab({
      devices: [
        {
          name: 'gw',
          users: [
            { name: 'operator', docker: true, password: 'field-pass-1' },
            { name: 'guest' },
            { name: 'tiny', shell: 'busybox', docker: true },
          ],
        },
        { name: 'old', ssh: 'dropbear', fieldPorts: 1 },
        { name: 'bare', docker: false, fieldPorts: 0 },
        { name: 'kbd', docker: false, fieldPorts: 0, pam: true, users: [{ name: 'tech', password: 'kbd-pass-9' }] },
      ],
    });
    known = {};
    for (const d of lab.devices) {
      known[`${d.host}:${d.port}`] = d.hostKey.fingerprint;
      known[`${d.labAddress}:22`] = d.hostKey.fingerprint;
    }
  });
  afterAll(async () => {
    for (const s of sessions) s.close();
    if (lab) await stopLab(lab);
  });

  function session(device: string, overrides: Partial<SessionOptions> = {}): SshSession {
    const d = lab.device(device);
    const auth: Auth = { kind: 'key', identityFile: lab.info.clientKey };
    const s = new SshSession({
      host: d.host,
      port: d.port,
      username: 'root',
      auth,
      checkHostKey: pinned(known),
      ...overrides,
    });
    sessions.push(s);
    return s;
  }

  it('reaches Docker on an OpenSSH device over stream-local forwarding', async () => {
    const s = session('gw');
    await s.connect();
    const tunnel = await openDockerTunnel(s);
    expect(tunnel.strategy).toBe('stream-local');
    expect(tunnel.socketPath).toBe('/var/run/docker.sock');
    const names = (await tunnel.docker.listNetworks()).map((n) => n.Name).sort();
    expect(names).toEqual(['bridge', 'host', 'none']);
    // Sequential calls reuse one kept-alive channel, and reuse leaks no listeners.
    for (let i = 0; i < 20; i++) await tunnel.docker.ping();
    const free = Object.values(tunnel.agent.freeSockets).flat();
    expect(free).toHaveLength(1);
    expect(free[0]?.listenerCount('error')).toBeLessThanOrEqual(2);
  });

  it('survives a channel destroyed after its compressed connection ended (ssh2 alone crashes)', () => {
    const gw = lab.device('gw');
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures/late-close.ts')],
      {
        env: {
          ...process.env,
          LATE_HOST: gw.host,
          LATE_PORT: String(gw.port),
          LATE_KEY: lab.info.clientKey,
          LATE_FP: gw.hostKey.fingerprint,
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(child.stderr).not.toMatch(/Invalid Zlib instance/);
    expect(child.stdout.trim()).toBe('alive');
    expect(child.status).toBe(0);
  });

  it('falls back to `docker system dial-stdio` on Dropbear, which refuses stream-local', async () => {
    const s = session('old');
    await s.connect();
    const tunnel = await openDockerTunnel(s);
    expect(tunnel.strategy).toBe('dial-stdio');
    const [networks, version] = await Promise.all([tunnel.docker.listNetworks(), tunnel.docker.version()]);
    expect(networks.length).toBeGreaterThanOrEqual(3);
    expect(version.ApiVersion).toMatch(/^1\.\d+$/);
  });

  it('uses a remembered strategy first, and still falls back when it fails', async () => {
    const s = session('old');
    await s.connect();
    expect((await openDockerTunnel(s, { preferred: 'socat' })).strategy).toBe('socat');
    expect((await openDockerTunnel(s, { preferred: 'stream-local' })).strategy).toBe('dial-stdio');
  });

  it('works for a user whose shell and PATH are busybox only', async () => {
    const s = session('gw', { username: 'tiny' });
    await s.connect();
    const shell = await s.exec('command -v docker || echo no-docker-cli; echo "PATH=$PATH"');
    expect(shell.stdout).toContain('no-docker-cli');
    expect(shell.stdout).toMatch(/^PATH=\S*\/busybox\/bin$/m);
    const tunnel = await openDockerTunnel(s);
    expect(tunnel.strategy).toBe('stream-local');
    expect((await tunnel.docker.listNetworks()).length).toBeGreaterThanOrEqual(3);
  });

  it('says plainly when the user may not use the Docker socket, with the fix', async () => {
    const s = session('gw', { username: 'guest' });
    await s.connect();
    const err = await openDockerTunnel(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortwrightError);
    expect(err).toMatchObject({ code: 'DOCKER_SOCKET_PERMISSION' });
    expect((err as PortwrightError).hint).toContain('usermod -aG docker guest');
  });

  it('says plainly when the device has no Docker engine', async () => {
    const s = session('bare');
    await s.connect();
    await expect(openDockerTunnel(s)).rejects.toMatchObject({ code: 'DOCKER_NOT_FOUND' });
  });

  it('logs in with a password', async () => {
    const s = session('gw', { username: 'operator', auth: { kind: 'password', password: 'field-pass-1' } });
    await s.connect();
    expect((await s.exec('id -un')).stdout.trim()).toBe('operator');
  });

  it('answers keyboard-interactive password prompts', async () => {
    const prompts: string[] = [];
    const s = session('kbd', {
      username: 'tech',
      auth: {
        kind: 'keyboard-interactive',
        answer: (asked) => {
          prompts.push(...asked.map((p) => p.prompt));
          return Promise.resolve(asked.map(() => 'kbd-pass-9'));
        },
      },
    });
    await s.connect();
    expect(prompts).toEqual(['Password: ']);
    expect((await s.exec('id -un')).stdout.trim()).toBe('tech');
  });

  it('logs in with a password where the device asks for it only by keyboard-interactive', async () => {
    const s = session('kbd', { username: 'tech', auth: { kind: 'password', password: 'kbd-pass-9' } });
    await s.connect();
    expect((await s.exec('id -un')).stdout.trim()).toBe('tech');
    // A wrong one is refused once, not tried again another way (a second strike on the device).
    const log = `${lab.info.dir}/kbd/sshd.log`;
    const before = (await lab.exec('kbd', `cat ${log}`)).stdout.length;
    const wrong = session('kbd', { username: 'tech', auth: { kind: 'password', password: 'not-it' } });
    await expect(wrong.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    const attempts = (await lab.exec('kbd', `cat ${log}`)).stdout
      .slice(before)
      .match(/Failed keyboard-interactive|Failed password/g);
    expect(attempts).toHaveLength(1);
  });

  it('keeps a password only in the secret store, and logs in with it next time', async () => {
    const home = await mkdtemp(join(tmpdir(), 'pw-secrets-'));
    const secrets = new MemorySecretStore();
    const service = new Service({
      frontEnd: 'cli',
      storeFile: join(home, 'portwright.db'),
      knownHostsPaths: [],
      secrets: () => secrets,
    });
    try {
      const gw = lab.device('gw');
      const added = await service.invoke('deviceAdd', {
        device: { name: 'gw-operator', host: gw.host, port: gw.port, user: 'operator', auth: 'password' },
        connect: { acceptNewHostKey: true, password: 'field-pass-1', rememberSecret: true },
      });
      expect(added.ok).toBe(true);
      // No password given this time: it comes from the secret store.
      const tested = await service.invoke('deviceTest', { target: 'gw-operator' });
      expect(tested).toMatchObject({ ok: true, data: { user: 'operator', strategy: 'stream-local' } });
      service.dispose();
      const bytes = Buffer.concat((await readdir(home)).map((f) => readFileSync(join(home, f)))).toString('latin1');
      expect(bytes).not.toContain('field-pass-1');
      expect(await secrets.get('device:gw-operator:password')).toBe('field-pass-1');
    } finally {
      service.dispose();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('reaches a device behind a jump host, like ProxyJump', async () => {
    const gw = lab.device('gw');
    const bare = lab.device('bare');
    const s = new SshSession({
      host: bare.labAddress,
      port: 22,
      username: 'root',
      auth: { kind: 'key', identityFile: lab.info.clientKey },
      jump: { host: gw.host, port: gw.port, username: 'root', auth: { kind: 'key', identityFile: lab.info.clientKey } },
      checkHostKey: pinned(known),
    });
    sessions.push(s);
    await s.connect();
    expect((await s.exec('hostname')).stdout.trim()).toBe('bare');
  });

  it('refuses a changed host key before sending any credential', async () => {
    const gw = lab.device('gw');
    const log = `${lab.info.dir}/gw/sshd.log`;
    const publickeyLines = async (): Promise<string> =>
      (await lab.exec('gw', `grep -c publickey ${log} || true`)).stdout.trim();
    const before = await publickeyLines();
    const s = session('gw', { checkHostKey: pinned({ [`${gw.host}:${gw.port}`]: 'SHA256:someone-else' }) });
    const err = await s.connect().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HOST_KEY_CHANGED' });
    expect(s.state).toBe('closed');
    await new Promise((r) => setTimeout(r, 300));
    expect(await publickeyLines()).toBe(before);
  });

  it('says the credentials were refused for a wrong key', async () => {
    const wrongKey = `${lab.info.dir}/wrong_key`;
    await makeKey(wrongKey, 'not-authorized');
    const s = session('gw', { auth: { kind: 'key', identityFile: wrongKey } });
    await expect(s.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('says which key file it cannot read', async () => {
    const s = session('gw', { auth: { kind: 'key', identityFile: '/nonexistent/id_ed25519' } });
    await expect(s.connect()).rejects.toMatchObject({ code: 'KEY_UNREADABLE' });
  });

  it('keeps working on a lossy link', async () => {
    const s = session('gw');
    await s.connect();
    const tunnel = await openDockerTunnel(s);
    await lab.setLoss('gw', 15);
    try {
      for (let i = 0; i < 10; i++) expect((await tunnel.docker.listNetworks()).length).toBeGreaterThanOrEqual(3);
    } finally {
      await lab.restore('gw');
    }
  });

  it('reports the connection lost when sshd dies, and reconnects when it is back', async () => {
    const states: StateChange[] = [];
    const s = session('gw', { reconnect: { enabled: true, initialDelayMs: 200, maxDelayMs: 1000 } });
    s.on('state', (c) => states.push(c));
    await s.connect();
    const dir = `${lab.info.dir}/gw`;
    await lab.exec('gw', 'kill $(cat /run/sshd.pid); pkill -f "[s]shd: root" || true');
    await waitForState(s, 'reconnecting', 10_000);
    await lab.exec('gw', `/usr/sbin/sshd -f ${dir}/sshd_config -E ${dir}/sshd.log`);
    await waitForState(s, 'connected', 20_000);
    expect(states.map((c) => c.state)).toEqual(
      expect.arrayContaining(['connecting', 'connected', 'lost', 'reconnecting']),
    );
    expect(states.find((c) => c.state === 'lost')?.error?.code).toBe('CONNECTION_LOST');
    expect((await s.exec('hostname')).stdout.trim()).toBe('gw');
  });

  it('notices a cut link through keepalive', async () => {
    const s = session('old', { keepaliveIntervalMs: 1000, keepaliveCountMax: 2, reconnect: { enabled: false } });
    await s.connect();
    await lab.cut('old');
    try {
      const t0 = Date.now();
      await waitForState(s, 'lost', 15_000);
      expect(Date.now() - t0).toBeLessThan(6000);
    } finally {
      await lab.restore('old');
    }
  });
});

function waitForState(s: SshSession, state: StateChange['state'], timeoutMs: number): Promise<void> {
  if (s.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "${state}" within ${timeoutMs} ms (now ${s.state})`)),
      timeoutMs,
    );
    const on = (c: StateChange): void => {
      if (c.state === state) {
        clearTimeout(timer);
        s.off('state', on);
        resolve();
      }
    };
    s.on('state', on);
  });
}
