// fetchEngineQuick against a small fake engine on a Unix socket: dockerode speaks real HTTP to it.
import Docker from 'dockerode';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchEngineQuick } from './inventory.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function fakeEngine(pingHeaders: Record<string, string>): Promise<{ docker: Docker; asked: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'pw-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    if (req.url?.startsWith('/_ping')) {
      res.writeHead(200, { 'Content-Type': 'text/plain', ...pingHeaders });
      res.end('OK');
    } else if (req.url?.startsWith('/version')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ Version: '4.3.1', ApiVersion: '1.41', Os: 'linux', Arch: 'arm64', KernelVersion: '6.1.0' }),
      );
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  closers.push(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  return { docker: new Docker({ socketPath }), asked };
}

describe('fetchEngineQuick', () => {
  it("reads Docker's version and API version from /_ping's headers, without /version", async () => {
    const { docker, asked } = await fakeEngine({ Server: 'Docker/27.3.1 (linux)', 'Api-Version': '1.47' });
    await expect(fetchEngineQuick(docker)).resolves.toEqual({
      version: '27.3.1',
      apiVersion: '1.47',
      os: 'linux',
      name: 'Docker Engine',
    });
    expect(asked.some((u) => u.startsWith('/version'))).toBe(false);
  });

  it('asks /version when the ping does not say (another engine, an old one)', async () => {
    const { docker, asked } = await fakeEngine({ Server: 'Libpod/4.3.1 (linux)' });
    await expect(fetchEngineQuick(docker)).resolves.toMatchObject({ version: '4.3.1', arch: 'arm64', kernel: '6.1.0' });
    expect(asked.some((u) => u.startsWith('/version'))).toBe(true);
  });
});
