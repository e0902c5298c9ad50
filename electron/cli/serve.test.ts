import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Service } from '../core/service.js';
import { startServe, type Served } from './serve.js';

let dir: string;
let served: Served;
let service: Service;

function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: served.port, path, headers: { host: `127.0.0.1:${served.port}`, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const cookie = (): string => `portwright_token=${served.token}`;

function socket(headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${served.port}/ws`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? 0}`)));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pw-serve-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>');
  await writeFile(join(dir, 'app.js'), 'console.log(1)');
  service = new Service({ frontEnd: 'serve', storeFile: join(dir, 'inventory.db') });
  served = await startServe({ service, staticDir: dir });
});
afterAll(async () => {
  await served.close();
  service.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('portwright serve', () => {
  it('listens on 127.0.0.1 and prints an address with the token', () => {
    expect(served.url).toBe(`http://127.0.0.1:${served.port}/?token=${served.token}`);
    expect(served.token.length).toBeGreaterThanOrEqual(32);
  });

  it('refuses every request without the token', async () => {
    const r = await get('/');
    expect(r.status).toBe(401);
    expect((await get('/app.js')).status).toBe(401);
    expect((await get('/', { cookie: 'portwright_token=wrong' })).status).toBe(401);
  });

  it('trades the token in the address for a strict cookie, then serves the page marked for the core', async () => {
    const r = await get(`/?token=${served.token}`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/');
    expect(String(r.headers['set-cookie'])).toContain('HttpOnly; SameSite=Strict');
    const page = await get('/', { cookie: cookie() });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<meta name="portwright-core" content="websocket" />');
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    expect((await get('/app.js', { cookie: cookie() })).body).toBe('console.log(1)');
  });

  it('refuses another Host (DNS rebinding) and paths outside the bundle', async () => {
    expect((await get('/', { cookie: cookie(), host: 'evil.example:80' })).status).toBe(403);
    const out = await get('/..%2f..%2fetc%2fpasswd', { cookie: cookie() });
    expect(out.body).not.toContain('root:');
  });

  it('binds the service over a WebSocket for pages of its own origin and token only', async () => {
    const origin = `http://127.0.0.1:${served.port}`;
    await expect(socket({ origin })).rejects.toThrow('401');
    await expect(socket({ origin: 'http://evil.example', cookie: cookie() })).rejects.toThrow('401');
    const ws = await socket({ origin, cookie: cookie() });
    const reply = await new Promise<{ id: number; result: { ok: boolean; data?: { frontEnd: string } } }>((resolve) => {
      ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()) as never));
      ws.send(JSON.stringify({ id: 7, method: 'appInfo', input: {} }));
    });
    expect(reply).toMatchObject({ id: 7, result: { ok: true, data: { frontEnd: 'serve' } } });
    const bad = await new Promise<{ result: { ok: boolean; error?: { code: string } } }>((resolve) => {
      ws.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()) as never));
      ws.send(JSON.stringify({ id: 8, method: 'deviceShow', input: { name: '../x' } }));
    });
    expect(bad.result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    ws.close();
  });
});
