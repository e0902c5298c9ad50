// Lab device with its own (Debian) kernel: builds a cached QEMU image and boots VMs on the lab's namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsConstants, createWriteStream, openSync, closeSync } from 'node:fs';
import {
  access,
  chmod,
  copyFile,
  mkdir,
  open,
  readFile,
  readdir,
  readlink,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface VmImage {
  dir: string;
  kernel: string;
  initrd?: string;
  rootfs: string;
  recipeHash: string;
}

export interface VmDeviceOptions {
  id: string;
  dir: string;
  netns: string;
  hubNetns: string;
  mgmtAddress: string;
  mgmtPrefix: number;
  mgmtGateway: string;
  fieldPorts: { name: string; hostIf: string }[];
  authorizedKeys: string;
  hostKeyPath: string;
  clientKeyPath: string;
  memoryMiB?: number;
  /**
   * vCPUs; default 1. With 2, multi-threaded TCG once left the guest kernel in a soft lockup (int3 text
   * patching in __alloc_pages while the first container enabled cgroup controllers), and boot gains only ~20 %.
   */
  cpus?: number;
  log?: (m: string) => void;
  /** How long to wait for `ssh … docker info`; default 180 s. */
  bootTimeoutMs?: number;
}

export interface VmDevice {
  pid: number;
  bootMs: number;
  stop(): Promise<void>;
}

type Log = (m: string) => void;

export const DEFAULT_VM_CACHE_DIR = '/var/cache/portwright-lab/vm';
export const LAB_IMAGE = 'portwright-lab/busybox:latest';

const RECIPE_DIR = fileURLToPath(new URL('./vm-recipe/', import.meta.url));

// Everything here shapes the image and goes into the recipe hash; bump `revision` when the build code changes.
const BUILD = {
  revision: 1,
  suite: 'bookworm',
  variant: 'minbase',
  packages: [
    'docker.io',
    'containerd',
    'runc',
    'openssh-server',
    'iproute2',
    'busybox-static',
    'kmod',
    'iptables',
    'tcpdump',
  ],
  kernelPattern: '^linux-image-6\\.1\\.0-[0-9]+-amd64$',
  // Loaded by the initramfs, dependencies first (resolved from modules.dep); ext4 wants crc32c through the crypto API.
  initramfsModules: ['virtio_pci', 'virtio_blk', 'crc32c_generic', 'ext4'],
  // Large driver trees a virtio guest never loads; dropping them shrinks the image by about half.
  prunedModuleDirs: [
    'kernel/sound',
    'kernel/drivers/gpu',
    'kernel/drivers/media',
    'kernel/drivers/infiniband',
    'kernel/drivers/usb',
    'kernel/drivers/iio',
    'kernel/drivers/staging',
    'kernel/drivers/hid',
    'kernel/drivers/hwmon',
    'kernel/drivers/isdn',
    'kernel/drivers/comedi',
    'kernel/drivers/bluetooth',
    'kernel/drivers/net/wireless',
    'kernel/drivers/net/ethernet',
    'kernel/net/wireless',
    'kernel/net/mac80211',
    'kernel/net/bluetooth',
  ],
  prunedRootfsPaths: [
    'usr/share/doc',
    'usr/share/man',
    'usr/share/info',
    'usr/share/locale',
    'var/lib/apt/lists',
    'var/cache/apt/archives',
    'var/cache/debconf/templates.dat-old',
    'etc/ssh/ssh_host_ecdsa_key',
    'etc/ssh/ssh_host_ecdsa_key.pub',
    'etc/ssh/ssh_host_ed25519_key',
    'etc/ssh/ssh_host_ed25519_key.pub',
    'etc/ssh/ssh_host_rsa_key',
    'etc/ssh/ssh_host_rsa_key.pub',
    'etc/resolv.conf',
  ],
  // Free space on the guest's root for Docker images and containers (the file is sparse).
  rootfsHeadroomMiB: 2048,
  labImage: LAB_IMAGE,
  // Files of vm-recipe/ and where they go; their contents are hashed too.
  recipeFiles: [
    { file: 'inittab', path: 'etc/inittab', mode: 0o644 },
    { file: 'sshd_config', path: 'etc/ssh/sshd_config.d/portwright.conf', mode: 0o644 },
    { file: 'pw-rc', path: 'usr/local/sbin/pw-rc', mode: 0o755 },
    { file: 'pw-dockerd', path: 'usr/local/sbin/pw-dockerd', mode: 0o755 },
    { file: 'pw-import-image', path: 'usr/local/sbin/pw-import-image', mode: 0o755 },
  ],
  initramfsInit: 'initramfs-init',
} as const;

const QEMU = 'qemu-system-x86_64';
const KERNEL_CMDLINE = 'console=ttyS0 panic=1 mitigations=off edd=off loglevel=5';
const DEFAULT_BOOT_TIMEOUT_MS = 180_000;
const LAB_RANGE = { base: ipv4ToInt('198.18.0.0'), prefix: 15 };

// ---------------------------------------------------------------------------------------------
// Small process helpers

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  stdoutFile?: string;
  logFile?: string;
  allowFail?: boolean;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdoutFd = opts.stdoutFile !== undefined ? openSync(opts.stdoutFile, 'w') : undefined;
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input !== undefined ? 'pipe' : 'ignore', stdoutFd ?? 'pipe', 'pipe'],
    });
    const logStream = opts.logFile !== undefined ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
    logStream?.write(`$ ${cmd} ${args.join(' ')}\n`);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      logStream?.write(d);
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      logStream?.write(d);
    });
    // A command may exit before reading its input; that shows in its exit code, not as an EPIPE crash.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input);
    child.on('error', (err) => {
      if (stdoutFd !== undefined) closeSync(stdoutFd);
      logStream?.end();
      reject(new Error(`${cmd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (stdoutFd !== undefined) closeSync(stdoutFd);
      logStream?.end();
      const rc = code ?? 128;
      if (rc !== 0 && opts.allowFail !== true) {
        const tail = (stderr.trim() || stdout.trim()).split('\n').slice(-15).join('\n');
        reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${rc}`}):\n${tail}`));
      } else {
        resolve({ code: rc, stdout, stderr });
      }
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// Resolves true if `p` settles within `ms`; the timer also keeps Node alive while an unref'd child is awaited.
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function requireTools(tools: string[], hint: string): Promise<void> {
  const r = await run('sh', ['-c', 'for t in "$@"; do command -v "$t" >/dev/null || echo "$t"; done', 'sh', ...tools]);
  const missing = r.stdout.split('\n').filter((t) => t !== '');
  if (missing.length > 0) throw new Error(`missing host tools: ${missing.join(', ')} (${hint})`);
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// QEMU's option parser splits on commas; a literal comma is written twice.
function qemuPath(p: string): string {
  return p.replace(/,/g, ',,');
}

function ipv4ToInt(a: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (!m) throw new Error(`not an IPv4 address: ${a}`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new Error(`not an IPv4 address: ${a}`);
  return parts.reduce((acc, p) => ((acc << 8) | p) >>> 0, 0);
}

function inLabRange(a: string): boolean {
  const mask = (0xffffffff << (32 - LAB_RANGE.prefix)) >>> 0;
  return (ipv4ToInt(a) & mask) >>> 0 === LAB_RANGE.base;
}

// ---------------------------------------------------------------------------------------------
// Image: recipe hash, lock, build

interface Recipe {
  hash: string;
  files: Map<string, Buffer>;
}

async function loadRecipe(): Promise<Recipe> {
  const h = createHash('sha256');
  h.update(JSON.stringify(BUILD));
  const files = new Map<string, Buffer>();
  for (const name of [BUILD.initramfsInit, ...BUILD.recipeFiles.map((f) => f.file)]) {
    const content = await readFile(join(RECIPE_DIR, name));
    files.set(name, content);
    h.update(`\0${name}\0`);
    h.update(content);
  }
  return { hash: h.digest('hex'), files };
}

function recipeFile(recipe: Recipe, name: string): Buffer {
  const content = recipe.files.get(name);
  if (content === undefined) throw new Error(`recipe file ${name} not loaded`);
  return content;
}

function imageOf(dir: string, hash: string): VmImage {
  return {
    dir,
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    rootfs: join(dir, 'rootfs.ext4'),
    recipeHash: hash,
  };
}

async function imageComplete(dir: string): Promise<boolean> {
  return (await exists(join(dir, 'image.json'))) && (await exists(join(dir, 'rootfs.ext4')));
}

// A kernel flock held by a helper process: released by the kernel if this process dies, so a lock is never stale.
async function acquireLock(lockPath: string, log: Log): Promise<() => Promise<void>> {
  const child = spawn('flock', ['-x', lockPath, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined);
  const waitingNote = setTimeout(() => log(`waiting for another build to release ${lockPath}`), 1000);
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`flock ${lockPath} exited ${code ?? '?'}: ${stderr}`)));
    });
  } finally {
    clearTimeout(waitingNote);
  }
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) {
        resolve();
        return;
      }
      child.once('exit', () => resolve());
      child.stdin.end();
    });
}

export async function ensureVmImage(opts: { cacheDir?: string; log?: Log } = {}): Promise<VmImage> {
  const cacheDir = opts.cacheDir ?? DEFAULT_VM_CACHE_DIR;
  const log = opts.log ?? (() => undefined);
  const recipe = await loadRecipe();
  const short = recipe.hash.slice(0, 16);
  const dir = join(cacheDir, `img-${short}`);
  if (await imageComplete(dir)) return imageOf(dir, recipe.hash);
  await requireTools(
    ['debootstrap', 'apt-get', 'apt-cache', 'dpkg', 'mkfs.ext4', 'flock', 'unshare', 'chroot', 'tar', 'du'],
    'apt-get install debootstrap e2fsprogs util-linux',
  );

  await mkdir(cacheDir, { recursive: true });
  const release = await acquireLock(join(cacheDir, `.lock-${short}`), log);
  try {
    if (await imageComplete(dir)) return imageOf(dir, recipe.hash);
    // Leftovers of a build that died; we hold the lock, so nobody else is using them.
    for (const entry of await readdir(cacheDir)) {
      if (entry.startsWith(`.tmp-${short}-`)) await removeTree(join(cacheDir, entry));
    }
    const tmp = join(cacheDir, `.tmp-${short}-${process.pid}`);
    await mkdir(tmp);
    const started = Date.now();
    log(`building VM image ${short} in ${tmp}`);
    try {
      const info = await buildImage(tmp, recipe, log);
      await writeFile(
        join(tmp, 'image.json'),
        JSON.stringify(
          { recipeHash: recipe.hash, builtAt: new Date().toISOString(), buildMs: Date.now() - started, ...info },
          null,
          2,
        ) + '\n',
      );
      if (await exists(dir)) await removeTree(dir); // an incomplete image from an older, non-atomic copy
      await rename(tmp, dir);
    } catch (err) {
      await removeTree(tmp).catch(() => undefined);
      throw err;
    }
    log(`VM image ${short} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await pruneUnusedImages(cacheDir, dir, log);
    return imageOf(dir, recipe.hash);
  } finally {
    await release();
  }
}

// Images of older recipes pile up at ~600 MiB each; drop those no running qemu holds open as a backing file.
async function pruneUnusedImages(cacheDir: string, keep: string, log: Log): Promise<void> {
  const candidates = (await readdir(cacheDir))
    .filter((e) => e.startsWith('img-'))
    .map((e) => join(cacheDir, e))
    .filter((d) => d !== keep);
  if (candidates.length === 0) return;
  const openFiles = new Set<string>();
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        openFiles.add(await readlink(`/proc/${pid}/fd/${fd}`));
      } catch {
        // the process or fd went away meanwhile
      }
    }
  }
  for (const d of candidates) {
    if ([...openFiles].some((f) => f.startsWith(`${d}/`))) continue;
    log(`removing unused VM image ${d}`);
    await removeTree(d);
    await rm(join(cacheDir, `.lock-${d.slice(d.lastIndexOf('img-') + 4)}`), { force: true });
  }
}

// debootstrap mounts proc/sys in its target; refuse to rm -rf across a mount point rather than wander into /sys.
async function removeTree(path: string): Promise<void> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  const prefix = path.endsWith('/') ? path : `${path}/`;
  const inside = mounts
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === path || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const m of inside) await run('umount', ['-l', m], { allowFail: true });
  await rm(path, { recursive: true, force: true });
}

async function readMirror(): Promise<string> {
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  if (await exists(deb822)) {
    const text = await readFile(deb822, 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string): string[] => {
        const m = new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza);
        return m?.[1] !== undefined ? m[1].trim().split(/\s+/) : [];
      };
      const suites = field('Suites');
      const types = field('Types');
      const uris = field('URIs');
      const uri = uris[0];
      if (types.includes('deb') && suites.includes(BUILD.suite) && uri !== undefined) return uri;
    }
  }
  const list = '/etc/apt/sources.list';
  if (await exists(list)) {
    const text = await readFile(list, 'utf8');
    const m = new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${BUILD.suite}\\s`, 'm').exec(text);
    if (m?.[1] !== undefined) return m[1];
  }
  throw new Error(`no apt source for ${BUILD.suite} in ${deb822} or ${list}`);
}

// debootstrap fetches with wget, which does not read apt's config; hand it apt's proxy if one is set.
async function aptProxyEnv(): Promise<NodeJS.ProcessEnv> {
  const env = { ...process.env };
  const r = await run('apt-config', ['dump', 'Acquire::http::Proxy'], { allowFail: true });
  const m = /^Acquire::http::Proxy "([^"]+)";/m.exec(r.stdout);
  if (m && m[1] !== 'DIRECT' && m[1] !== 'false') env.http_proxy = m[1];
  return env;
}

async function findKernelPackage(log: Log): Promise<string> {
  const pattern = new RegExp(BUILD.kernelPattern);
  const pick = async (): Promise<string | undefined> => {
    const r = await run('apt-cache', ['pkgnames', 'linux-image-6.1.0-'], { allowFail: true });
    const names = r.stdout.split('\n').filter((n) => pattern.test(n));
    const abi = (n: string): number => Number(/^linux-image-6\.1\.0-(\d+)-/.exec(n)?.[1] ?? 0);
    names.sort((a, b) => abi(b) - abi(a));
    for (const name of names) {
      const policy = await run('apt-cache', ['policy', name], { allowFail: true });
      if (/Candidate: (?!\(none\))/.test(policy.stdout)) return name;
    }
    return undefined;
  };
  let name = await pick();
  if (name === undefined) {
    log('no kernel package in the apt lists; running apt-get update');
    await run('apt-get', ['update']);
    name = await pick();
  }
  if (name === undefined) throw new Error(`no package matching ${BUILD.kernelPattern} in apt`);
  return name;
}

async function walk(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(root, p)));
  }
  return out;
}

// modules.dep lists every (transitive) dependency of a module; a depth-first walk yields a valid insmod order.
function moduleLoadOrder(modulesDep: string, wanted: readonly string[]): string[] {
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of modulesDep.split('\n')) {
    const [mod, rest] = line.split(':');
    if (!mod || rest === undefined) continue;
    deps.set(mod, rest.trim() === '' ? [] : rest.trim().split(/\s+/));
    byName.set(
      mod
        .replace(/^.*\//, '')
        .replace(/\.ko(\..*)?$/, '')
        .replace(/-/g, '_'),
      mod,
    );
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (mod: string): void => {
    if (seen.has(mod)) return;
    seen.add(mod);
    for (const d of deps.get(mod) ?? []) visit(d);
    order.push(mod);
  };
  for (const name of wanted) {
    const mod = byName.get(name.replace(/-/g, '_'));
    // Not a module means built in: nothing to load.
    if (mod !== undefined) visit(mod);
  }
  return order;
}

async function buildImage(tmp: string, recipe: Recipe, log: Log): Promise<Record<string, unknown>> {
  const buildLog = join(tmp, 'build.log');
  const rootfs = join(tmp, 'rootfs');
  const step = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    log(`  ${what}...`);
    const r = await fn();
    log(`  ${what}: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return r;
  };

  const mirror = await readMirror();
  const kernelPkg = await findKernelPackage(log);
  log(`  mirror ${mirror}, kernel ${kernelPkg}`);

  await step('debootstrap (download and unpack)', async () =>
    run(
      'debootstrap',
      [`--variant=${BUILD.variant}`, '--foreign', `--include=${BUILD.packages.join(',')}`, BUILD.suite, rootfs, mirror],
      { env: await aptProxyEnv(), logFile: buildLog },
    ),
  );
  // Package scripts must never start dockerd on the host: it would rewrite the host's iptables.
  await writeFile(join(rootfs, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  // A private network and mount namespace: no package script can touch the host's network, and
  // debootstrap's proc/sys mounts vanish with it even if it fails.
  await step('debootstrap (install)', () =>
    run(
      'unshare',
      ['--net', '--mount', '--propagation', 'private', 'chroot', rootfs, '/debootstrap/debootstrap', '--second-stage'],
      { logFile: buildLog },
    ),
  );

  const kernelVersion = await step('kernel', async () => {
    const kdir = join(tmp, 'kernel');
    await mkdir(kdir);
    const download = ['download', '-o', 'APT::Sandbox::User=root', kernelPkg];
    const got = await run('apt-get', download, { cwd: kdir, logFile: buildLog, allowFail: true });
    if (got.code !== 0) {
      // Old package lists name a kernel the mirror has dropped; refresh once.
      log('  kernel download failed; running apt-get update');
      await run('apt-get', ['update'], { logFile: buildLog });
      await run('apt-get', download, { cwd: kdir, logFile: buildLog });
    }
    const deb = (await readdir(kdir)).find((f) => f.endsWith('.deb'));
    if (deb === undefined) throw new Error(`apt-get download ${kernelPkg} left no .deb`);
    await run('dpkg', ['-x', join(kdir, deb), join(kdir, 'x')], { logFile: buildLog });
    const versions = await readdir(join(kdir, 'x/lib/modules'));
    const version = versions[0];
    if (version === undefined || versions.length !== 1) {
      throw new Error(`expected one kernel in ${deb}, found ${versions.join(', ')}`);
    }
    await copyFile(join(kdir, 'x/boot', `vmlinuz-${version}`), join(tmp, 'vmlinuz'));
    const modDir = join(rootfs, 'usr/lib/modules', version);
    await mkdir(join(rootfs, 'usr/lib/modules'), { recursive: true });
    await rename(join(kdir, 'x/lib/modules', version), modDir);
    await copyFile(join(kdir, 'x/boot', `config-${version}`), join(rootfs, 'boot', `config-${version}`));
    for (const d of BUILD.prunedModuleDirs) await rm(join(modDir, d), { recursive: true, force: true });
    await run('unshare', ['--net', 'chroot', rootfs, '/usr/sbin/depmod', '-a', version], { logFile: buildLog });
    await rm(kdir, { recursive: true, force: true });
    return version;
  });

  await step('guest files', async () => {
    for (const p of BUILD.prunedRootfsPaths) await rm(join(rootfs, p), { recursive: true, force: true });
    await mkdir(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
    await mkdir(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
    for (const f of BUILD.recipeFiles) {
      const dest = join(rootfs, f.path);
      await mkdir(join(dest, '..'), { recursive: true });
      await writeFile(dest, recipeFile(recipe, f.file));
      await chmod(dest, f.mode);
    }
    await buildBusyboxImageTar(tmp, rootfs, buildLog);
  });

  await step('initramfs', () => buildInitramfs(tmp, rootfs, kernelVersion, recipe, buildLog));

  await step('rootfs.ext4', async () => {
    const du = await run('du', ['-sxm', rootfs]);
    const usedMiB = Number(du.stdout.split(/\s+/)[0]);
    const sizeMiB = Math.ceil(usedMiB * 1.2) + BUILD.rootfsHeadroomMiB;
    const image = join(tmp, 'rootfs.ext4');
    const fh = await open(image, 'w');
    await fh.truncate(sizeMiB * 1024 * 1024);
    await fh.close();
    await run('mkfs.ext4', ['-q', '-F', '-L', 'pwroot', '-d', rootfs, image], { logFile: buildLog });
    // The base image is shared by every VM's qcow2 overlay: nothing may write to it.
    await chmod(image, 0o444);
  });
  await removeTree(rootfs);
  return { kernelPackage: kernelPkg, kernelVersion, mirror };
}

async function buildBusyboxImageTar(tmp: string, rootfs: string, buildLog: string): Promise<void> {
  const dir = join(tmp, 'bbimage');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) await mkdir(join(dir, d), { recursive: true });
  await copyFile(join(rootfs, 'usr/bin/busybox'), join(dir, 'bin/busybox'));
  await chmod(join(dir, 'bin/busybox'), 0o755);
  await chmod(join(dir, 'tmp'), 0o1777);
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\n');
  const applets = (await run(join(rootfs, 'usr/bin/busybox'), ['--list'])).stdout.split('\n').filter((a) => a !== '');
  const links = applets.filter((a) => a !== 'busybox' && /^[a-z0-9_.[-]+$/.test(a));
  await run('sh', ['-c', 'cd bin && for a in "$@"; do ln -sf busybox "$a"; done', 'sh', ...links], { cwd: dir });
  const dest = join(rootfs, 'usr/local/share/portwright');
  await mkdir(dest, { recursive: true });
  await run(
    'tar',
    ['--owner=0', '--group=0', '--numeric-owner', '-C', dir, '-cf', join(dest, 'busybox-rootfs.tar'), '.'],
    { logFile: buildLog },
  );
  await rm(dir, { recursive: true, force: true });
}

async function buildInitramfs(
  tmp: string,
  rootfs: string,
  kernelVersion: string,
  recipe: Recipe,
  buildLog: string,
): Promise<void> {
  const dir = join(tmp, 'initramfs');
  const modDir = join(rootfs, 'usr/lib/modules', kernelVersion);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await mkdir(join(dir, 'lib/modules'), { recursive: true });
  await copyFile(join(rootfs, 'usr/bin/busybox'), join(dir, 'bin/busybox'));
  await chmod(join(dir, 'bin/busybox'), 0o755);
  await writeFile(join(dir, 'init'), recipeFile(recipe, BUILD.initramfsInit), { mode: 0o755 });
  const order = moduleLoadOrder(await readFile(join(modDir, 'modules.dep'), 'utf8'), BUILD.initramfsModules);
  const names: string[] = [];
  for (const mod of order) {
    const base = mod.replace(/^.*\//, '');
    await copyFile(join(modDir, mod), join(dir, 'lib/modules', base));
    names.push(base);
  }
  await writeFile(join(dir, 'lib/modules/load-order'), names.join('\n') + '\n');
  const entries = await walk(dir);
  await run(join(rootfs, 'usr/bin/busybox'), ['cpio', '-o', '-H', 'newc', '-R', '0:0'], {
    cwd: dir,
    input: entries.join('\n') + '\n',
    stdoutFile: join(tmp, 'initrd.img'),
    logFile: buildLog,
  });
  await rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Device

function shortHash(s: string, hexChars: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, hexChars);
}

// Locally administered, unicast, stable for a given device id and port.
function macFor(id: string, port: number): string {
  const b = createHash('sha256').update(`${id}/${port}`).digest();
  b.writeUInt8((b.readUInt8(0) & 0xfc) | 0x02, 0);
  return Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

function validateOptions(opts: VmDeviceOptions): void {
  // The id ends up in qemu's comma-separated options and the guest hostname.
  if (!/^[A-Za-z0-9_.-]{1,48}$/.test(opts.id)) throw new Error(`bad device id ${opts.id}`);
  for (const [what, a] of [
    ['mgmtAddress', opts.mgmtAddress],
    ['mgmtGateway', opts.mgmtGateway],
  ] as const) {
    if (!inLabRange(a)) throw new Error(`${what} ${a} is outside the lab range 198.18.0.0/15`);
  }
  if (!Number.isInteger(opts.mgmtPrefix) || opts.mgmtPrefix < 15 || opts.mgmtPrefix > 30) {
    throw new Error(`mgmtPrefix ${opts.mgmtPrefix} must be 15..30`);
  }
  const ifname = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
  const names = new Set<string>(['eth0']);
  for (const p of opts.fieldPorts) {
    if (!ifname.test(p.name) || names.has(p.name)) throw new Error(`bad or duplicate guest NIC name ${p.name}`);
    if (!ifname.test(p.hostIf)) throw new Error(`bad host interface name ${p.hostIf}`);
    names.add(p.name);
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(opts.netns) || !/^[A-Za-z0-9_.-]+$/.test(opts.hubNetns)) {
    throw new Error('netns names must be plain names');
  }
}

async function tail(path: string, lines: number): Promise<string> {
  try {
    // SeaBIOS and the kernel clear the screen; their escape sequences only garble an error message.
    const esc = String.fromCharCode(27);
    const text = (await readFile(path, 'utf8'))
      .split(esc)
      .map((part, i) => (i === 0 ? part : part.replace(/^(\[[0-9;?]*[A-Za-z]|c)/, '')))
      .join('')
      .replace(/\r/g, '');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return `(no ${path})`;
  }
}

function sshArgs(dir: string, address: string): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    join(dir, 'client_key'),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=3',
    '-o',
    'LogLevel=ERROR',
    `root@${address}`,
  ];
}

export async function startVmDevice(image: VmImage, opts: VmDeviceOptions): Promise<VmDevice> {
  validateOptions(opts);
  await requireTools(
    [QEMU, 'qemu-img', 'nsenter', 'setpriv', 'ip', 'ssh', 'ssh-keygen', 'tar'],
    'apt-get install qemu-system-x86 qemu-utils util-linux iproute2 openssh-client',
  );
  const log = opts.log ?? (() => undefined);
  const dir = opts.dir;
  const tag = shortHash(opts.id, 4);
  const ns = opts.netns;
  const consoleLog = join(dir, 'console.log');
  // Names live in the device's own netns, but carry a hash of the id so they stay recognisable in any listing.
  const nics = [{ name: 'eth0', hostIf: 'up0' }, ...opts.fieldPorts].map((p, i) => ({
    ...p,
    index: i,
    tap: `pwt${tag}-${i}`,
    bridge: `pwb${tag}-${i}`,
    mac: macFor(opts.id, i),
  }));

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  const createdBridges: string[] = [];

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await settlesWithin(exited, 5000))) {
          child.kill('SIGKILL');
          await settlesWithin(exited, 5000);
        }
      }
      // qemu's taps vanish with it; the bridges are ours to remove.
      for (const n of nics) await run('ip', ['-n', ns, 'link', 'del', n.tap], { allowFail: true });
      for (const b of createdBridges) await run('ip', ['-n', ns, 'link', 'del', b], { allowFail: true });
    })();
    return stopping;
  };

  try {
    // Keys: ssh refuses group/world-readable private keys, so work from 0600 copies.
    await copyFile(opts.clientKeyPath, join(dir, 'client_key'));
    await chmod(join(dir, 'client_key'), 0o600);
    const cfg = join(dir, 'config');
    await mkdir(cfg, { recursive: true });
    await copyFile(opts.hostKeyPath, join(cfg, 'ssh_host_ed25519_key'));
    await chmod(join(cfg, 'ssh_host_ed25519_key'), 0o600);
    const hostPub = (await run('ssh-keygen', ['-y', '-f', join(cfg, 'ssh_host_ed25519_key')])).stdout.trim();
    if (!hostPub.startsWith('ssh-ed25519 ')) throw new Error(`${opts.hostKeyPath} is not an ed25519 key`);
    await writeFile(join(dir, 'known_hosts'), `${opts.mgmtAddress} ${hostPub}\n`);
    await writeFile(join(cfg, 'authorized_keys'), opts.authorizedKeys.trim() + '\n', { mode: 0o600 });
    const hostname =
      opts.id
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-')
        .slice(0, 63) || 'pw-vm';
    const env: Record<string, string> = {
      PW_HOSTNAME: hostname,
      PW_ADDR: opts.mgmtAddress,
      PW_PREFIX: String(opts.mgmtPrefix),
      PW_GW: opts.mgmtGateway,
      PW_NICS: nics.map((n) => `${n.mac}=${n.name}`).join(' '),
      PW_FIELD: opts.fieldPorts.map((p) => p.name).join(' '),
    };
    await writeFile(
      join(cfg, 'config.env'),
      Object.entries(env)
        .map(([k, v]) => `${k}=${shQuote(v)}`)
        .join('\n') + '\n',
    );
    await run('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', cfg, '-cf', join(dir, 'config.tar'), '.']);
    await rm(cfg, { recursive: true, force: true });

    await rm(join(dir, 'disk.qcow2'), { force: true });
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', image.rootfs, join(dir, 'disk.qcow2')]);

    for (const n of nics) {
      await run('ip', ['-n', ns, 'link', 'del', n.bridge], { allowFail: true });
      await run('ip', ['-n', ns, 'link', 'add', n.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
      createdBridges.push(n.bridge);
      // The bridge is a plain switch: no IPv6 link-local address of its own chattering on the lab.
      await run('ip', ['-n', ns, 'link', 'set', n.bridge, 'addrgenmode', 'none'], { allowFail: true });
      await run('ip', ['-n', ns, 'link', 'set', n.hostIf, 'master', n.bridge]);
      await run('ip', ['-n', ns, 'link', 'set', n.hostIf, 'up']);
      await run('ip', ['-n', ns, 'link', 'set', n.bridge, 'up']);
      // qemu runs this right after opening the tap, before the guest starts, so there is no race with the guest.
      await writeFile(
        join(dir, `ifup-${n.index}`),
        [
          '#!/bin/sh',
          'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
          'ip link set dev "$1" addrgenmode none 2>/dev/null',
          `ip link set dev "$1" master ${n.bridge} && ip link set dev "$1" up`,
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
    }

    const args = [
      '-name',
      `pw-${opts.id}`,
      '-accel',
      'tcg,thread=multi,tb-size=256',
      '-cpu',
      'max',
      '-smp',
      String(opts.cpus ?? 1),
      '-m',
      String(opts.memoryMiB ?? 768),
      '-nodefaults',
      '-nographic',
      '-no-reboot',
      '-monitor',
      'none',
      '-serial',
      `file:${qemuPath(consoleLog)}`,
      '-kernel',
      image.kernel,
      ...(image.initrd !== undefined ? ['-initrd', image.initrd] : []),
      '-append',
      KERNEL_CMDLINE,
      '-drive',
      `file=${qemuPath(join(dir, 'disk.qcow2'))},if=none,id=root,format=qcow2,cache=unsafe,discard=unmap`,
      '-device',
      'virtio-blk-pci,drive=root,addr=0x4',
      '-drive',
      `file=${qemuPath(join(dir, 'config.tar'))},if=none,id=config,format=raw,readonly=on`,
      '-device',
      'virtio-blk-pci,drive=config,addr=0x5',
    ];
    for (const n of nics) {
      args.push(
        '-netdev',
        `tap,id=n${n.index},ifname=${n.tap},script=${qemuPath(join(dir, `ifup-${n.index}`))},downscript=no`,
        '-device',
        // No option ROM: iPXE would only add seconds of emulated BIOS time; the kernel is loaded directly.
        `virtio-net-pci,netdev=n${n.index},mac=${n.mac},addr=${(0x8 + n.index).toString(16)},romfile=`,
      );
    }
    await writeFile(join(dir, 'qemu.args'), args.map(shQuote).join(' ') + '\n');

    const qemuLog = join(dir, 'qemu.log');
    const outFd = openSync(qemuLog, 'w');
    const started = Date.now();
    // nsenter and setpriv exec in place, so the pid is qemu's own; PDEATHSIG kills qemu if this process dies,
    // even by SIGKILL, so a crashed lab leaves no VM behind.
    child = spawn('nsenter', [`--net=/run/netns/${ns}`, '--', 'setpriv', '--pdeathsig', 'KILL', '--', QEMU, ...args], {
      stdio: ['ignore', outFd, outFd],
      detached: true,
    });
    closeSync(outFd);
    const proc = child;
    exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    // Also keeps a later 'error' (a failed kill) from crashing the process as an unhandled event.
    const spawnError = new Promise<Error>((resolve) => proc.on('error', resolve));
    proc.unref();
    if (proc.pid === undefined) throw await spawnError;
    await writeFile(join(dir, 'qemu.pid'), `${proc.pid}\n`);
    log(`${opts.id}: qemu pid ${proc.pid} started in netns ${ns}`);

    const timeoutMs = opts.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
    // Exit 3 means the guest gave up (its reason on stderr): fail now rather than at the timeout.
    const probe =
      'if [ -e /run/pw/docker-failed ]; then cat /run/pw/docker-failed >&2; exit 3; fi; ' +
      'test -e /run/pw/docker-ready && docker info >/dev/null';
    let lastError = '';
    let lastProbe = 0;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `${opts.id}: qemu exited (${proc.exitCode ?? proc.signalCode}) before the device was ready\n` +
            `--- ${qemuLog}\n${await tail(qemuLog, 10)}\n--- ${consoleLog}\n${await tail(consoleLog, 40)}`,
        );
      }
      if (Date.now() - started > timeoutMs) {
        throw new Error(
          `${opts.id}: not ready after ${timeoutMs / 1000} s (last ssh error: ${lastError || 'none'})\n` +
            `--- ${consoleLog}\n${await tail(consoleLog, 40)}`,
        );
      }
      // The guest announces docker on its console; until then ssh only rarely, because every login costs the
      // emulated guest CPU that dockerd needs. The rare probe covers a console that says nothing.
      const consoleText = await readFile(consoleLog, 'utf8').catch(() => '');
      const announced = /pw-device: docker-(ready|failed)/.test(consoleText);
      if (!announced && Date.now() - lastProbe < 10_000) {
        await sleep(250);
        continue;
      }
      lastProbe = Date.now();
      const r = await run(
        'nsenter',
        [`--net=/run/netns/${opts.hubNetns}`, '--', 'ssh', ...sshArgs(dir, opts.mgmtAddress), probe],
        { allowFail: true },
      );
      if (r.code === 0) break;
      if (r.code === 3) {
        throw new Error(
          `${opts.id}: docker in the guest failed: ${r.stderr.trim()}\n--- ${consoleLog}\n${await tail(consoleLog, 40)}`,
        );
      }
      lastError = r.stderr.trim().split('\n').slice(-1)[0] || `exit ${r.code}`;
      await sleep(500);
    }
    const bootMs = Date.now() - started;
    log(`${opts.id}: ready in ${(bootMs / 1000).toFixed(1)} s`);
    return { pid: proc.pid, bootMs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The ssh argument list (before the remote command) that reaches a started device from the hub namespace. */
export function vmSshArgs(opts: Pick<VmDeviceOptions, 'dir' | 'mgmtAddress'>): string[] {
  return sshArgs(opts.dir, opts.mgmtAddress);
}

// Exposed for tests of the pure helpers.
export const _internal = { macFor, moduleLoadOrder, inLabRange };
