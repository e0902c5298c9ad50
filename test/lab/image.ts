// The lab's offline container image: a busybox-static root filesystem, made locally (no registry exists).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile, copyFile, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from './exec.js';

export const LAB_IMAGE = 'portwright-lab/busybox:latest';
const BUSYBOX = '/bin/busybox';

/** Builds (once per busybox binary) a tar of a root filesystem with sh, sleep, ping, nc, ip, httpd. */
export async function ensureBusyboxRootfs(cacheDir: string): Promise<string> {
  const binary = await readFile(BUSYBOX).catch(() => {
    throw new Error(`${BUSYBOX} not found: install Debian's busybox-static`);
  });
  const hash = createHash('sha256').update(binary).digest('hex').slice(0, 12);
  const tarPath = join(cacheDir, `busybox-rootfs-${hash}.tar`);
  if (existsSync(tarPath)) return tarPath;

  await mkdir(cacheDir, { recursive: true });
  const root = await mkdtemp(join(cacheDir, 'rootfs-'));
  try {
    await mkdir(join(root, 'bin'), { recursive: true });
    await copyFile(BUSYBOX, join(root, 'bin/busybox'));
    await chmod(join(root, 'bin/busybox'), 0o755);
    const { stdout } = await run([BUSYBOX, '--list-full']);
    for (const applet of stdout.split('\n').filter(Boolean)) {
      if (applet === 'bin/busybox') continue;
      const target = join(root, applet);
      await mkdir(dirname(target), { recursive: true });
      const depth = applet.split('/').length - 1;
      await symlink(`${'../'.repeat(depth)}bin/busybox`, target).catch(() => undefined);
    }
    for (const d of ['etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'var/www', 'run']) {
      await mkdir(join(root, d), { recursive: true });
    }
    await writeFile(
      join(root, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
    );
    await writeFile(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    await writeFile(join(root, 'var/www/index.html'), 'portwright lab\n');
    await chmod(join(root, 'tmp'), 0o1777);
    const tmpTar = `${tarPath}.${process.pid}.tmp`;
    await run(['tar', '--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', tmpTar, '.']);
    await rename(tmpTar, tarPath);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return tarPath;
}

/** `docker import` arguments that make the tar a runnable image. */
export const IMPORT_CHANGES = ['--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
