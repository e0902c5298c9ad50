// The device lab: simulated embedded devices on this machine (namespaces, or QEMU VMs with their
// own kernel), each with SSH, Docker and field ports wired to peer namespaces. See README "The lab".
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { armCleanup, trackPid } from './cleanup.js';
import { run, sh, shellQuote, spawnDetached, waitFor, type RunOptions, type RunResult } from './exec.js';
import { IMPORT_CHANGES, LAB_IMAGE, ensureBusyboxRootfs } from './image.js';
import { makeKey } from './keys.js';
import { startNsDevice } from './ns-device.js';
import { ensureVmImage, startVmDevice, vmSshArgs } from './vm.js';
import type { DeviceInfo, DeviceSpec, LabInfo, LabOptions, PeerInfo } from './types.js';

export type { DeviceInfo, DeviceSpec, LabInfo, LabOptions, PeerInfo } from './types.js';
export { LAB_IMAGE } from './image.js';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const HUB_ADDRESS = '198.18.0.1';
const MGMT_PREFIX = 24;

export function labRoot(root?: string): string {
  return root ?? process.env.PORTWRIGHT_LAB_ROOT ?? '/var/lib/portwright-lab';
}

/** Images built from Debian packages, kept between runs. */
export function labCache(): string {
  return process.env.PORTWRIGHT_LAB_CACHE ?? '/var/cache/portwright-lab';
}

/** Host commands the lab needs, with the Debian package that brings each. */
export const LAB_REQUIREMENTS: Record<string, string> = {
  ip: 'iproute2',
  nsenter: 'util-linux',
  unshare: 'util-linux',
  iptables: 'iptables',
  socat: 'socat',
  'ssh-keygen': 'openssh-client',
  ssh: 'openssh-client',
  '/usr/sbin/sshd': 'openssh-server',
  '/usr/sbin/dropbear': 'dropbear-bin',
  dropbearconvert: 'dropbear-bin',
  dockerd: 'docker.io',
  docker: 'docker.io',
  containerd: 'containerd',
  runc: 'runc',
  '/bin/busybox': 'busybox-static',
  tar: 'tar',
  python3: 'python3',
};
export const VM_REQUIREMENTS: Record<string, string> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
  debootstrap: 'debootstrap',
  'mkfs.ext4': 'e2fsprogs',
};

/** What is missing to run a lab (empty when ready), as `command (package)`. */
export async function labPrerequisites(withVm: boolean): Promise<string[]> {
  const missing: string[] = [];
  if (process.platform !== 'linux') return ['Linux'];
  if (process.getuid?.() !== 0) missing.push('root (the lab makes namespaces)');
  const needs = { ...LAB_REQUIREMENTS, ...(withVm ? VM_REQUIREMENTS : {}) };
  for (const [cmd, pkg] of Object.entries(needs)) {
    const found = cmd.startsWith('/')
      ? existsSync(cmd)
      : (await run(['sh', '-c', `command -v ${cmd}`], { allowFail: true })).code === 0;
    if (!found) missing.push(`${cmd} (${pkg})`);
  }
  return missing;
}

const NAME_RE = /^[a-z][a-z0-9]{0,7}$/;

function validate(specs: DeviceSpec[]): Required<DeviceSpec>[] {
  if (specs.length === 0) throw new Error('startLab: give at least one device');
  if (specs.length > 20) throw new Error('startLab: at most 20 devices');
  const seen = new Set<string>();
  return specs.map((s) => {
    if (!NAME_RE.test(s.name)) throw new Error(`startLab: device name "${s.name}" must match ${NAME_RE}`);
    if (seen.has(s.name)) throw new Error(`startLab: device name "${s.name}" used twice`);
    seen.add(s.name);
    const kind = s.kind ?? 'ns';
    const ssh = s.ssh ?? 'openssh';
    if (kind === 'vm' && ssh !== 'openssh') throw new Error(`startLab: device ${s.name}: a VM runs OpenSSH`);
    const fieldPorts = s.fieldPorts ?? 2;
    if (kind === 'vm' && fieldPorts !== 2) throw new Error(`startLab: device ${s.name}: a VM has 2 field ports`);
    if (fieldPorts < 0 || fieldPorts > 8) throw new Error(`startLab: device ${s.name}: 0 to 8 field ports`);
    const users = s.users ?? [];
    for (const u of users) {
      if (!/^[a-z][a-z0-9_-]{0,15}$/.test(u.name) || u.name === 'root') {
        throw new Error(`startLab: device ${s.name}: user name "${u.name}" is not allowed`);
      }
      if (kind === 'vm') throw new Error(`startLab: device ${s.name}: extra users are for ns devices`);
      if (u.shell === 'busybox' && ssh !== 'openssh') {
        throw new Error(`startLab: device ${s.name}: a busybox-only user needs OpenSSH (it sets PATH per user)`);
      }
    }
    if (s.pam && ssh !== 'openssh') throw new Error(`startLab: device ${s.name}: pam is for OpenSSH`);
    return {
      name: s.name,
      kind,
      ssh,
      fieldPorts,
      docker: s.docker ?? true,
      fieldAddresses: s.fieldAddresses ?? false,
      users,
      pam: s.pam ?? false,
    };
  });
}

async function ip(netns: string, args: string): Promise<void> {
  await sh(`ip -n ${netns} ${args}`);
}

/** Waits until an SSH server answers with its banner on host:port. */
function sshBanner(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolveBanner) => {
    const sock = net.connect(port, host);
    const done = (v: string | undefined): void => {
      sock.destroy();
      resolveBanner(v);
    };
    sock.setTimeout(2000, () => done(undefined));
    sock.on('data', (d: Buffer) => done(d.toString().startsWith('SSH-') ? d.toString().trim() : undefined));
    sock.on('error', () => done(undefined));
  });
}

/** A running (or described) lab. Build one with `startLab`, or `Lab.load(dir)` from another process. */
export class Lab {
  constructor(readonly info: LabInfo) {}

  static async load(dir: string): Promise<Lab> {
    return new Lab(JSON.parse(await readFile(join(dir, 'lab.json'), 'utf8')) as LabInfo);
  }

  get id(): string {
    return this.info.id;
  }

  get devices(): DeviceInfo[] {
    return this.info.devices;
  }

  device(name: string): DeviceInfo {
    const d = this.info.devices.find((x) => x.name === name);
    if (!d) throw new Error(`lab ${this.id} has no device "${name}"`);
    return d;
  }

  peer(device: string, port: string): PeerInfo {
    const p = this.device(device).peers.find((x) => x.port === port);
    if (!p) throw new Error(`lab device ${device} has no field port "${port}"`);
    return p;
  }

  /** Runs a shell command on the device, as root, as a user logged in there would. */
  exec(device: string, command: string, opts?: RunOptions): Promise<RunResult> {
    const d = this.device(device);
    if (d.kind === 'ns') {
      if (!d.initPid) throw new Error(`lab device ${device} is not running`);
      return run(['nsenter', '-t', String(d.initPid), '-n', '-m', '-p', '-u', '--', 'sh', '-c', command], opts);
    }
    // The VM module's own ssh arguments (its key copy and pinned known_hosts); ssh takes the first
    // value of an option, so this longer connect timeout wins over its readiness-probe one.
    const args = [
      'ssh',
      '-o',
      'ConnectTimeout=10',
      ...vmSshArgs({ dir: join(this.info.dir, d.name), mgmtAddress: d.labAddress }),
    ];
    return this.hubExec([...args, command].map(shellQuote).join(' '), opts);
  }

  /** Runs a shell command in the peer namespace on the far side of a device's field port. */
  peerExec(device: string, port: string, command: string, opts?: RunOptions): Promise<RunResult> {
    return run(['nsenter', `--net=/run/netns/${this.peer(device, port).netns}`, '--', 'sh', '-c', command], opts);
  }

  /** Runs a shell command in the management network's namespace (where the lab's "laptop" sits). */
  hubExec(command: string, opts?: RunOptions): Promise<RunResult> {
    return run(['nsenter', `--net=/run/netns/${this.info.hubNetns}`, '--', 'sh', '-c', command], opts);
  }

  /**
   * Sets the round-trip time added on the management link between the hub (this computer's way in,
   * and the lab's "laptop") and a device. Every packet is held, half the time each way, so TCP sees
   * a slow link: the handshake, acknowledgements and Nagle all pay it, as on a real one. 0 = none.
   */
  async setDelay(device: string, rttMs: number): Promise<void> {
    if (!(rttMs >= 0 && rttMs <= 10_000)) throw new Error('setDelay: rttMs is 0..10000');
    const d = this.device(device);
    const reply = await new Promise<string>((resolveReply, reject) => {
      const sock = net.connect(join(this.info.dir, d.name, 'delay.ctl'));
      let buf = '';
      sock.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        if (buf.includes('\n')) {
          sock.end();
          resolveReply(buf.trim());
        }
      });
      sock.on('error', reject);
      sock.write(`delay ${rttMs / 2}\n`);
    });
    if (reply !== 'ok') throw new Error(`lab delay: ${reply}`);
    const chain = `lab-${d.name}-d`;
    const queue = this.info.devices.indexOf(d) + 1;
    // Set to 0, the handler still releases what it holds in order; then packets bypass it.
    await this.hubExec(
      `iptables -F ${chain}` + (rttMs > 0 ? ` && iptables -A ${chain} -j NFQUEUE --queue-num ${queue}` : ''),
    );
  }

  /** Drops `percent` of the packets on a device's management link, both ways (0 = none). */
  async setLoss(device: string, percent: number): Promise<void> {
    if (percent < 0 || percent > 100) throw new Error('setLoss: percent is 0..100');
    await this.linkRule(device, percent === 0 ? '' : `-m statistic --mode random --probability ${percent / 100}`);
  }

  /** Cuts a device's management link: packets vanish, connections hang (like a pulled cable). */
  async cut(device: string): Promise<void> {
    await this.linkRule(device, ' ');
  }

  /** Undoes cut() and setLoss(). */
  async restore(device: string): Promise<void> {
    await this.linkRule(device, '');
  }

  private async linkRule(device: string, match: string): Promise<void> {
    const chain = `lab-${this.device(device).name}`;
    await this.hubExec(`iptables -F ${chain}` + (match ? ` && iptables -A ${chain} ${match.trim()} -j DROP` : ''));
  }
}

/** Builds the lab's simulated devices. Always pair with `stopLab` (in a finally). */
export async function startLab(options: LabOptions): Promise<Lab> {
  const specs = validate(options.devices);
  const log = options.log ?? ((): void => undefined);
  const missing = await labPrerequisites(specs.some((s) => s.kind === 'vm'));
  if (missing.length) throw new Error(`the lab needs: ${missing.join(', ')}`);

  const root = labRoot(options.root);
  const cacheDir = labCache();
  let id = '';
  for (;;) {
    id = `pw${randomBytes(2).toString('hex')}`;
    if (!existsSync(join(root, 'runs', id)) && !existsSync(`/run/netns/${id}-hub`)) break;
  }
  const dir = join(root, 'runs', id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'owner'), String(process.pid));
  await armCleanup(id, dir, process.pid);
  const started = Date.now();
  log(`lab ${id}: starting ${specs.length} device(s) in ${dir}`);

  try {
    const clientKey = join(dir, 'client_ed25519');
    const clientPublicKey = await makeKey(clientKey, `portwright-lab-${id}`);
    const authorizedKeys = `${clientPublicKey.type} ${clientPublicKey.base64} portwright-lab-${id}\n`;
    const rootfsTar = await ensureBusyboxRootfs(cacheDir);

    // The management network: a bridge in the hub namespace, where the lab's "laptop" sits.
    const hubNetns = `${id}-hub`;
    await run(['ip', 'netns', 'add', hubNetns]);
    await ip(hubNetns, 'link set lo up');
    await ip(hubNetns, 'link add br0 type bridge');
    await ip(hubNetns, `addr add ${HUB_ADDRESS}/${MGMT_PREFIX} dev br0`);
    await ip(hubNetns, 'link set br0 up');

    const vmImage = specs.some((s) => s.kind === 'vm')
      ? await ensureVmImage({ cacheDir: join(cacheDir, 'vm'), log })
      : undefined;

    const devices = await Promise.all(
      specs.map(async (spec, index): Promise<DeviceInfo> => {
        const t0 = Date.now();
        const devDir = join(dir, spec.name);
        await mkdir(devDir, { recursive: true });
        const netns = `${id}-${spec.name}`;
        const labAddress = `198.18.0.${10 + index}`;
        await run(['ip', 'netns', 'add', netns]);
        await ip(netns, 'link set lo up');
        // Created inside the namespaces, so no interface ever appears in this computer's own.
        const uplink = spec.kind === 'ns' ? 'eth0' : 'up0';
        await ip(hubNetns, `link add d${index} type veth peer name ${uplink} netns ${netns}`);
        await ip(hubNetns, `link set d${index} master br0 up`);
        await ip(netns, `link set ${uplink} up`);
        if (spec.kind === 'ns') await ip(netns, `addr add ${labAddress}/${MGMT_PREFIX} dev eth0`);
        // Two chains on the management link, as the hub sees it: lab-NAME drops (cut, loss),
        // lab-NAME-d delays (NFQUEUE to test/lab/nfq-delay.py).
        for (const chain of [`lab-${spec.name}`, `lab-${spec.name}-d`])
          await sh(
            `ip netns exec ${hubNetns} sh -c 'iptables -N ${chain} && iptables -A OUTPUT -d ${labAddress} -j ${chain} && iptables -A INPUT -s ${labAddress} -j ${chain}'`,
          );

        const peers: PeerInfo[] = [];
        for (let j = 1; j <= spec.fieldPorts; j++) {
          const port = `eth${j}`;
          const net3 = (index + 1) * 10 + j;
          const peerNetns = `${netns}-p${j}`;
          const devIf = spec.kind === 'ns' ? port : `f${j}`;
          await run(['ip', 'netns', 'add', peerNetns]);
          await ip(peerNetns, 'link set lo up');
          await ip(netns, `link add ${devIf} type veth peer name eth0 netns ${peerNetns}`);
          await ip(netns, `link set ${devIf} up`);
          await ip(peerNetns, `addr add 198.18.${net3}.2/24 dev eth0`);
          await ip(peerNetns, 'link set eth0 up');
          const peer: PeerInfo = { port, netns: peerNetns, address: `198.18.${net3}.2`, subnet: `198.18.${net3}.0/24` };
          if (spec.fieldAddresses && spec.kind === 'ns') {
            await ip(netns, `addr add 198.18.${net3}.1/24 dev ${port}`);
            peer.deviceAddress = `198.18.${net3}.1`;
          }
          peers.push(peer);
        }

        const hostKeyPath = join(devDir, 'ssh_host_ed25519_key');
        const hostKey = await makeKey(hostKeyPath, `${spec.name}@portwright-lab`);
        let initPid: number | undefined;
        let dockerSocket: string | undefined;
        if (spec.kind === 'ns') {
          const dev = await startNsDevice({
            labId: id,
            name: spec.name,
            dir: devDir,
            netns,
            ssh: spec.ssh,
            docker: spec.docker,
            hostKeyPath,
            authorizedKeys,
            users: spec.users,
            pam: spec.pam,
          });
          await trackPid(dir, dev.unsharePid);
          await trackPid(dir, dev.initPid);
          initPid = dev.initPid;
          if (spec.docker) dockerSocket = `/proc/${dev.initPid}/root/run/docker.sock`;
        } else {
          if (!vmImage) throw new Error('no VM image');
          const vm = await startVmDevice(vmImage, {
            id: `${id}-${spec.name}`,
            dir: devDir,
            netns,
            hubNetns,
            mgmtAddress: labAddress,
            mgmtPrefix: MGMT_PREFIX,
            mgmtGateway: HUB_ADDRESS,
            fieldPorts: peers.map((p, j) => ({ name: p.port, hostIf: `f${j + 1}` })),
            authorizedKeys,
            hostKeyPath,
            clientKeyPath: clientKey,
            log,
          });
          await trackPid(dir, vm.pid);
        }
        return {
          name: spec.name,
          kind: spec.kind,
          ssh: spec.ssh,
          docker: spec.docker,
          netns,
          labAddress,
          host: '127.0.0.1',
          port: 0,
          user: 'root',
          hostKey,
          knownHostsLine: '',
          peers,
          users: spec.users,
          initPid,
          dockerSocket,
          readyMs: Date.now() - t0,
        };
      }),
    );

    // From this computer to each device's port 22: loopback relay -> Unix socket -> forwarder in the hub.
    const forwards = devices.map((d) => `${join(dir, d.name, 'ssh.sock')}=${d.labAddress}:22`);
    const hubLog = openSync(join(dir, 'hub.log'), 'a');
    try {
      const hubPid = spawnDetached(
        [
          'nsenter',
          `--net=/run/netns/${hubNetns}`,
          '--',
          'unshare',
          '--pid',
          '--fork',
          '--kill-child',
          process.execPath,
          '--import',
          'tsx',
          join(PROJECT_ROOT, 'test/lab/hub-forward.ts'),
          ...forwards,
        ],
        hubLog,
      );
      await trackPid(dir, hubPid);
      await writeFile(
        join(dir, 'relay.json'),
        JSON.stringify(devices.map((d) => ({ name: d.name, socket: join(dir, d.name, 'ssh.sock') }))),
      );
      const relayPid = spawnDetached(
        [process.execPath, '--import', 'tsx', join(PROJECT_ROOT, 'test/lab/relay.ts'), dir],
        hubLog,
      );
      await trackPid(dir, relayPid);
      // A packet delayer per device in the hub (see setDelay); idle until its NFQUEUE rule is set.
      for (const [index, d] of devices.entries()) {
        const delayPid = spawnDetached(
          [
            'nsenter',
            `--net=/run/netns/${hubNetns}`,
            '--',
            'python3',
            join(PROJECT_ROOT, 'test/lab/nfq-delay.py'),
            String(index + 1),
            join(dir, d.name, 'delay.ctl'),
          ],
          hubLog,
        );
        await trackPid(dir, delayPid);
      }
    } finally {
      closeSync(hubLog);
    }
    const ports = await waitFor(
      `the lab relay (see ${join(dir, 'hub.log')})`,
      async () => JSON.parse(await readFile(join(dir, 'relay-ports.json'), 'utf8')) as Record<string, number>,
      20_000,
    );

    await waitFor(
      `the hub's forwarders and delayers (see ${join(dir, 'hub.log')})`,
      async () => {
        for (const d of devices) {
          await stat(join(dir, d.name, 'ssh.sock'));
          await stat(join(dir, d.name, 'delay.ctl'));
        }
        return true;
      },
      20_000,
    );

    const knownHosts: string[] = [];
    for (const d of devices) {
      d.port = ports[d.name] ?? 0;
      d.knownHostsLine = `[${d.host}]:${d.port} ${d.hostKey.type} ${d.hostKey.base64}`;
      knownHosts.push(d.knownHostsLine);
    }
    const knownHostsFile = join(dir, 'known_hosts');
    await writeFile(knownHostsFile, `${knownHosts.join('\n')}\n`);

    const lab = new Lab({
      id,
      dir,
      ownerPid: process.pid,
      hubNetns,
      hubAddress: HUB_ADDRESS,
      clientKey,
      clientPublicKey,
      knownHostsFile,
      image: LAB_IMAGE,
      devices,
    });

    await Promise.all(
      devices.map(async (d) => {
        const t0 = Date.now();
        await waitFor(`SSH on lab device ${d.name}`, () => sshBanner(d.host, d.port), 30_000);
        if (d.docker) {
          await waitFor(
            `dockerd on lab device ${d.name} (see ${join(dir, d.name, 'dockerd.log')})`,
            async () =>
              (await lab.exec(d.name, 'docker version --format {{.Server.Version}}')).stdout.trim() ? true : undefined,
            60_000,
            200,
          );
          const has = await lab.exec(d.name, `docker image inspect ${LAB_IMAGE} >/dev/null 2>&1`, { allowFail: true });
          if (has.code !== 0) {
            const changes = IMPORT_CHANGES.map(shellQuote).join(' ');
            if (d.kind === 'ns')
              await lab.exec(d.name, `docker import ${changes} ${rootfsTar} ${LAB_IMAGE} >/dev/null`);
            else
              await lab.exec(d.name, `docker import ${changes} - ${LAB_IMAGE} >/dev/null`, {
                input: await readFile(rootfsTar),
              });
          }
        }
        d.readyMs += Date.now() - t0;
      }),
    );
    await writeFile(join(dir, 'lab.json'), JSON.stringify(lab.info, null, 2));
    log(
      `lab ${id}: ready in ${Date.now() - started} ms (${devices.map((d) => `${d.name} ${d.kind}/${d.ssh} ${d.readyMs} ms`).join(', ')})`,
    );
    return lab;
  } catch (e) {
    await stopLab(dir).catch(() => undefined);
    throw e;
  }
}

/** Removes everything a lab run made: processes, namespaces, interfaces, cgroups, files. */
export async function stopLab(labOrDir: Lab | string): Promise<void> {
  const dir = typeof labOrDir === 'string' ? labOrDir : labOrDir.info.dir;
  if (!existsSync(join(dir, 'cleanup.sh'))) return;
  await run(['sh', join(dir, 'cleanup.sh')], { timeoutMs: 60_000 });
}

/** Tears down runs whose owner process is gone (left by a crash before the watchdog ran). */
export async function cleanStaleLabs(root?: string): Promise<string[]> {
  const runs = join(labRoot(root), 'runs');
  const { stdout } = await run(['sh', '-c', `ls -1 ${shellQuote(runs)} 2>/dev/null || true`]);
  const cleaned: string[] = [];
  for (const id of stdout.split('\n').filter(Boolean)) {
    const dir = join(runs, id);
    const owner = Number(await readFile(join(dir, 'owner'), 'utf8').catch(() => '0'));
    let alive = false;
    try {
      if (owner > 0) process.kill(owner, 0);
      alive = owner > 0;
    } catch {
      alive = false;
    }
    if (!alive) {
      await stopLab(dir);
      cleaned.push(id);
    }
  }
  return cleaned;
}
