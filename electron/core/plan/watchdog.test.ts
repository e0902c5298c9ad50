import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { UndoOp } from './apply.js';
import { confirmCommand, createCli, watchdogDir, watchdogScript } from './watchdog.js';

const OPS: UndoOp[] = [
  { op: 'disconnect', network: 'field a', container: 'plc' },
  { op: 'remove', network: 'field a' },
  {
    op: 'create',
    body: {
      Name: 'old',
      Driver: 'macvlan',
      Options: { parent: 'eth1' },
      IPAM: { Driver: 'default', Config: [{ Subnet: '198.18.1.0/24', Gateway: '198.18.1.1' }] },
      Labels: { 'dev.portwright.plan': "it's here" },
    },
  },
  { op: 'connect', network: 'old', container: 'plc', endpoint: { ipv4: '198.18.1.20', aliases: ['gw'] } },
];

function sh(command: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { env }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    );
  });
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

/** A bin folder with the tools the watchdog may use, and a `docker` stub that logs its arguments. */
async function binWith(tools: string[], dockerStub: boolean): Promise<{ bin: string; log: string }> {
  const bin = await mkdtemp(join(tmpdir(), 'pw-wd-bin-'));
  const log = join(bin, 'docker.log');
  cleanup.push(() => rm(bin, { recursive: true, force: true }));
  for (const t of ['sh', 'sleep', 'rm', 'touch', 'mkdir', 'cat', 'head', 'grep', ...tools]) {
    for (const dir of ['/usr/bin', '/bin']) {
      if (existsSync(join(dir, t))) {
        await symlink(join(dir, t), join(bin, t));
        break;
      }
    }
  }
  if (dockerStub) {
    await writeFile(
      join(bin, 'docker'),
      `#!/bin/sh\nfor a in "$@"; do printf '[%s]' "$a"; done >> ${log}\necho >> ${log}\n`,
      {
        mode: 0o755,
      },
    );
  }
  return { bin, log };
}

async function runWatchdog(token: string, bin: string, sock: string, via?: string): Promise<void> {
  const dir = watchdogDir(token);
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  await sh(`mkdir -p ${dir}`, { PATH: bin });
  await writeFile(join(dir, 'watchdog.sh'), watchdogScript(token, 1, sock, OPS));
  await sh(`sh ${dir}/watchdog.sh`, { PATH: bin, ...(via ? { PORTWRIGHT_WATCHDOG_VIA: via } : {}) });
}

describe('commit-confirmed watchdog', () => {
  it('replays the undo with the docker CLI when nobody confirms', async () => {
    const { bin, log } = await binWith([], true);
    const token = `t${Date.now()}a`;
    await runWatchdog(token, bin, '/nonexistent.sock');
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls).toEqual([
      '[network][disconnect][-f][field a][plc]',
      '[network][rm][field a]',
      "[network][create][-d][macvlan][--subnet][198.18.1.0/24][--gateway][198.18.1.1][-o][parent=eth1][--label][dev.portwright.plan=it's here][old]",
      '[network][connect][--ip][198.18.1.20][--alias][gw][old][plc]',
    ]);
    expect(existsSync(join(watchdogDir(token), 'reverted'))).toBe(true);
  });

  it('does nothing once confirmed, and then says it is gone', async () => {
    const { bin, log } = await binWith([], true);
    const token = `t${Date.now()}b`;
    await sh(`mkdir -p ${watchdogDir(token)}`, { PATH: bin });
    expect((await sh(confirmCommand(token), { PATH: bin })).stdout.trim()).toBe('confirmed');
    await runWatchdog(token, bin, '/nonexistent.sock');
    expect(existsSync(log)).toBe(false);
    expect(existsSync(watchdogDir(token))).toBe(false);
    expect((await sh(confirmCommand(token), { PATH: bin })).stdout.trim()).toBe('missing');
  });

  it('says too-late once it has reverted', async () => {
    const { bin } = await binWith([], true);
    const token = `t${Date.now()}c`;
    await runWatchdog(token, bin, '/nonexistent.sock');
    expect((await sh(confirmCommand(token), { PATH: bin })).stdout.trim()).toBe('too-late');
  });

  it.each(['curl', 'socat'])('speaks HTTP to the socket with %s where there is no docker CLI', async (tool) => {
    const { bin } = await binWith([tool], false);
    const sock = join(bin, 'docker.sock');
    const seen: string[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push(`${req.method ?? ''} ${req.url ?? ''} ${body}`);
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(sock, r));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    await runWatchdog(`t${Date.now()}${tool}`, bin, sock, tool);
    expect(seen.map((s) => s.split(' ').slice(0, 2).join(' '))).toEqual([
      'POST /networks/field%20a/disconnect',
      'DELETE /networks/field%20a',
      'POST /networks/create',
      'POST /networks/old/connect',
    ]);
    const created = JSON.parse(seen[2]?.split(' ').slice(2).join(' ') ?? '{}') as { Labels: Record<string, string> };
    expect(created.Labels['dev.portwright.plan']).toBe("it's here");
  });

  it('writes create flags for every part of a network', () => {
    expect(
      createCli({
        Name: 'n',
        Driver: 'ipvlan',
        Internal: true,
        EnableIPv6: true,
        IPAM: { Config: [{ Subnet: 'fd00::/64', IPRange: 'fd00::/80', AuxiliaryAddresses: { exclude0: 'fd00::2' } }] },
      }),
    ).toBe(
      "docker 'network' 'create' '-d' 'ipvlan' '--subnet' 'fd00::/64' '--ip-range' 'fd00::/80' '--aux-address' 'exclude0=fd00::2' '--internal' '--ipv6' 'n'",
    );
  });
});
