// `npm run bench`: Docker API calls to a lab device over a slowed management link, through our
// one-connection tunnel and through the alternatives, side by side in one run (Linux, root); then the
// renderer (bench/renderer.ts). BENCH_ONLY=lab or BENCH_ONLY=renderer runs just one part.
import Docker from 'dockerode';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchDockerState } from '../electron/core/docker/inventory.js';
import { openDockerTunnel } from '../electron/core/docker/tunnel.js';
import { attachNetworks, readPorts } from '../electron/core/ports/device-ports.js';
import { PORTS_SCRIPT } from '../electron/core/ports/discover.js';
import { SshSession } from '../electron/core/ssh/session.js';
import { fingerprintOf } from '../test/lab/keys.js';
import { labPrerequisites, startLab, stopLab, type Lab } from '../test/lab/index.js';
import { runRendererBench } from './renderer.js';

const RTT_MS = Number(process.env.BENCH_RTT_MS ?? 40);
const N = Number(process.env.BENCH_CALLS ?? 50);
const ONLY = process.env.BENCH_ONLY ?? '';

interface Row {
  what: string;
  ours?: number;
  dockerCli?: number;
  dockerodeSsh?: number;
}

function now(): number {
  return performance.now();
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: ${err.trim()}`)),
    );
    child.stdin.end(input);
  });
}

async function main(): Promise<void> {
  if (!['', 'lab', 'renderer'].includes(ONLY)) throw new Error(`BENCH_ONLY is lab or renderer, not "${ONLY}"`);
  if (ONLY !== 'renderer') await benchLab();
  if (ONLY !== 'lab') await runRendererBench();
}

async function benchLab(): Promise<void> {
  const missing = await labPrerequisites(false);
  if (missing.length) throw new Error(`the bench needs the lab: ${missing.join(', ')}`);
  const lab: Lab = await startLab({ devices: [{ name: 'bench' }] });
  const home = await mkdtemp(join(tmpdir(), 'pw-bench-'));
  try {
    const d = lab.device('bench');
    await lab.setDelay('bench', RTT_MS);
    const checkHostKey = (_h: string, _p: number, blob: Buffer): void => {
      if (fingerprintOf(blob.toString('base64')) !== d.hostKey.fingerprint) throw new Error('host key mismatch');
    };
    const newSession = (): SshSession =>
      new SshSession({
        host: d.host,
        port: d.port,
        username: 'root',
        auth: { kind: 'key', identityFile: lab.info.clientKey },
        checkHostKey,
        reconnect: { enabled: false },
      });

    // The measured round trip: one byte echoed by `cat` on an open channel.
    const session = newSession();
    await session.connect();
    const echo = await session.execStream('cat');
    const rtts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = now();
      await new Promise<void>((resolve) => {
        echo.once('data', () => resolve());
        echo.write('x');
      });
      rtts.push(now() - t0);
    }
    echo.end();
    rtts.sort((a, b) => a - b);
    const rtt = rtts[Math.floor(rtts.length / 2)] ?? RTT_MS;

    // Ours: one SSH connection, a channel per request, kept alive and reused.
    const tunnel = await openDockerTunnel(session);
    await tunnel.docker.listNetworks();
    const oursSeq = await timed(async () => {
      for (let i = 0; i < N; i++) await tunnel.docker.listNetworks();
    });
    const parallel = (): Promise<unknown> => Promise.all(Array.from({ length: N }, () => tunnel.docker.listNetworks()));
    // First burst: most calls open their channel (1 RTT) before the request (1 RTT).
    const oursPar = await timed(parallel);
    // Again: the channels of the first burst are kept alive, so each call is its request alone.
    const oursParWarm = await timed(parallel);
    session.close();

    // Connect + full inventory, as the app reads a device: hardware ports (the discovery script on
    // an exec channel) alongside the Docker engine, networks and containers; ports get their networks.
    const steps: [string, number][] = [];
    const oursInventory = await timed(async () => {
      const t0 = now();
      const mark = (what: string): void => {
        steps.push([what, now() - t0]);
      };
      const s = newSession();
      await s.connect();
      mark('SSH connected (KEX, service, auth)');
      const [ports, state] = await Promise.all([
        readPorts(s).then((p) => {
          mark('ports script done');
          return p;
        }),
        openDockerTunnel(s).then(async (t) => {
          mark(`Docker tunnel ready (${t.strategy})`);
          const st = await fetchDockerState(t.docker);
          mark('engine, networks, containers read');
          return st;
        }),
      ]);
      if (attachNetworks(ports, state.networks).length === 0) throw new Error('no ports found');
      s.close();
    });

    // `docker -H ssh://`: the docker CLI runs `ssh … docker system dial-stdio`, one SSH connection a call.
    await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    await writeFile(join(home, '.ssh', 'known_hosts'), `${d.knownHostsLine}\n`);
    await writeFile(
      join(home, '.ssh', 'config'),
      `Host ${d.host}\n  Port ${d.port}\n  User root\n  IdentityFile ${lab.info.clientKey}\n  StrictHostKeyChecking yes\n  UserKnownHostsFile ${join(home, '.ssh', 'known_hosts')}\n`,
      { mode: 0o600 },
    );
    // ssh reads ~/.ssh from the passwd entry, not $HOME: a wrapper first on PATH hands it our config.
    await mkdir(join(home, 'bin'));
    await writeFile(
      join(home, 'bin', 'ssh'),
      `#!/bin/sh\nexec /usr/bin/ssh -F ${join(home, '.ssh', 'config')} "$@"\n`,
      { mode: 0o755 },
    );
    const env = {
      ...process.env,
      HOME: home,
      DOCKER_CONFIG: join(home, '.docker'),
      PATH: `${join(home, 'bin')}:${process.env.PATH ?? ''}`,
    };
    const cliCall = (...args: string[]): Promise<string> =>
      run('docker', ['-H', `ssh://root@${d.host}:${d.port}`, ...args], env);
    const cliN = Math.min(N, Number(process.env.BENCH_CLI_CALLS ?? 20));
    const cliSeq =
      (await timed(async () => {
        for (let i = 0; i < cliN; i++) await cliCall('network', 'ls');
      })) *
      (N / cliN);
    const cliPar = await timed(() => Promise.all(Array.from({ length: N }, () => cliCall('network', 'ls'))));
    // The same inventory with stock tools: docker CLI calls (networks need `ls` then `inspect` for
    // IPAM and endpoints) and `ssh` running the same ports script, all that can run at once in parallel.
    const sshPorts = (): Promise<string> => run('ssh', [`root@${d.host}`, 'sh', '-s'], env, PORTS_SCRIPT);
    const cliInventory = await timed(() =>
      Promise.all([
        cliCall('version'),
        cliCall('ps', '-a'),
        run('docker', ['-H', `ssh://root@${d.host}:${d.port}`, 'network', 'ls', '-q'], env).then((ids) =>
          cliCall('network', 'inspect', ...ids.split('\n').filter(Boolean)),
        ),
        sshPorts(),
      ]),
    );

    // dockerode's own `protocol: 'ssh'`: ssh2 under the hood, a new connection per call.
    const privateKey = await readFile(lab.info.clientKey);
    const sshDocker = new Docker({
      protocol: 'ssh',
      host: d.host,
      port: d.port,
      username: 'root',
      sshOptions: { privateKey },
    });
    const odN = Math.min(N, 20);
    const odSeq =
      (await timed(async () => {
        for (let i = 0; i < odN; i++) await sshDocker.listNetworks();
      })) *
      (N / odN);
    // Some of these connections are reset under load; count them rather than stop the bench.
    let odFailed = 0;
    const odPar = await timed(() =>
      Promise.all(Array.from({ length: N }, () => sshDocker.listNetworks().catch(() => (odFailed += 1)))),
    );
    // Its inventory: engine, networks and containers at once (a connection each), and `ssh` for ports.
    const odInventory = await timed(() => Promise.all([fetchDockerState(sshDocker), sshPorts()]));

    const rows: Row[] = [
      {
        what: `${N} sequential GET /networks, per call`,
        ours: oursSeq / N,
        dockerCli: cliSeq / N,
        dockerodeSsh: odSeq / N,
      },
      {
        what: `${N} parallel GET /networks, all`,
        ours: oursPar,
        dockerCli: cliPar,
        dockerodeSsh: odPar,
      },
      { what: `${N} parallel again (kept-alive channels)`, ours: oursParWarm },
      {
        what: 'connect + full inventory (ports, engine, networks, containers)',
        ours: oursInventory,
        dockerCli: cliInventory,
        dockerodeSsh: odInventory,
      },
    ];

    const fmt = (ms: number | undefined): string =>
      ms === undefined ? '-' : `${ms.toFixed(1)} ms (${(ms / rtt).toFixed(1)} RTT)`;
    const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? `${(b / a).toFixed(1)}×` : '-');
    console.log(
      `\nmanagement link: set ${RTT_MS} ms round trip, measured ${rtt.toFixed(1)} ms (median of 10 echoes)\n`,
    );
    const header = [
      '',
      'ours (one SSH connection)',
      'docker -H ssh://',
      "dockerode protocol 'ssh'",
      'vs docker CLI',
      'vs dockerode ssh',
    ];
    const body = rows.map((r) => [
      r.what,
      fmt(r.ours),
      fmt(r.dockerCli),
      fmt(r.dockerodeSsh),
      ratio(r.ours, r.dockerCli),
      ratio(r.ours, r.dockerodeSsh),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
    for (const line of [header, ...body]) console.log(line.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
    console.log(
      `\ntargets: a sequential call ≤ 1.2 RTT (${(oursSeq / N / rtt).toFixed(2)}), ${N} parallel ≤ 3 RTT (${(oursPar / rtt).toFixed(1)}), ` +
        `connect + inventory ≤ 10 RTT (${(oursInventory / rtt).toFixed(1)}); ≥ 15× faster per call than both alternatives ` +
        `(${ratio(oursSeq, cliSeq)}, ${ratio(oursSeq, odSeq)})`,
    );
    console.log(
      `\nours, connect + inventory, step by step (RTT from the start; the lab relay makes the TCP connect itself free):\n` +
        steps.map(([what, ms]) => `  ${(ms / rtt).toFixed(1).padStart(5)} RTT  ${what}`).join('\n'),
    );
    console.log(
      '\n(docker CLI and dockerode-ssh sequential figures are averaged over fewer calls: each is a full SSH connection;',
    );
    console.log(
      ' their inventory runs the same ports script over `ssh`, alongside; ours reads the engine with GET /version, as dockerode does)',
    );
    if (odFailed) console.log(`dockerode 'ssh': ${odFailed} of ${N} parallel calls failed (connection reset)`);
  } finally {
    await rm(home, { recursive: true, force: true });
    await stopLab(lab);
  }
}

main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
