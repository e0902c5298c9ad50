// The measuring half of `npm run bench`'s lab part. bench/index.ts starts the lab and runs this inside
// the lab's hub namespace, where the lab's "laptop" sits: every TCP connection it makes (ours, the
// docker CLI's ssh, dockerode's ssh2) crosses the delayed management link itself, handshake,
// acknowledgements and all, as on a real slow link. Reads a WorkerInput as JSON on stdin and
// prints a WorkerOutput as JSON on stdout.
import Docker from 'dockerode';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { fetchDockerState } from '../electron/core/docker/inventory.js';
import { openDockerTunnel, type TunnelOptions } from '../electron/core/docker/tunnel.js';
import { attachNetworks, readPorts } from '../electron/core/ports/device-ports.js';
import { PORTS_SCRIPT } from '../electron/core/ports/discover.js';
import { SshSession } from '../electron/core/ssh/session.js';
import { fingerprintOf } from '../test/lab/keys.js';
import { run } from './proc.js';

export interface WorkerInput {
  /** The device's address on the management network, SSH on port 22. */
  address: string;
  /** "TYPE BASE64" of its host key, and that key's SHA256 fingerprint. */
  hostKeyLine: string;
  hostKeyFingerprint: string;
  clientKey: string;
  calls: number;
}

export interface Row {
  what: string;
  ours?: number;
  dockerCli?: number;
  dockerodeSsh?: number;
}

export interface WorkerOutput {
  rtt: number;
  rows: Row[];
  steps: [string, number][];
  odFailed: number;
  oursSeq: number;
  oursPar: number;
  oursInventory: number;
  cliSeq: number;
  odSeq: number;
}

function now(): number {
  return performance.now();
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

/** How the app reaches a device it has reached before: the strategy and socket it remembered. */
const KNOWN_DEVICE: TunnelOptions = { preferred: 'stream-local', preferredSocket: '/var/run/docker.sock' };

async function measure(d: WorkerInput): Promise<WorkerOutput> {
  const N = d.calls;
  const home = await mkdtemp(join(tmpdir(), 'pw-bench-'));
  try {
    const checkHostKey = (_h: string, _p: number, blob: Buffer): void => {
      if (fingerprintOf(blob.toString('base64')) !== d.hostKeyFingerprint) throw new Error('host key mismatch');
    };
    const newSession = (): SshSession =>
      new SshSession({
        host: d.address,
        port: 22,
        username: 'root',
        auth: { kind: 'key', identityFile: d.clientKey },
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
    const rtt = rtts[Math.floor(rtts.length / 2)] ?? Number.NaN;

    // Ours: one SSH connection, a channel per request, kept alive and reused.
    const tunnel = await openDockerTunnel(session);
    await tunnel.docker.listNetworks();
    const oursSeq = await timed(async () => {
      for (let i = 0; i < N; i++) await tunnel.docker.listNetworks();
    });
    session.close();
    const median = (xs: number[]): number => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
    // First burst, on a connection that has made one call: most calls open their channel (1 RTT)
    // before the request (1 RTT). Then again: the channels are kept alive, each call is its request
    // alone. Medians of three, each first burst on a fresh connection.
    const firstBursts: number[] = [];
    const warmBursts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = newSession();
      await s.connect();
      const t = await openDockerTunnel(s, KNOWN_DEVICE);
      await t.docker.listNetworks();
      const parallel = (): Promise<unknown> => Promise.all(Array.from({ length: N }, () => t.docker.listNetworks()));
      await new Promise((r) => setTimeout(r, 500));
      firstBursts.push(await timed(parallel));
      await new Promise((r) => setTimeout(r, 500));
      warmBursts.push(await timed(parallel));
      s.close();
    }
    const oursPar = median(firstBursts);
    const oursParWarm = median(warmBursts);

    // Connect + full inventory, as the app reads a device: hardware ports (the discovery script on
    // an exec channel) alongside the Docker engine, networks and containers; ports get their networks.
    // First contact probes for the socket and strategy; a device seen before is reached the way that
    // worked last time (the app remembers it per device). The median of three runs each.
    let steps: [string, number][] = [];
    const inventory = async (known: boolean): Promise<number> => {
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) {
        const marks: [string, number][] = [];
        runs.push(
          await timed(async () => {
            const t0 = now();
            const mark = (what: string): void => {
              marks.push([what, now() - t0]);
            };
            const s = newSession();
            await s.connect();
            mark('SSH connected (TCP, KEX, service, auth)');
            const [state, ports] = await Promise.all([
              openDockerTunnel(s, known ? KNOWN_DEVICE : {}).then(async (t) => {
                mark(`Docker tunnel ready (${t.strategy})`);
                const st = await fetchDockerState(t.docker);
                mark('engine, networks, containers read');
                return st;
              }),
              readPorts(s).then((p) => {
                mark('ports script done');
                return p;
              }),
            ]);
            if (attachNetworks(ports, state.networks).length === 0) throw new Error('no ports found');
            s.close();
          }),
        );
        if (known) steps = marks;
      }
      return median(runs);
    };
    const oursFirstContact = await inventory(false);
    const oursInventory = await inventory(true);

    // `docker -H ssh://`: the docker CLI runs `ssh … docker system dial-stdio`, one SSH connection a call.
    await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    await writeFile(join(home, '.ssh', 'known_hosts'), `${d.address} ${d.hostKeyLine}\n`);
    await writeFile(
      join(home, '.ssh', 'config'),
      `Host ${d.address}\n  Port 22\n  User root\n  IdentityFile ${d.clientKey}\n  StrictHostKeyChecking yes\n  UserKnownHostsFile ${join(home, '.ssh', 'known_hosts')}\n`,
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
      run('docker', ['-H', `ssh://root@${d.address}:22`, ...args], env);
    const cliN = Math.min(N, Number(process.env.BENCH_CLI_CALLS ?? 20));
    const cliSeq =
      (await timed(async () => {
        for (let i = 0; i < cliN; i++) await cliCall('network', 'ls');
      })) *
      (N / cliN);
    const cliPar = await timed(() => Promise.all(Array.from({ length: N }, () => cliCall('network', 'ls'))));
    // The same inventory with stock tools: docker CLI calls (networks need `ls` then `inspect` for
    // IPAM and endpoints) and `ssh` running the same ports script, all that can run at once in parallel.
    const sshPorts = (): Promise<string> => run('ssh', [`root@${d.address}`, 'sh', '-s'], env, PORTS_SCRIPT);
    const cliInventory = await timed(() =>
      Promise.all([
        cliCall('version'),
        cliCall('ps', '-a'),
        run('docker', ['-H', `ssh://root@${d.address}:22`, 'network', 'ls', '-q'], env).then((ids) =>
          cliCall('network', 'inspect', ...ids.split('\n').filter(Boolean)),
        ),
        sshPorts(),
      ]),
    );

    // dockerode's own `protocol: 'ssh'`: ssh2 under the hood, a new connection per call.
    const privateKey = await readFile(d.clientKey);
    const sshDocker = new Docker({
      protocol: 'ssh',
      host: d.address,
      port: 22,
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
      { what: '  the same, first contact (socket and strategy probed)', ours: oursFirstContact },
    ];

    return { rtt, rows, steps, odFailed, oursSeq, oursPar, oursInventory, cliSeq, odSeq };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

measure(JSON.parse(await text(process.stdin)) as WorkerInput).then(
  (out) => process.stdout.write(JSON.stringify(out)),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
