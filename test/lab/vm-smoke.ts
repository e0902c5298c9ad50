// Smoke test of the QEMU lab device: boots one VM on throwaway namespaces and proves ipvlan, 802.1Q and the EBUSY rule.
// Run as root: `npx tsx test/lab/vm-smoke.ts`; PWVMH_KEEP=1 keeps the VM's folder (console log, disk) for a post-mortem.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureVmImage, startVmDevice, vmSshArgs, type VmDevice } from './vm.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(cmd: string, args: string[]): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 128, stdout, stderr }));
  });
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

const log = (m: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${m}`);

const sfx = randomBytes(2).toString('hex');
const ns = {
  hub: `pwvmh-${sfx}-hub`,
  dev: `pwvmh-${sfx}-dev`,
  p1: `pwvmh-${sfx}-p1`,
  p2: `pwvmh-${sfx}-p2`,
};
const made: string[] = [];
let work = '';
let device: VmDevice | undefined;
let tornDown: Promise<void> | undefined;

function teardown(): Promise<void> {
  tornDown ??= (async () => {
    if (device !== undefined) await device.stop();
    for (const n of made.reverse()) await sh('ip', ['netns', 'del', n]);
    if (work !== '' && process.env.PWVMH_KEEP === undefined) await rm(work, { recursive: true, force: true });
    else if (work !== '') log(`kept ${work} (PWVMH_KEEP)`);
  })();
  return tornDown;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: tearing down`);
    void teardown().finally(() => process.exit(130));
  });
}

async function addNetns(name: string): Promise<void> {
  await must('ip', ['netns', 'add', name]);
  made.push(name);
  await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

async function buildLab(): Promise<void> {
  for (const n of [ns.hub, ns.dev, ns.p1, ns.p2]) await addNetns(n);
  await must('ip', ['-n', ns.hub, 'link', 'add', 'br0', 'type', 'bridge']);
  await must('ip', ['-n', ns.hub, 'addr', 'add', '198.18.0.1/24', 'dev', 'br0']);
  await must('ip', ['-n', ns.hub, 'link', 'set', 'br0', 'up']);
  await must('ip', ['-n', ns.hub, 'link', 'add', 'd1', 'type', 'veth', 'peer', 'name', 'up0', 'netns', ns.dev]);
  await must('ip', ['-n', ns.hub, 'link', 'set', 'd1', 'master', 'br0', 'up']);
  await must('ip', ['-n', ns.dev, 'link', 'set', 'up0', 'up']);
  const peers = [
    { netns: ns.p1, hostIf: 'f1', addr: '198.18.11.2/24' },
    { netns: ns.p2, hostIf: 'f2', addr: '198.18.12.2/24' },
  ];
  for (const p of peers) {
    await must('ip', ['-n', p.netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', p.hostIf, 'netns', ns.dev]);
    await must('ip', ['-n', p.netns, 'addr', 'add', p.addr, 'dev', 'eth0']);
    await must('ip', ['-n', p.netns, 'link', 'set', 'eth0', 'up']);
    await must('ip', ['-n', ns.dev, 'link', 'set', p.hostIf, 'up']);
  }
}

const checks: { name: string; ok: boolean; detail: string }[] = [];
function record(name: string, ok: boolean, detail: string): void {
  checks.push({ name, ok, detail });
  log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
}

async function main(): Promise<void> {
  work = await mkdtemp(join(tmpdir(), 'pwvmh-'));
  const t0 = Date.now();
  const image = await ensureVmImage({ log });
  log(`image ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${image.dir}`);

  await buildLab();
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pw-host', '-f', join(work, 'host_key')]);
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pw-client', '-f', join(work, 'client_key')]);
  const devDir = join(work, 'vm1');
  await mkdir(devDir);
  const opts = {
    id: `pwvmh-${sfx}-vm1`,
    dir: devDir,
    netns: ns.dev,
    hubNetns: ns.hub,
    mgmtAddress: '198.18.0.12',
    mgmtPrefix: 24,
    mgmtGateway: '198.18.0.1',
    fieldPorts: [
      { name: 'eth1', hostIf: 'f1' },
      { name: 'eth2', hostIf: 'f2' },
    ],
    authorizedKeys: await readFile(join(work, 'client_key.pub'), 'utf8'),
    hostKeyPath: join(work, 'host_key'),
    clientKeyPath: join(work, 'client_key'),
    log,
  };
  device = await startVmDevice(image, opts);
  record('1 boot to ready', true, `${(device.bootMs / 1000).toFixed(1)} s (qemu pid ${device.pid})`);

  const ssh = (cmd: string): Promise<Result> =>
    sh('nsenter', [`--net=/run/netns/${ns.hub}`, '--', 'ssh', ...vmSshArgs(opts), cmd]);

  const rss = await sh('ps', ['-o', 'rss=', '-p', String(device.pid)]);
  const mem = await ssh('free -m | sed -n 2p');
  log(`qemu RSS ${Math.round(Number(rss.stdout.trim()) / 1024)} MiB; guest 'free -m': ${mem.stdout.trim()}`);
  log(`guest kernel: ${(await ssh('uname -r; ip -br link')).stdout.trim().replace(/\n/g, ' | ')}`);

  // 2: ipvlan L2 on eth1, reached from the field peer.
  {
    const setup = await ssh(
      'docker network create -d ipvlan -o parent=eth1 -o ipvlan_mode=l2 --subnet 198.18.11.0/24 --gateway 198.18.11.1 pw-ipvl >/dev/null && ' +
        'docker run -d --name ipv1 --network pw-ipvl --ip 198.18.11.20 portwright-lab/busybox sleep 3600',
    );
    if (setup.code !== 0) {
      record('2 ipvlan L2', false, `setup failed: ${setup.stderr.trim()}`);
    } else {
      const ping = await sh('ip', ['netns', 'exec', ns.p1, 'busybox', 'ping', '-c', '3', '-W', '2', '198.18.11.20']);
      const summary = ping.stdout.split('\n').find((l) => l.includes('packets transmitted')) ?? ping.stderr.trim();
      record('2 ipvlan L2', ping.code === 0, `peer ${ns.p1} -> 198.18.11.20: ${summary}`);
    }
  }

  // 3: macvlan on eth2.300: Docker makes the VLAN link; the peer cannot untag, so capture the tagged ARP.
  {
    const setup = await ssh(
      'docker network create -d macvlan -o parent=eth2.300 --subnet 198.18.13.0/24 --gateway 198.18.13.1 pw-vl300 >/dev/null && ' +
        'docker run -d --name vl1 --network pw-vl300 --ip 198.18.13.20 portwright-lab/busybox sleep 3600 >/dev/null && ' +
        'ip -d -br link show eth2.300',
    );
    if (setup.code !== 0) {
      record('3 802.1Q via macvlan parent eth2.300', false, `setup failed: ${setup.stderr.trim()}`);
    } else {
      const dump = spawn(
        'ip',
        ['netns', 'exec', ns.p2, 'tcpdump', '-e', '-n', '-l', '-i', 'eth0', '-c', '3', 'vlan 300 and arp'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      dump.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const listening = new Promise<void>((resolve) =>
        dump.stderr.on('data', (d: Buffer) => {
          if (d.toString().includes('listening on')) resolve();
        }),
      );
      const dumpDone = new Promise<void>((resolve) => dump.on('close', () => resolve()));
      await Promise.race([listening, new Promise((r) => setTimeout(r, 5000))]);
      const ping = await ssh('docker exec vl1 ping -c 3 -W 1 198.18.13.2');
      await Promise.race([dumpDone, new Promise((r) => setTimeout(r, 3000))]);
      dump.kill('SIGINT');
      await dumpDone;
      const tagged = out.split('\n').filter((l) => /vlan 300/.test(l));
      record(
        '3 802.1Q via macvlan parent eth2.300',
        tagged.length > 0,
        `eth2.300: ${setup.stdout.trim()}; container ping exit ${ping.code} (expected to fail: peer cannot untag); ` +
          `${tagged.length} tagged frames seen by the peer, e.g. ${tagged[0] ?? '(none)'}`,
      );
    }
  }

  // 4: the kernel refuses a macvlan on a parent that already carries ipvlan ports.
  {
    const r = await ssh(
      'docker network create -d macvlan -o parent=eth1 --subnet 198.18.14.0/24 --gateway 198.18.14.1 pw-mv-eth1 >/dev/null && ' +
        'docker run -d --name mv1 --network pw-mv-eth1 --ip 198.18.14.20 portwright-lab/busybox sleep 3600',
    );
    const msg = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-1)[0] ?? '';
    record(
      '4 macvlan on an ipvlan parent',
      r.code !== 0 && /device or resource busy/i.test(msg),
      `exit ${r.code}: ${msg}`,
    );
  }
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(err instanceof Error ? err.message : String(err));
} finally {
  await teardown();
}
const left = (await must('ip', ['netns', 'list'])).split('\n').filter((l) => l.includes(`pwvmh-${sfx}`));
record('teardown', left.length === 0, left.length === 0 ? 'no pwvmh namespaces left' : `left: ${left.join(', ')}`);
const passed = checks.filter((c) => c.ok).length;
console.log(`${passed} passed, ${checks.length - passed + (failed ? 1 : 0)} failed`);
process.exit(failed || passed !== checks.length ? 1 : 0);
