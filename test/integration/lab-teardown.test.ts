// The lab leaves nothing behind: not after stopLab, and not when the process that owns it is killed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../lab/exec.js';
import { startLab, stopLab } from '../lab/index.js';
import { labSkipReason } from './support.js';

const skip = await labSkipReason();
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Everything of a lab run that could outlive it, as seen from this computer. */
async function traces(id: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  const netns = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${id}-`));
  found.push(...netns.map((n) => `netns ${n}`));
  const procs: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) procs.push(`${pid}: ${cmdline.replace(/\0/g, ' ').trim()}`);
  }
  if (procs.length) found.push(`processes: ${procs.join('; ')}`);
  const cgroups = (await run(['sh', '-c', `ls -d /sys/fs/cgroup/*/${id}-* 2>/dev/null || true`])).stdout.trim();
  if (cgroups) found.push(`cgroups: ${cgroups}`);
  if (existsSync(dir)) found.push(`folder ${dir}`);
  const mounts = (await run(['sh', '-c', `grep -F -- ${dir} /proc/self/mountinfo || true`])).stdout.trim();
  if (mounts) found.push(`mounts: ${mounts}`);
  return found;
}

describe.skipIf(skip)('lab teardown', () => {
  it('stopLab removes processes, namespaces, interfaces, cgroups and files, even with containers running', async () => {
    const lab = await startLab({ devices: [{ name: 'a' }, { name: 'b', ssh: 'dropbear', fieldPorts: 1 }] });
    const { id, dir } = lab.info;
    try {
      await lab.exec('a', `docker run -d --name busy ${lab.info.image} sleep 3600`);
      expect(await traces(id, dir)).not.toEqual([]);
    } finally {
      await stopLab(lab);
    }
    expect(await traces(id, dir)).toEqual([]);
  });

  it('cleans up by itself when the owning process is killed with SIGKILL', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'test/integration/fixtures/start-lab-and-wait.ts')],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const info = await new Promise<{ id: string; dir: string }>((resolveInfo, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolveInfo(JSON.parse(line) as { id: string; dir: string });
      });
      child.on('exit', (code) => reject(new Error(`lab child exited ${code}`)));
    });
    expect(await traces(info.id, info.dir)).not.toEqual([]);
    child.kill('SIGKILL');
    const deadline = Date.now() + 20_000;
    let left = await traces(info.id, info.dir);
    while (left.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      left = await traces(info.id, info.dir);
    }
    expect(left).toEqual([]);
  });

  it('lets two runs coexist with the same device names', async () => {
    const [one, two] = await Promise.all([
      startLab({ devices: [{ name: 'dev1', fieldPorts: 1, docker: false }] }),
      startLab({ devices: [{ name: 'dev1', fieldPorts: 1, docker: false }] }),
    ]);
    try {
      expect(one.id).not.toBe(two.id);
      expect((await one.exec('dev1', 'hostname')).stdout.trim()).toBe('dev1');
      expect((await two.exec('dev1', 'hostname')).stdout.trim()).toBe('dev1');
      expect(one.device('dev1').port).not.toBe(two.device('dev1').port);
    } finally {
      await Promise.all([stopLab(one), stopLab(two)]);
    }
    expect(await traces(one.id, one.info.dir)).toEqual([]);
    expect(await traces(two.id, two.info.dir)).toEqual([]);
  });

  it('refuses a bad device spec with a clear message and makes nothing', async () => {
    await expect(startLab({ devices: [{ name: 'Bad_Name' }] })).rejects.toThrow(/device name "Bad_Name" must match/);
    await expect(startLab({ devices: [{ name: 'x', kind: 'vm', ssh: 'dropbear' }] })).rejects.toThrow(
      /a VM runs OpenSSH/,
    );
  });
});
