// The device's Docker API over its one SSH connection: find the socket, pick the first channel
// strategy the device supports, and hand dockerode an agent whose sockets are SSH channels.
import Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { PortwrightError } from '../errors.js';
import type { SshSession } from '../ssh/session.js';
import { SshChannelAgent } from './ssh-agent.js';

export type ChannelStrategy = 'stream-local' | 'dial-stdio' | 'socat' | 'nc';
export const STRATEGIES: readonly ChannelStrategy[] = ['stream-local', 'dial-stdio', 'socat', 'nc'];

/** Where engines keep their socket, in the order we look. */
export const SOCKET_CANDIDATES = ['/var/run/docker.sock', '/var/run/balena-engine.sock', '/run/podman/podman.sock'];

export interface DockerTunnel {
  docker: Docker;
  strategy: ChannelStrategy;
  socketPath: string;
  agent: SshChannelAgent;
}

export interface TunnelOptions {
  /** A configured socket path; otherwise the candidates are probed. */
  socketPath?: string;
  /** The strategy that worked last time for this device: tried first. */
  preferred?: ChannelStrategy;
  /** The socket it reached last time (with `preferred`): tried first, before any probe. */
  preferredSocket?: string;
  /** Stream-local channels opened while the tunnel is set up, for the first calls. Default 4. */
  preopen?: number;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * One round trip finds the socket and what the device has: for each candidate, whether it exists
 * and whether this user may use it, and which helper commands exist. POSIX sh only (busybox).
 */
export function probeScript(candidates: string[]): string {
  const sockets = candidates.map(quote).join(' ');
  return [
    `for p in ${sockets}; do`,
    '  if [ -S "$p" ]; then if [ -r "$p" ] && [ -w "$p" ]; then echo "socket ok $p"; else echo "socket denied $p"; fi; fi',
    'done',
    'for c in docker socat nc; do command -v "$c" >/dev/null 2>&1 && echo "cmd $c"; done',
    // busybox nc cannot open Unix sockets; OpenBSD nc can (-U).
    'nc -h 2>&1 | grep -q -- "-U" && echo "cmd nc-unix"',
    'id -un 2>/dev/null | sed "s/^/user /"',
    'true',
  ].join('\n');
}

export interface Probe {
  sockets: { path: string; access: 'ok' | 'denied' }[];
  commands: Set<string>;
  user: string;
}

export function parseProbe(out: string): Probe {
  const probe: Probe = { sockets: [], commands: new Set(), user: '' };
  for (const line of out.split('\n')) {
    const [kind, a, b] = line.trim().split(/\s+/);
    if (kind === 'socket' && (a === 'ok' || a === 'denied') && b) probe.sockets.push({ path: b, access: a });
    else if (kind === 'cmd' && a) probe.commands.add(a);
    else if (kind === 'user' && a) probe.user = a;
  }
  return probe;
}

/** The command that bridges an exec channel's stdin/stdout to the socket, per strategy. */
export function bridgeCommand(strategy: Exclude<ChannelStrategy, 'stream-local'>, socketPath: string): string {
  switch (strategy) {
    case 'dial-stdio':
      return `docker -H unix://${socketPath} system dial-stdio`;
    case 'socat':
      return `socat - UNIX-CONNECT:${quote(socketPath)}`;
    case 'nc':
      return `nc -U ${quote(socketPath)}`;
  }
}

function available(strategy: ChannelStrategy, probe: Probe): boolean {
  switch (strategy) {
    case 'stream-local':
      return true;
    case 'dial-stdio':
      return probe.commands.has('docker');
    case 'socat':
      return probe.commands.has('socat');
    case 'nc':
      return probe.commands.has('nc-unix');
  }
}

function opener(session: SshSession, strategy: ChannelStrategy, socketPath: string): () => Promise<Duplex> {
  if (strategy === 'stream-local') return () => session.openStreamLocal(socketPath);
  const command = bridgeCommand(strategy, socketPath);
  return () => session.execStream(command);
}

/**
 * GET /_ping over one fresh exec channel: proves the whole path (the bridge command runs and reaches
 * the engine), and is cheap. The engine answers and closes (Connection: close); the remote command
 * then exits and the server closes the channel. We must not close it too, since Dropbear 2022.x
 * aborts the whole session (assertion `!channel->sent_close`) when both ends close at once.
 */
async function ping(open: () => Promise<Duplex>, timeoutMs: number): Promise<void> {
  const stream = await open();
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`no answer to /_ping within ${timeoutMs} ms`));
    }, timeoutMs);
    const settle = (): void => {
      clearTimeout(timer);
      if (/^HTTP\/1\.[01] 200/.test(buf)) resolve();
      else reject(new Error(buf ? (buf.split('\r\n')[0] ?? 'bad answer') : 'channel closed without an answer'));
    };
    stream.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
    });
    stream.on('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
    stream.on('close', settle);
    stream.write('GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n');
  });
}

function tunnelFor(session: SshSession, strategy: ChannelStrategy, socketPath: string): DockerTunnel {
  // OpenSSH caps session channels (MaxSessions 10) but not forwarding channels.
  const agent = new SshChannelAgent(opener(session, strategy, socketPath), {
    maxSockets: strategy === 'stream-local' ? 64 : 8,
  });
  // dockerode needs a host to build URLs; the agent ignores it and opens a channel instead.
  const docker = new Docker({ protocol: 'http', host: 'docker', port: 80, agent } as Docker.DockerOptions);
  return { docker, strategy, socketPath, agent };
}

/**
 * Opens `count` stream-local channels to the socket at once (one round trip for all). OpenSSH
 * connects to the socket before it confirms a channel, so an open channel is proof enough that the
 * socket is there and this user may use it; a refusal (Dropbear, no such socket, no permission,
 * forwarding disabled) comes back as a failed open. Resolves with the channels that opened.
 */
async function openStreamLocal(session: SshSession, socketPath: string, count: number): Promise<Duplex[]> {
  const results = await Promise.allSettled(
    Array.from({ length: Math.max(1, count) }, () => session.openStreamLocal(socketPath)),
  );
  return results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
}

function runProbe(session: SshSession, candidates: string[]): Promise<Probe> {
  const probing = session.exec(probeScript(candidates), { timeoutMs: 15_000 }).then((r) => parseProbe(r.stdout));
  // It may be left unread when stream-local answers first; its failure then matters to no one.
  probing.catch(() => undefined);
  return probing;
}

export async function openDockerTunnel(session: SshSession, opts: TunnelOptions = {}): Promise<DockerTunnel> {
  const candidates = opts.socketPath ? [opts.socketPath] : SOCKET_CANDIDATES;
  // The socket that worked last time, or the first candidate: the common case (OpenSSH, the usual
  // socket) is settled in one round trip, with no probe at all.
  const guess = opts.socketPath ?? opts.preferredSocket ?? candidates[0] ?? '/var/run/docker.sock';
  const tryStreamLocal = !opts.preferred || opts.preferred === 'stream-local';

  // A remembered exec strategy is proven by one /_ping over it; only a failure sends us probing.
  if (opts.preferred && !tryStreamLocal) {
    const ok = await ping(opener(session, opts.preferred, guess), 10_000).then(
      () => true,
      () => false,
    );
    if (ok) return tunnelFor(session, opts.preferred, guess);
  }

  // On first contact the probe runs alongside the stream-local attempt, so a device that refuses
  // stream-local (Dropbear) loses no round trip to it; with a remembered strategy it waits.
  const early = opts.preferred ? undefined : runProbe(session, candidates);
  if (tryStreamLocal) {
    const opened = await openStreamLocal(session, guess, opts.preopen ?? 4);
    if (opened.length) {
      const tunnel = tunnelFor(session, 'stream-local', guess);
      tunnel.agent.adopt(opened);
      return tunnel;
    }
  }

  const probe = await (early ?? runProbe(session, candidates));
  const usable = probe.sockets.find((s) => s.access === 'ok');
  if (!usable) {
    const denied = probe.sockets.find((s) => s.access === 'denied');
    if (denied) {
      throw new PortwrightError({
        code: 'DOCKER_SOCKET_PERMISSION',
        message: `user ${probe.user || session.options.username} may not use the Docker socket ${denied.path}`,
        hint: `On the device, add the user to the docker group (sudo usermod -aG docker ${probe.user || session.options.username}) and log in again, or connect as a user who may.`,
      });
    }
    throw new PortwrightError({
      code: 'DOCKER_NOT_FOUND',
      message: opts.socketPath
        ? `no Docker socket at ${opts.socketPath} on the device`
        : `no Docker engine socket on the device (looked for ${SOCKET_CANDIDATES.join(', ')})`,
      hint: 'Is Docker (or balena-engine, podman) installed and running there? If its socket is elsewhere, set the socket path for this device.',
    });
  }

  const order = opts.preferred ? [opts.preferred, ...STRATEGIES.filter((s) => s !== opts.preferred)] : [...STRATEGIES];
  const tried: string[] = [];
  for (const strategy of order) {
    if (!available(strategy, probe)) {
      tried.push(`${strategy}: not available`);
      continue;
    }
    if (strategy === 'stream-local') {
      if (tryStreamLocal && usable.path === guess) {
        tried.push('stream-local: refused');
        continue;
      }
      const opened = await openStreamLocal(session, usable.path, opts.preopen ?? 4).catch(() => []);
      if (opened.length === 0) {
        tried.push('stream-local: refused');
        continue;
      }
      const tunnel = tunnelFor(session, 'stream-local', usable.path);
      tunnel.agent.adopt(opened);
      return tunnel;
    }
    const open = opener(session, strategy, usable.path);
    try {
      await ping(open, 10_000);
    } catch (e) {
      tried.push(`${strategy}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    return tunnelFor(session, strategy, usable.path);
  }
  throw new PortwrightError({
    code: 'DOCKER_TUNNEL_FAILED',
    message: `could not reach ${usable.path} over SSH by any strategy`,
    hint: 'The device needs OpenSSH stream-local forwarding, the docker CLI, socat, or an nc with -U.',
    detail: tried.join('; '),
  });
}
