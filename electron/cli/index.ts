// The `portwright` command: the core service for scripts, CI and headless commissioning.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { DeviceDetails, DeviceTestResult } from '../core/contract.js';
import type { ContainerInfo, NetworkInfo } from '../core/docker/types.js';
import type { Port } from '../core/ports/types.js';
import type { Device } from '../core/store/schemas.js';
import { addPlanCommands } from './plan-commands.js';
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
}

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

/** Calls a core method and unwraps its result; failures become one clear line and exit 1. */
export async function call<T>(service: Service, method: string, input: unknown): Promise<T> {
  const result = await service.invoke(method, input);
  if (!result.ok) throw new CliFailure(result.error);
  return result.data as T;
}

export function buildProgram(service: Service, io: CliIo): Command {
  const program = new Command('portwright')
    .description('Commission the container networks of embedded Linux devices over SSH.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run `portwright --help` for usage)')
    .exitOverride();

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
    .option('--jump <user@host[:port]>', 'jump host, like ssh -J', parseJump)
    .option('--docker-socket <path>', 'Docker socket path on the device (default: detected)')
    .option('--tag <tag...>', 'tags')
    .option('--notes <text>', 'free text')
    .addOption(
      new Option('--accept-new-host-key', 'trust the host key if the device was never seen').conflicts('hostKey'),
    )
    .option('--host-key <SHA256:…>', 'trust exactly this host key')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: DeviceAddOptions) => {
      const saved = await call<DeviceDetails>(service, 'deviceAdd', {
        device: {
          name,
          host: o.host,
          port: o.port,
          user: o.user,
          auth: o.identity ? 'key' : 'agent',
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
}

interface DeviceAddOptions extends ConnectFlags {
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
    .option('--json', 'machine-readable output');
}

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
  const service = new Service({ frontEnd: 'cli' });
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
