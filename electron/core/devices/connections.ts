// Turns "which device" (a saved name, `local`, or ssh://user@host:port) into a live SSH session and
// Docker tunnel, reusing one connection per device and remembering which channel strategy worked.
import Docker from 'dockerode';
import { homedir } from 'node:os';
import { PortwrightError } from '../errors.js';
import { openDockerTunnel, STRATEGIES, type ChannelStrategy } from '../docker/tunnel.js';
import type { Store } from '../store/db.js';
import type { SecretStore } from '../store/secret-store.js';
import type { Device } from '../store/schemas.js';
import { loadUserKnownHosts } from '../ssh/known-hosts.js';
import { SshSession, type Auth, type Endpoint, type StateChange } from '../ssh/session.js';
import { storeHostKeyCheck } from '../ssh/trust-check.js';

/** Per call, never stored: how to trust the host key and which secrets to use. */
export interface ConnectOptions {
  acceptNewHostKey?: boolean;
  /** `SHA256:…` */
  hostKey?: string;
  /** A key file for ssh:// targets (saved devices have their own). */
  identity?: string;
  password?: string;
  passphrase?: string;
  /** Keep the given password or passphrase in the secret store for next time. */
  rememberSecret?: boolean;
}

/** Secret store accounts of a saved device. */
export function secretAccount(device: string, kind: 'password' | 'passphrase'): string {
  return `device:${device.toLowerCase()}:${kind}`;
}

export interface Target {
  kind: 'saved' | 'adhoc' | 'local';
  /** What the user typed, for messages. */
  label: string;
  device?: Device;
  endpoint?: Endpoint & { jump?: Endpoint; dockerSocket?: string };
}

export interface Connection {
  target: Target;
  session?: SshSession;
  docker: Docker;
  strategy: ChannelStrategy | 'local';
  socketPath: string;
  close(): void;
}

const SSH_URL = /^ssh:\/\/(?:([^@/:]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/;

function authFor(method: Device['auth'] | undefined, identityFile: string | undefined, o: ConnectOptions): Auth {
  const identity = o.identity ?? identityFile;
  switch (method) {
    case 'password':
    case 'keyboard-interactive': {
      if (o.password === undefined) {
        throw new PortwrightError({
          code: 'PASSWORD_NEEDED',
          message: 'this device logs in with a password, and none was given',
          hint: 'Enter the password when asked; Portwright does not store it unless you choose to.',
        });
      }
      const password = o.password;
      return method === 'password'
        ? { kind: 'password', password }
        : { kind: 'keyboard-interactive', answer: (prompts) => Promise.resolve(prompts.map(() => password)) };
    }
    case 'agent':
      return { kind: 'agent' };
    default:
      if (identity)
        return {
          kind: 'key',
          identityFile: identity,
          ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
        };
      // An ssh:// target with a password given and no key: the password is what the user means.
      if (o.password !== undefined) return { kind: 'password', password: o.password };
      if (process.env.SSH_AUTH_SOCK) return { kind: 'agent' };
      throw new PortwrightError({
        code: 'NO_CREDENTIALS',
        message: 'no key file given, no SSH agent running, and no password',
        hint: 'Pass --identity ~/.ssh/id_ed25519, start ssh-agent and ssh-add your key, or give the password.',
      });
  }
}

export function resolveTarget(store: Store, spec: string, o: ConnectOptions): Target {
  if (spec === 'local') return { kind: 'local', label: 'this computer' };
  const m = SSH_URL.exec(spec);
  if (m) {
    const host = (m[2] ?? '').replace(/^\[|\]$/g, '');
    const port = m[3] ? Number(m[3]) : 22;
    if (port < 1 || port > 65535) {
      throw new PortwrightError({
        code: 'INVALID_INPUT',
        message: `port ${port} is out of range`,
        hint: 'Use 1-65535.',
      });
    }
    const endpoint = { host, port, username: m[1] ?? 'root', auth: authFor(undefined, undefined, o) };
    return { kind: 'adhoc', label: spec, endpoint };
  }
  if (spec.includes('://')) {
    throw new PortwrightError({
      code: 'INVALID_INPUT',
      message: `"${spec}" is not a device`,
      hint: 'Give a saved device name, `local`, or ssh://user@host[:port].',
    });
  }
  const device = store.requireDevice(spec);
  const auth = authFor(device.auth, device.identityFile, o);
  return {
    kind: 'saved',
    label: device.name,
    device,
    endpoint: {
      host: device.host,
      port: device.port,
      username: device.user,
      auth,
      ...(device.jump
        ? {
            jump: {
              host: device.jump.host,
              port: device.jump.port,
              username: device.jump.user,
              // The device's password is not the jump host's: the jump logs in with the key or agent.
              auth: authFor(undefined, device.identityFile, { ...o, password: undefined }),
            },
          }
        : {}),
      ...(device.dockerSocket ? { dockerSocket: device.dockerSocket } : {}),
    },
  };
}

export interface ConnectionsOptions {
  store: () => Store;
  secrets: () => SecretStore;
  knownHostsPaths?: string[];
  onState?: (device: string, change: StateChange) => void;
}

export class Connections {
  private readonly open = new Map<string, Connection>();
  private readonly opening = new Map<string, Promise<Connection>>();
  private readonly strategies = new Map<string, { strategy: ChannelStrategy; socketPath: string }>();

  constructor(private readonly o: ConnectionsOptions) {}

  /**
   * A live connection to the target; reused while it stays connected. Calls that come while it is
   * still being opened (the overview asks for ports, networks and containers at once) share that
   * one attempt instead of each opening a connection of its own.
   */
  get(spec: string, opts: ConnectOptions = {}): Promise<Connection> {
    const existing = this.open.get(spec);
    if (existing && (!existing.session || existing.session.state === 'connected')) return Promise.resolve(existing);
    const inFlight = this.opening.get(spec);
    if (inFlight) return inFlight;
    existing?.close();
    this.open.delete(spec);
    const attempt: Promise<Connection> = this.connect(spec, opts).then(
      (conn) => {
        // Dropped (or closed) while it was opening: nobody may keep it.
        if (this.opening.get(spec) !== attempt) {
          conn.close();
          throw new PortwrightError({
            code: 'CONNECTION_CLOSED',
            message: `the connection to ${spec} was closed while it was being opened`,
            hint: 'Try again.',
          });
        }
        this.opening.delete(spec);
        this.open.set(spec, conn);
        return conn;
      },
      (e: unknown) => {
        if (this.opening.get(spec) === attempt) this.opening.delete(spec);
        throw e;
      },
    );
    this.opening.set(spec, attempt);
    return attempt;
  }

  async connect(spec: string, given: ConnectOptions = {}): Promise<Connection> {
    const store = this.o.store();
    const secrets = this.o.secrets();
    const saved = spec !== 'local' && !spec.includes('://') ? store.getDevice(spec) : undefined;
    const opts = { ...given };
    if (saved) {
      opts.password ??= await secrets.get(secretAccount(saved.name, 'password'));
      opts.passphrase ??= await secrets.get(secretAccount(saved.name, 'passphrase'));
    }
    const target = resolveTarget(store, spec, opts);
    if (target.kind === 'local' || !target.endpoint) return localConnection(target);

    const known = await loadUserKnownHosts(this.o.knownHostsPaths?.map((p) => p.replace(/^~/, homedir())));
    const ep = target.endpoint;
    const session = new SshSession({
      ...ep,
      checkHostKey: storeHostKeyCheck({
        store,
        knownHosts: known.entries,
        ...(opts.hostKey !== undefined ? { pinnedFingerprint: opts.hostKey } : {}),
        ...(opts.acceptNewHostKey !== undefined ? { acceptNew: opts.acceptNewHostKey } : {}),
        deviceName: target.label,
        ...(target.device ? { savedDevice: target.device.name } : {}),
      }),
    });
    if (this.o.onState) {
      const onState = this.o.onState;
      session.on('state', (c) => onState(target.label, c));
    }
    await session.connect();
    if (given.rememberSecret && saved) {
      // Only once the secret has proven itself by logging in.
      if (given.password !== undefined) await secrets.set(secretAccount(saved.name, 'password'), given.password);
      if (given.passphrase !== undefined) await secrets.set(secretAccount(saved.name, 'passphrase'), given.passphrase);
    }
    try {
      const last = target.device ? store.getChannel(target.device.name) : undefined;
      const remembered =
        this.strategies.get(spec) ??
        (last && isStrategy(last.strategy) ? { strategy: last.strategy, socketPath: last.socketPath } : undefined);
      const tunnel = await openDockerTunnel(session, {
        ...(ep.dockerSocket ? { socketPath: ep.dockerSocket } : {}),
        ...(remembered ? { preferred: remembered.strategy, preferredSocket: remembered.socketPath } : {}),
      });
      this.strategies.set(spec, { strategy: tunnel.strategy, socketPath: tunnel.socketPath });
      // Channels of a lost connection never answer: drop them, so calls in flight fail now and later
      // ones open fresh channels once the session is back (instead of waiting forever on a dead one).
      session.on('state', (c) => {
        if (c.state === 'lost' || c.state === 'closed') tunnel.agent.destroy();
      });
      if (target.device) store.rememberChannel(target.device.name, tunnel.strategy, tunnel.socketPath);
      return {
        target,
        session,
        docker: tunnel.docker,
        strategy: tunnel.strategy,
        socketPath: tunnel.socketPath,
        close: () => {
          tunnel.agent.destroy();
          session.close();
        },
      };
    } catch (e) {
      session.close();
      throw e;
    }
  }

  /** Closes the connection kept for a target (after its settings changed, or it was removed). */
  drop(spec: string): void {
    this.open.get(spec)?.close();
    this.open.delete(spec);
    this.opening.delete(spec);
    this.strategies.delete(spec);
  }

  closeAll(): void {
    for (const c of this.open.values()) c.close();
    this.open.clear();
    this.opening.clear();
  }
}

function isStrategy(s: string | undefined): s is ChannelStrategy {
  return STRATEGIES.some((x) => x === s);
}

function localConnection(target: Target): Connection {
  const host = process.env.DOCKER_HOST;
  const socketPath = host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
  if (host && !host.startsWith('unix://')) {
    throw new PortwrightError({
      code: 'INVALID_INPUT',
      message: `DOCKER_HOST=${host} is not a Unix socket`,
      hint: 'For a remote engine, add the device by its SSH address instead.',
    });
  }
  const docker = new Docker({ socketPath });
  return { target, docker, strategy: 'local', socketPath, close: () => undefined };
}
