// The `portwright` command: the core service for scripts, CI and headless commissioning.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { DeviceDetails, DeviceTestResult } from '../core/contract.js';
import type { ContainerInfo, NetworkInfo } from '../core/docker/types.js';
import type { Port } from '../core/ports/types.js';
import type { Device } from '../core/store/schemas.js';
import { addPlanCommands } from './plan-commands.js';
import { missingSecret, promptFor, secretFromStdin, secretUnavailable, type SecretKind } from './secret-input.js';
import { table } from './table.js';
import type { ErrorInfo } from '../core/contract.js';
import { formatErrorLine } from '../core/errors.js';
import { packageVersion, Service } from '../core/service.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Asks a yes/no question on a terminal; absent when there is none (then --yes is needed). */
  confirm?: (question: string) => Promise<boolean>;
  /** Reads a file the user named (plans). */
  readFile?: (path: string) => Promise<string>;
  /** Reads all of stdin (--password-stdin). */
  readStdin?: () => Promise<string>;
  /** Asks for a secret on a terminal with echo off; absent when there is none. Null: cancelled. */
  askSecret?: (prompt: string) => Promise<string | null>;
}

/**
 * Where a command's missing password or passphrase comes from: the flag of the command running, and
 * the terminal. Kept per service so that every command calling `call` gets it, plan commands too.
 */
interface SecretSource {
  io: CliIo;
  passwordStdin: boolean;
  /** What stdin held, read once at the first need. */
  stdin?: string;
}
const secretSources = new WeakMap<Service, SecretSource>();

/** Ends the command with this exit code; what to say was already said. */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export class CliFailure extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
  }
}

/**
 * Calls a core method and unwraps its result; failures become one clear line and exit 1. When the
 * device needs a password or key passphrase that was not given, it is asked for (or read from stdin
 * with --password-stdin) and the call is made again with it. Secrets live only in this call.
 */
export async function call<T>(service: Service, method: string, input: unknown): Promise<T> {
  const secrets: { password?: string; passphrase?: string } = {};
  // At most one retry per kind: a device behind a jump host may need a passphrase and a password.
  for (;;) {
    const result = await service.invoke(method, withSecrets(input, secrets));
    if (result.ok) return result.data as T;
    const target = targetOf(input);
    const kind = missingSecret(result.error, target);
    if (!kind || secrets[kind] !== undefined) throw new CliFailure(result.error);
    secrets[kind] = await obtainSecret(secretSources.get(service), kind, target, result.error);
  }
}

/** The secrets go where the method takes its connect options: `connect` (device add) or the top level. */
function withSecrets(input: unknown, secrets: { password?: string; passphrase?: string }): unknown {
  if (secrets.password === undefined && secrets.passphrase === undefined) return input;
  if (typeof input !== 'object' || input === null) return input;
  const record = input as Record<string, unknown>;
  if (typeof record.device === 'object' && record.device !== null) {
    const connect = typeof record.connect === 'object' && record.connect !== null ? record.connect : {};
    return { ...record, connect: { ...connect, ...secrets } };
  }
  return { ...record, ...secrets };
}

/** The device a call is about, for the prompt: its target, or the device being added. */
function targetOf(input: unknown): string {
  if (typeof input !== 'object' || input === null) return 'the device';
  const record = input as { target?: unknown; device?: { name?: unknown } };
  if (typeof record.target === 'string') return record.target;
  if (typeof record.device?.name === 'string') return record.device.name;
  return 'the device';
}

async function obtainSecret(
  source: SecretSource | undefined,
  kind: SecretKind,
  target: string,
  error: ErrorInfo,
): Promise<string> {
  if (source?.passwordStdin && source.io.readStdin) {
    source.stdin ??= await source.io.readStdin();
    if (source.stdin === '') {
      throw new CliFailure({
        code: 'INVALID_INPUT',
        message: '--password-stdin was given but nothing came on stdin',
        hint: `Pipe the ${kind} in, e.g. \`printf '%s\\n' "$SECRET" | portwright … --password-stdin\`.`,
      });
    }
    return secretFromStdin(source.stdin);
  }
  if (source?.io.askSecret) {
    const answer = await source.io.askSecret(promptFor(kind, target));
    if (answer === null) throw new CliFailure({ code: 'CANCELLED', message: `no ${kind} given` });
    return answer;
  }
  throw new CliFailure(secretUnavailable(kind, error));
}

export function buildProgram(service: Service, io: CliIo): Command {
  const program = new Command('portwright')
    .description('Commission the container networks of embedded Linux devices over SSH.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run `portwright --help` for usage)')
    .exitOverride();

  const secrets: SecretSource = { io, passwordStdin: false };
  secretSources.set(service, secrets);
  program.hook('preAction', (_program, action) => {
    secrets.passwordStdin = action.opts<{ passwordStdin?: boolean }>().passwordStdin === true;
  });

  program
    .command('info')
    .description('show the version and platform of the Portwright core')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const info = await call<Record<string, string>>(service, 'appInfo', {});
      if (opts.json) io.out(`${JSON.stringify(info, null, 2)}\n`);
      else
        io.out(
          Object.entries(info)
            .map(([k, v]) => `${k.padEnd(10)} ${v}`)
            .join('\n') + '\n',
        );
    });

  const device = program.command('device').description('the saved devices');

  device
    .command('add')
    .description('save a device; with --accept-new-host-key or --host-key, connect once to trust its key')
    .argument('<name>', 'a short name, e.g. line3-gateway')
    .requiredOption('--host <host>', 'address or hostname')
    .option('--port <port>', 'SSH port', parsePort, 22)
    .option('--user <user>', 'SSH user', 'root')
    .option('--identity <file>', 'private key file (default: ssh-agent)')
    .addOption(
      new Option('--auth <method>', 'how to log in (default: key with --identity, else agent)').choices(AUTH_METHODS),
    )
    .option('--jump <user@host[:port]>', 'jump host, like ssh -J', parseJump)
    .option('--docker-socket <path>', 'Docker socket path on the device (default: detected)')
    .option('--tag <tag...>', 'tags')
    .option('--notes <text>', 'free text')
    .addOption(
      new Option('--accept-new-host-key', 'trust the host key if the device was never seen').conflicts('hostKey'),
    )
    .option('--host-key <SHA256:…>', 'trust exactly this host key')
    .option(...PASSWORD_STDIN)
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: DeviceAddOptions) => {
      const saved = await call<DeviceDetails>(service, 'deviceAdd', {
        device: {
          name,
          host: o.host,
          port: o.port,
          user: o.user,
          auth: o.auth ?? (o.identity ? 'key' : 'agent'),
          ...(o.identity ? { identityFile: o.identity } : {}),
          ...(o.jump ? { jump: o.jump } : {}),
          ...(o.dockerSocket ? { dockerSocket: o.dockerSocket } : {}),
          ...(o.tag ? { tags: o.tag } : {}),
          ...(o.notes ? { notes: o.notes } : {}),
        },
        connect: connectOptions(o),
      });
      if (o.json) io.out(json(saved));
      else io.out(showDevice(saved));
    });

  device
    .command('list')
    .description('list the saved devices')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const devices = await call<Device[]>(service, 'deviceList', {});
      if (o.json) io.out(json(devices));
      else if (devices.length === 0) io.out('No devices yet. Add one: portwright device add NAME --host HOST\n');
      else
        io.out(
          table(
            ['NAME', 'ADDRESS', 'USER', 'AUTH', 'JUMP', 'TAGS'],
            devices.map((d) => [
              d.name,
              `${d.host}:${d.port}`,
              d.user,
              d.auth,
              d.jump ? `${d.jump.user}@${d.jump.host}:${d.jump.port}` : '',
              d.tags.join(','),
            ]),
          ),
        );
    });

  device
    .command('show')
    .description('show one saved device and its trusted host keys')
    .argument('<name>')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { json?: boolean }) => {
      const d = await call<DeviceDetails>(service, 'deviceShow', { name });
      io.out(o.json ? json(d) : showDevice(d));
    });

  device
    .command('edit')
    .description("change a saved device's settings; --no-jump and --no-docker-socket clear them")
    .argument('<name>')
    .option('--host <host>', 'address or hostname')
    .option('--port <port>', 'SSH port', parsePort)
    .option('--user <user>', 'SSH user')
    .option('--auth <method>', 'key, agent, password or keyboard-interactive')
    .option('--identity <file>', 'private key file')
    .option('--jump <user@host[:port]>', 'jump host, like ssh -J', parseJump)
    .option('--no-jump', 'no jump host')
    .option('--docker-socket <path>', 'Docker socket path on the device')
    .option('--no-docker-socket', 'detect the socket again')
    .option('--tag <tag...>', 'tags (replace the old ones)')
    .option('--notes <text>', 'free text')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: DeviceEditOptions) => {
      const patch = {
        ...(o.host !== undefined ? { host: o.host } : {}),
        ...(o.port !== undefined ? { port: o.port } : {}),
        ...(o.user !== undefined ? { user: o.user } : {}),
        ...(o.auth !== undefined ? { auth: o.auth } : {}),
        ...(o.identity !== undefined ? { identityFile: o.identity } : {}),
        ...(o.jump === false ? { jump: null } : o.jump !== undefined && o.jump !== true ? { jump: o.jump } : {}),
        ...(o.dockerSocket === false
          ? { dockerSocket: null }
          : typeof o.dockerSocket === 'string'
            ? { dockerSocket: o.dockerSocket }
            : {}),
        ...(o.tag !== undefined ? { tags: o.tag } : {}),
        ...(o.notes !== undefined ? { notes: o.notes } : {}),
      };
      const saved = await call<DeviceDetails>(service, 'deviceUpdate', { name, patch });
      io.out(o.json ? json(saved) : showDevice(saved));
    });

  device
    .command('remove')
    .description('forget a saved device and its host keys')
    .argument('<name>')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { json?: boolean }) => {
      const d = await call<Device>(service, 'deviceRemove', { name });
      io.out(o.json ? json(d) : `removed ${d.name}\n`);
    });

  withConnectOptions(
    device
      .command('test')
      .description('connect to a device and reach its Docker engine')
      .argument('<device>', 'saved name, local, or ssh://user@host[:port]'),
  ).action(async (target: string, o: ConnectFlags & { json?: boolean }) => {
    const r = await call<DeviceTestResult>(service, 'deviceTest', { target, ...connectOptions(o) });
    if (o.json) io.out(json(r));
    else
      io.out(
        `${r.target}: connected as ${r.user || 'local user'}, Docker ${r.engine.version} (API ${r.engine.apiVersion}, ${r.engine.os}/${r.engine.arch}, kernel ${r.engine.kernel})\n` +
          `Docker API via ${r.strategy} to ${r.socketPath}; one call took ${r.callMs} ms\n`,
      );
  });

  withConnectOptions(
    program
      .command('ports')
      .description("the device's network interfaces: hardware ports first, then the rest")
      .argument('<device>', 'saved name, local, or ssh://user@host[:port]')
      .option('--all', 'also list bridges, veths, tunnels and loopback'),
  ).action(async (target: string, o: ConnectFlags & { json?: boolean; all?: boolean }) => {
    const ports = await call<Port[]>(service, 'ports', { target, ...connectOptions(o) });
    if (o.json) {
      io.out(json(ports));
      return;
    }
    const shown = o.all ? ports : ports.filter((p) => p.isHardwarePort);
    io.out(
      table(
        ['PORT', 'KIND', 'BUS', 'LINK', 'SPEED', 'MTU', 'MAC', 'ADDRESSES', 'DOCKER NETWORKS'],
        shown.map((p) => [
          p.name + (p.management ? ' (mgmt)' : ''),
          p.kind + (p.vlan ? ` ${p.vlan.id} on ${p.vlan.parent}` : '') + (p.master ? ` in ${p.master}` : ''),
          p.bus,
          p.operState + (p.carrier === false ? ', no carrier' : ''),
          p.speedMbps ? `${p.speedMbps} Mb/s${p.duplex ? ` ${p.duplex}` : ''}` : '',
          String(p.mtu),
          p.mac ?? '',
          p.addresses.map((a) => `${a.address}/${a.prefix}`).join(' '),
          p.dockerNetworks.join(' '),
        ]),
      ),
    );
    if (!o.all && shown.length < ports.length) io.out(`(${ports.length - shown.length} more interfaces: --all)\n`);
  });

  withConnectOptions(
    program
      .command('networks')
      .description('every Docker network on the device, all drivers')
      .argument('<device>', 'saved name, local, or ssh://user@host[:port]'),
  ).action(async (target: string, o: ConnectFlags & { json?: boolean }) => {
    const nets = await call<NetworkInfo[]>(service, 'networks', { target, ...connectOptions(o) });
    if (o.json) {
      io.out(json(nets));
      return;
    }
    io.out(
      table(
        ['NAME', 'DRIVER', 'PARENT', 'SUBNET', 'GATEWAY', 'CONTAINERS'],
        nets.map((n) => [
          n.name,
          n.driver === 'null' ? 'none' : n.driver,
          n.options.parent ?? '',
          n.ipam.config
            .map((c) => c.subnet ?? '')
            .filter(Boolean)
            .join(' '),
          n.ipam.config
            .map((c) => c.gateway ?? '')
            .filter(Boolean)
            .join(' '),
          n.endpoints.map((e) => `${e.containerName}${e.ipv4 ? ` ${e.ipv4}` : ''}`).join(', '),
        ]),
      ),
    );
  });

  withConnectOptions(
    program
      .command('containers')
      .description('every container on the device, with its networks and published ports')
      .argument('<device>', 'saved name, local, or ssh://user@host[:port]'),
  ).action(async (target: string, o: ConnectFlags & { json?: boolean }) => {
    const list = await call<ContainerInfo[]>(service, 'containers', { target, ...connectOptions(o) });
    if (o.json) {
      io.out(json(list));
      return;
    }
    if (list.length === 0) {
      io.out('No containers on this device.\n');
      return;
    }
    io.out(
      table(
        ['NAME', 'IMAGE', 'STATE', 'NETWORK MODE', 'ADDRESSES', 'PORTS'],
        list.map((c) => [
          c.name,
          c.image,
          c.state,
          c.networkMode,
          c.networks.map((n) => `${n.network}:${n.ipv4 ?? '-'}`).join(' '),
          c.ports
            .map((p) =>
              p.hostPort
                ? `${p.hostIp ?? ''}:${p.hostPort}->${p.containerPort}/${p.protocol}`
                : `${p.containerPort}/${p.protocol}`,
            )
            .join(' '),
        ]),
      ),
    );
  });

  addPlanCommands(program, service, io);
  return program;
}

export interface ConnectFlags {
  identity?: string;
  acceptNewHostKey?: boolean;
  hostKey?: string;
  /** Read by `call` when a secret is needed (see the preAction hook), never passed on as is. */
  passwordStdin?: boolean;
}

const AUTH_METHODS = ['key', 'agent', 'password', 'keyboard-interactive'] as const;

interface DeviceEditOptions {
  host?: string;
  port?: number;
  user?: string;
  auth?: string;
  identity?: string;
  jump?: { user: string; host: string; port: number } | boolean;
  dockerSocket?: string | boolean;
  tag?: string[];
  notes?: string;
  json?: boolean;
}

interface DeviceAddOptions extends ConnectFlags {
  auth?: (typeof AUTH_METHODS)[number];
  host: string;
  port: number;
  user: string;
  jump?: { user: string; host: string; port: number };
  dockerSocket?: string;
  tag?: string[];
  notes?: string;
  json?: boolean;
}

export function withConnectOptions(cmd: Command): Command {
  return cmd
    .option('--identity <file>', 'private key file for ssh:// targets')
    .addOption(
      new Option('--accept-new-host-key', 'trust the host key if the device was never seen').conflicts('hostKey'),
    )
    .option('--host-key <SHA256:…>', 'trust exactly this host key (also re-pins a changed key)')
    .option(...PASSWORD_STDIN)
    .option('--json', 'machine-readable output');
}

/** Passwords never go on the command line (ps, shell history): a terminal prompt, or stdin. */
const PASSWORD_STDIN = [
  '--password-stdin',
  'read the password (or key passphrase) from stdin instead of asking on the terminal',
] as const;

export function connectOptions(o: ConnectFlags): { identity?: string; acceptNewHostKey?: boolean; hostKey?: string } {
  return {
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.acceptNewHostKey ? { acceptNewHostKey: true } : {}),
    ...(o.hostKey ? { hostKey: o.hostKey } : {}),
  };
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError('a port is a whole number from 1 to 65535');
  return n;
}

function parseJump(value: string): { user: string; host: string; port: number } {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value);
  if (!m?.[2]) throw new InvalidArgumentError('expected USER@HOST[:PORT]');
  return { user: m[1] ?? 'root', host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? parsePort(m[3]) : 22 };
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function showDevice(d: DeviceDetails): string {
  const rows: [string, string][] = [
    ['name', d.name],
    ['address', `${d.host}:${d.port}`],
    ['user', d.user],
    ['auth', d.auth + (d.identityFile ? ` (${d.identityFile})` : '')],
  ];
  if (d.jump) rows.push(['jump', `${d.jump.user}@${d.jump.host}:${d.jump.port}`]);
  if (d.dockerSocket) rows.push(['socket', d.dockerSocket]);
  if (d.channel) rows.push(['docker', `via ${d.channel.strategy} to ${d.channel.socketPath} (last time)`]);
  if (d.tags.length) rows.push(['tags', d.tags.join(', ')]);
  if (d.notes) rows.push(['notes', d.notes]);
  for (const k of d.trustedHostKeys) rows.push(['host key', `${k.keyType} ${k.fingerprint} (${k.source})`]);
  if (d.trustedHostKeys.length === 0) rows.push(['host key', 'not trusted yet (device test --accept-new-host-key)']);
  return rows.map(([k, v]) => `${k.padEnd(9)} ${v}`).join('\n') + '\n';
}

/** Runs the CLI; returns the exit code: 0 success, 1 failure, 2 usage. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const service = new Service({ frontEnd: argv[0] === 'serve' ? 'serve' : 'cli' });
  const program = buildProgram(service, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
        return 0;
      return 2;
    }
    if (e instanceof CliExit) return e.exitCode;
    if (e instanceof CliFailure) {
      io.err(`${formatErrorLine(e.info)}\n`);
      return 1;
    }
    io.err(`error INTERNAL: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    service.dispose();
  }
}
