// End-to-end set-up: a lab device and `portwright serve` (a real core, a temporary inventory), for
// the Chromium specs to drive like a user. Their whereabouts reach the specs through the environment.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { labSkipReason } from '../integration/support.js';
import { startLab, stopLab, type Lab } from '../lab/index.js';
import type { E2eDevice } from './device.js';

const ROOT = resolve(import.meta.dirname, '../..');

function serve(home: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/portwright.mjs'), 'serve'], {
      env: {
        ...process.env,
        PORTWRIGHT_HOME: join(home, 'portwright'),
        HOME: home,
        SSH_AUTH_SOCK: '',
        PORTWRIGHT_RENDERER_DIR: join(ROOT, 'renderer', 'dist'),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => fail(new Error(`portwright serve printed no address: ${out}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(out);
      if (m) {
        clearTimeout(timer);
        done({ child, url: m[0] });
      }
    });
    child.on('exit', (code) => fail(new Error(`portwright serve exited (${String(code)}): ${out}`)));
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const skip = await labSkipReason();
  if (skip) {
    process.env.PW_E2E_SKIP = skip;
    return () => Promise.resolve();
  }
  execFileSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const home = await mkdtemp(join(tmpdir(), 'pw-e2e-'));
  let lab: Lab | undefined;
  let server: ChildProcess | undefined;
  try {
    lab = await startLab({ devices: [{ name: 'line3', fieldPorts: 2, fieldAddresses: true }] });
    const d = lab.device('line3');
    const s = await serve(home);
    server = s.child;
    const device: E2eDevice = {
      name: d.name,
      host: d.host,
      port: d.port,
      fingerprint: d.hostKey.fingerprint,
      clientKey: lab.info.clientKey,
      initPid: d.initPid ?? 0,
      dir: join(lab.info.dir, d.name),
      peers: d.peers,
    };
    process.env.PW_E2E_SERVE_URL = s.url;
    process.env.PW_E2E_DEVICE = JSON.stringify(device);
  } catch (e) {
    server?.kill('SIGTERM');
    if (lab) await stopLab(lab);
    throw e;
  }
  const started = lab;
  const child = server;
  return async () => {
    child.kill('SIGTERM');
    await stopLab(started);
    await rm(home, { recursive: true, force: true });
  };
}
