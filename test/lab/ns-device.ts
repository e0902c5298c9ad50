// A lab device made of namespaces on this machine: its own network, mounts, PIDs and hostname,
// with its own sshd or Dropbear and dockerd, started by a small init that is PID 1 of the device.
import { chmod, chown, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { run, spawnDetached, waitFor } from './exec.js';
import { toDropbearKey } from './keys.js';
import type { LabUser, SshServer } from './types.js';

export const DOCKER_BIP = '198.19.0.1/24';
export const DOCKER_POOL = 'base=198.19.64.0/18,size=24';
/** Containers' DNS: the hub, where nothing answers, so no query ever leaves the lab. */
export const DOCKER_DNS = '198.18.0.1';

export interface NsDeviceOptions {
  labId: string;
  name: string;
  dir: string;
  netns: string;
  ssh: SshServer;
  docker: boolean;
  hostKeyPath: string;
  authorizedKeys: string;
  users: LabUser[];
  pam: boolean;
}

const FIRST_UID = 2001;

export interface NsDevice {
  /** PID of `unshare` (host view). */
  unsharePid: number;
  /** PID of the device's init (PID 1 inside the device). */
  initPid: number;
}

function sshdConfig(o: NsDeviceOptions): string {
  const passwords = o.users.some((u) => u.password !== undefined);
  const busyboxUsers = o.users.filter((u) => u.shell === 'busybox').map((u) => u.name);
  const matches = busyboxUsers.length
    ? `Match User ${busyboxUsers.join(',')}\n  SetEnv PATH=${join(o.dir, 'busybox', 'bin')}\n`
    : '';
  return base(o.dir, o.hostKeyPath)
    .replace('PasswordAuthentication no', `PasswordAuthentication ${passwords && !o.pam ? 'yes' : 'no'}`)
    .replace('KbdInteractiveAuthentication no', `KbdInteractiveAuthentication ${o.pam ? 'yes' : 'no'}`)
    .replace('UsePAM no', `UsePAM ${o.pam ? 'yes' : 'no'}`)
    .concat(matches);
}

function base(dir: string, hostKeyPath: string): string {
  return `# sshd of a Portwright lab device
Port 22
ListenAddress 0.0.0.0
HostKey ${hostKeyPath}
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
X11Forwarding no
PrintMotd no
LogLevel VERBOSE
MaxStartups 100:30:200
Subsystem sftp internal-sftp
# ${dir}
`;
}

function initScript(o: NsDeviceOptions, sshCommand: string): string {
  const cgroupParent = `/${o.labId}-${o.name}`;
  const dockerd = o.docker
    ? `dockerd --host unix:///var/run/docker.sock --pidfile /run/docker.pid \\
  --bip ${DOCKER_BIP} --default-address-pool ${DOCKER_POOL} --dns ${DOCKER_DNS} \\
  --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent ${cgroupParent} >>"$D/dockerd.log" 2>&1 &`
    : '# no Docker on this device';
  return `#!/bin/sh
# PID 1 of lab device ${o.name}: gives the device its own /sys, /proc, /run, /root and
# /var/lib/docker, starts its SSH server and dockerd, then waits to be killed.
set -e
D='${o.dir}'
hostname '${o.name}'
mount --make-rprivate /
# A fresh sysfs shows the device's own links; the cgroup mounts under it must survive the swap
# or dockerd dies with "Devices cgroup isn't mounted".
mkdir -p "$D/.cg"
mount --rbind /sys/fs/cgroup "$D/.cg"
umount -l /sys
mount -t sysfs sysfs /sys
mount --rbind "$D/.cg" /sys/fs/cgroup
umount -l "$D/.cg"
mount -t proc proc /proc
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/sshd /run/lock
mount --bind "$D/root" /root
# The device's own accounts: this computer's, plus the lab users.
mount --bind "$D/etc/passwd" /etc/passwd
mount --bind "$D/etc/group" /etc/group
mount --bind "$D/etc/shadow" /etc/shadow
mkdir -p "$D/home"
mount --bind "$D/home" /home
mkdir -p /var/lib/docker
mount --bind "$D/docker" /var/lib/docker
ip link set lo up
${sshCommand} >>"$D/sshd.log" 2>&1 &
${dockerd}
echo started >"$D/init.ready"
exec sleep infinity
`;
}

/** The device's passwd, group and shadow: this computer's, with the lab users added. */
async function writeAccounts(o: NsDeviceOptions): Promise<void> {
  const etc = join(o.dir, 'etc');
  await mkdir(etc, { recursive: true });
  let passwd = await readFile('/etc/passwd', 'utf8');
  let group = await readFile('/etc/group', 'utf8');
  let shadow = await readFile('/etc/shadow', 'utf8');
  const dockerMembers: string[] = [];
  for (const [i, u] of o.users.entries()) {
    const uid = FIRST_UID + i;
    const home = join(o.dir, 'home', u.name);
    let shell = '/bin/sh';
    if (u.shell === 'busybox') {
      await busyboxBin(join(o.dir, 'busybox', 'bin'));
      shell = join(o.dir, 'busybox', 'bin', 'sh');
    }
    passwd += `${u.name}:x:${uid}:${uid}:lab user:/home/${u.name}:${shell}\n`;
    group += `${u.name}:x:${uid}:\n`;
    const hash =
      u.password === undefined
        ? '*'
        : (await run(['openssl', 'passwd', '-6', '-stdin'], { input: u.password })).stdout.trim();
    shadow += `${u.name}:${hash}:19000:0:99999:7:::\n`;
    if (u.docker) dockerMembers.push(u.name);
    await mkdir(join(home, '.ssh'), { recursive: true });
    await writeFile(join(home, '.ssh', 'authorized_keys'), o.authorizedKeys, { mode: 0o600 });
    for (const p of [home, join(home, '.ssh'), join(home, '.ssh', 'authorized_keys')]) await chown(p, uid, uid);
    await chmod(join(home, '.ssh'), 0o700);
  }
  if (!/^docker:/m.test(group)) group += 'docker:x:990:\n';
  group = group.replace(
    /^(docker:[^:]*:\d+:)(.*)$/m,
    (_m, head: string, members: string) => head + [...members.split(',').filter(Boolean), ...dockerMembers].join(','),
  );
  await writeFile(join(etc, 'passwd'), passwd);
  await writeFile(join(etc, 'group'), group);
  await writeFile(join(etc, 'shadow'), shadow, { mode: 0o640 });
}

/** A folder of busybox applets and nothing else: the whole world of a busybox-only user. */
async function busyboxBin(bin: string): Promise<void> {
  await mkdir(bin, { recursive: true });
  const { stdout } = await run(['/bin/busybox', '--list']);
  for (const applet of stdout.split('\n').filter(Boolean)) {
    await symlink('/bin/busybox', join(bin, applet)).catch(() => undefined);
  }
}

export async function startNsDevice(o: NsDeviceOptions): Promise<NsDevice> {
  await mkdir(join(o.dir, 'root', '.ssh'), { recursive: true });
  await mkdir(join(o.dir, 'docker'), { recursive: true });
  await chmod(join(o.dir, 'root'), 0o700);
  await chmod(join(o.dir, 'root', '.ssh'), 0o700);
  await writeFile(join(o.dir, 'root', '.ssh', 'authorized_keys'), o.authorizedKeys, { mode: 0o600 });
  await mkdir(join(o.dir, 'home'), { recursive: true });
  await writeAccounts(o);

  let sshCommand: string;
  if (o.ssh === 'openssh') {
    const config = join(o.dir, 'sshd_config');
    await writeFile(config, sshdConfig(o));
    sshCommand = `/usr/sbin/sshd -D -e -f '${config}'`;
  } else {
    const key = join(o.dir, 'dropbear_host_key');
    await toDropbearKey(o.hostKeyPath, key);
    sshCommand = `/usr/sbin/dropbear -F -E -s -p 22 -r '${key}' -P /run/dropbear.pid`;
  }
  const script = join(o.dir, 'init.sh');
  await writeFile(script, initScript(o, sshCommand), { mode: 0o755 });

  const log = openSync(join(o.dir, 'init.log'), 'a');
  let unsharePid: number;
  try {
    unsharePid = spawnDetached(
      [
        'nsenter',
        `--net=/run/netns/${o.netns}`,
        '--',
        'unshare',
        '--mount',
        '--pid',
        '--uts',
        '--fork',
        '--kill-child',
        '--propagation',
        'private',
        'sh',
        script,
      ],
      log,
    );
  } finally {
    closeSync(log);
  }
  // nsenter execs unshare, which forks the device's init: that child is PID 1 inside.
  const initPid = await waitFor(
    `the init of lab device ${o.name}`,
    async () => {
      const children = (await readFile(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8')).trim();
      const first = children.split(/\s+/)[0];
      return first ? Number(first) : undefined;
    },
    10_000,
    20,
  );
  await waitFor(
    `lab device ${o.name} to mount its filesystems (see ${join(o.dir, 'init.log')})`,
    async () => {
      const ready = await readFile(join(o.dir, 'init.ready'), 'utf8').catch(() => '');
      if (ready) return true;
      // If init died, say so now instead of timing out.
      await readFile(`/proc/${initPid}/stat`).catch(async () => {
        const out = await readFile(join(o.dir, 'init.log'), 'utf8').catch(() => '');
        throw new Error(`lab device ${o.name} init exited: ${out.trim().split('\n').slice(-3).join(' | ')}`);
      });
      return undefined;
    },
    15_000,
    50,
  );
  return { unsharePid, initPid };
}
