// The portwright CLI as a user runs it (a real process, real exit codes) against lab devices:
// saving devices, trusting host keys, reaching Docker, and refusing what must be refused.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkInfo } from '../../electron/core/docker/types.js';
import type { Port } from '../../electron/core/ports/types.js';
import { openStore } from '../../electron/core/store/db.js';
import { startLab, stopLab, type Lab } from '../lab/index.js';
import { labSkipReason } from './support.js';

const skip = await labSkipReason();
const OPERATOR_PASSWORD = 'Field-Pass-7x';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

describe.skipIf(skip)('portwright CLI against lab devices', () => {
  let lab: Lab;
  let home: string;

  function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    return cliWithStdin(undefined, ...args);
  }

  /** The CLI with `stdin` piped in (a script's `printf … | portwright …`); no terminal either way. */
  function cliWithStdin(
    stdin: string | undefined,
    ...args: string[]
  ): Promise<{ code: number; out: string; err: string }> {
    return new Promise((done) => {
      // HOME too: the user's real ~/.ssh/known_hosts must not decide anything here.
      const child = spawn(process.execPath, [join(ROOT, 'bin/portwright.mjs'), ...args], {
        env: { ...process.env, PORTWRIGHT_HOME: join(home, 'portwright'), HOME: home, SSH_AUTH_SOCK: '' },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => done({ code: code ?? -1, out, err }));
      if (stdin !== undefined) child.stdin.end(stdin);
    });
  }

  /** `device add gw` pointing at the lab's gw device, trusting its key on first sight. */
  function addGw(...extra: string[]): ReturnType<typeof cli> {
    const gw = lab.device('gw');
    return cli(
      'device',
      'add',
      'gw',
      '--host',
      gw.host,
      '--port',
      String(gw.port),
      '--identity',
      lab.info.clientKey,
      '--accept-new-host-key',
      ...extra,
    );
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pw-cli-'));
    lab = await startLab({
      devices: [
        { name: 'gw', users: [{ name: 'operator', docker: true, password: OPERATOR_PASSWORD }] },
        { name: 'old', ssh: 'dropbear', fieldPorts: 1 },
      ],
    });
  });
  afterAll(async () => {
    if (lab) await stopLab(lab);
    await rm(home, { recursive: true, force: true });
  });

  it('saves a device, trusting its host key on an explicit yes', async () => {
    const gw = lab.device('gw');
    const r = await addGw('--tag', 'line3');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(gw.hostKey.fingerprint);
    const list = await cli('device', 'list', '--json');
    expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ name: 'gw', port: gw.port, tags: ['line3'] })]);
  });

  it('tests the connection and says how Docker is reached', async () => {
    const r = await cli('device', 'test', 'gw');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Docker 20\.10\.\d+/);
    expect(r.out).toContain('via stream-local to /var/run/docker.sock');
    const shown = JSON.parse((await cli('device', 'show', 'gw', '--json')).out) as { channel?: unknown };
    expect(shown.channel).toEqual({ strategy: 'stream-local', socketPath: '/var/run/docker.sock' });
  });

  it('lists networks of every driver with their containers and addresses', async () => {
    await lab.exec(
      'gw',
      `docker network create -d macvlan -o parent=eth1 --subnet 198.18.11.0/24 --gateway 198.18.11.1 field-a >/dev/null && ` +
        `docker run -d --name plc --network field-a --ip 198.18.11.20 ${lab.info.image} sleep 3600 >/dev/null`,
    );
    const r = await cli('networks', 'gw', '--json');
    expect(r.code).toBe(0);
    const nets = JSON.parse(r.out) as NetworkInfo[];
    expect(nets.map((n) => `${n.name}/${n.driver}`).sort()).toEqual([
      'bridge/bridge',
      'field-a/macvlan',
      'host/host',
      'none/null',
    ]);
    const field = nets.find((n) => n.name === 'field-a');
    expect(field?.options.parent).toBe('eth1');
    expect(field?.ipam.config[0]).toMatchObject({ subnet: '198.18.11.0/24', gateway: '198.18.11.1' });
    expect(field?.endpoints).toEqual([expect.objectContaining({ containerName: 'plc', ipv4: '198.18.11.20/24' })]);

    const table = await cli('networks', 'gw');
    expect(table.out).toMatch(/field-a\s+macvlan\s+eth1\s+198\.18\.11\.0\/24\s+198\.18\.11\.1\s+plc 198\.18\.11\.20/);
    const containers = await cli('containers', 'gw');
    expect(containers.out).toMatch(
      /plc\s+portwright-lab\/busybox:latest\s+running\s+field-a\s+field-a:198\.18\.11\.20/,
    );
  });

  it("shows the device's ports: management and field ports, and the Docker networks on each", async () => {
    const r = await cli('ports', 'gw', '--json');
    expect(r.code).toBe(0);
    const ports = JSON.parse(r.out) as Port[];
    const byName = new Map(ports.map((p) => [p.name, p]));
    expect(ports.filter((p) => p.isHardwarePort).map((p) => p.name)).toEqual(['eth0', 'eth1', 'eth2']);
    expect(byName.get('eth0')?.management).toBe(true);
    expect(byName.get('eth0')?.addresses).toContainEqual(
      expect.objectContaining({ address: lab.device('gw').labAddress, prefix: 24 }),
    );
    expect(byName.get('eth1')).toMatchObject({ management: false, operState: 'up', dockerNetworks: ['field-a'] });
    expect(byName.get('docker0')).toMatchObject({ kind: 'docker-bridge', isHardwarePort: false });
    const text = await cli('ports', 'gw');
    expect(text.out).toMatch(/^eth0 \(mgmt\)\s+veth/m);
    expect(text.out).toMatch(/^eth1\s+veth\s+virtual\s+up.*field-a$/m);
  });

  it('logs in with a password piped in by --password-stdin, and never shows or keeps it', async () => {
    const gw = lab.device('gw');
    const piped = `${OPERATOR_PASSWORD}\n`;
    const add = await cliWithStdin(
      piped,
      'device',
      'add',
      'gw-op',
      '--host',
      gw.host,
      '--port',
      String(gw.port),
      '--user',
      'operator',
      '--auth',
      'password',
      '--host-key',
      gw.hostKey.fingerprint,
      '--password-stdin',
    );
    expect(add.err).toBe('');
    expect(add.code).toBe(0);
    expect(add.out).toMatch(/auth\s+password/);

    const nets = await cliWithStdin(piped, 'networks', 'gw-op', '--json', '--password-stdin');
    expect(nets.err).toBe('');
    expect(nets.code).toBe(0);
    expect((JSON.parse(nets.out) as NetworkInfo[]).map((n) => n.name)).toContain('bridge');
    // An ssh:// target with no key: the piped password logs in too.
    const url = `ssh://operator@${gw.host}:${gw.port}`;
    const adhoc = await cliWithStdin(piped, 'device', 'test', url, '--password-stdin');
    expect(adhoc.err).toBe('');
    expect(adhoc.out).toContain('connected as operator');

    // No terminal and no --password-stdin: one line saying how, exit 1.
    const none = await cli('networks', 'gw-op');
    expect(none.code).toBe(1);
    expect(none.err.trim().split('\n')).toHaveLength(1);
    expect(none.err).toMatch(/^error PASSWORD_NEEDED: .*--password-stdin/);
    const wrong = await cliWithStdin('not-it\n', 'networks', 'gw-op', '--password-stdin');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('AUTH_FAILED');

    for (const r of [add, nets, adhoc, none, wrong]) expect(r.out + r.err).not.toContain(OPERATOR_PASSWORD);
    // The inventory (devices, audit log, secrets table), journal included, never holds it.
    const dir = join(home, 'portwright');
    for (const f of await readdir(dir)) {
      expect((await readFile(join(dir, f))).includes(OPERATOR_PASSWORD), f).toBe(false);
    }
    const store = openStore(join(dir, 'portwright.db'));
    try {
      const audit = store.listAudit({ device: 'gw-op' });
      expect(audit.map((a) => a.action)).toContain('device.add');
      expect(JSON.stringify(audit)).not.toContain(OPERATOR_PASSWORD);
    } finally {
      store.close();
    }
  });

  it('reaches a Dropbear device through its fallback', async () => {
    const old = lab.device('old');
    const url = `ssh://root@${old.host}:${old.port}`;
    const r = await cli('device', 'test', url, '--identity', lab.info.clientKey, '--host-key', old.hostKey.fingerprint);
    expect(r.code).toBe(0);
    expect(r.out).toContain('via dial-stdio');
  });

  it('refuses an unknown host key without a yes, showing its fingerprint, in one line', async () => {
    const old = lab.device('old');
    const fresh = `ssh://root@127.0.0.1:${old.port}`;
    // The pin above trusted it; a fresh home has never seen it.
    await rm(join(home, 'portwright'), { recursive: true, force: true });
    const r = await cli('device', 'test', fresh, '--identity', lab.info.clientKey);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain('HOST_KEY_UNKNOWN');
    expect(r.err).toContain(old.hostKey.fingerprint);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('refuses a changed host key with both fingerprints, and sends no credential', async () => {
    const gw = lab.device('gw');
    const add = await addGw();
    expect(add.code).toBe(0);
    // The device is "reinstalled": new host key, sshd restarted.
    const dir = `${lab.info.dir}/gw`;
    await lab.exec(
      'gw',
      `rm -f ${dir}/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N '' -f ${dir}/ssh_host_ed25519_key && ` +
        `kill $(cat /run/sshd.pid) && sleep 0.3 && /usr/sbin/sshd -f ${dir}/sshd_config -E ${dir}/sshd.log`,
    );
    const newFp = (await lab.exec('gw', `ssh-keygen -lf ${dir}/ssh_host_ed25519_key.pub`)).stdout.split(' ')[1];
    const before = (await lab.exec('gw', `grep -c publickey ${dir}/sshd.log || true`)).stdout.trim();
    const r = await cli('device', 'test', 'gw');
    expect(r.code).toBe(1);
    expect(r.err).toContain('HOST_KEY_CHANGED');
    expect(r.err).toContain(gw.hostKey.fingerprint);
    expect(r.err).toContain(newFp);
    expect(r.err).toContain(`portwright device test gw --host-key ${newFp ?? ''}`);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect((await lab.exec('gw', `grep -c publickey ${dir}/sshd.log || true`)).stdout.trim()).toBe(before);

    // Re-pinning is its own, explicit act.
    const repin = await cli('device', 'test', 'gw', '--host-key', newFp ?? '');
    expect(repin.code).toBe(0);
    expect((await cli('device', 'test', 'gw')).code).toBe(0);
  });

  it('exits 2 with usage help on a bad command line', async () => {
    const r = await cli('device', 'add', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toContain("required option '--host <host>'");
    const both = await cli('device', 'test', 'gw', '--accept-new-host-key', '--host-key', 'SHA256:x');
    expect(both.code).toBe(2);
  });

  it('says which device is unknown, with a hint', async () => {
    const r = await cli('networks', 'nope');
    expect(r.code).toBe(1);
    expect(r.err).toContain('DEVICE_NOT_FOUND');
    expect(r.err).toContain('portwright device list');
  });
});
