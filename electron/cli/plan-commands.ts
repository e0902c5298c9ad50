// `portwright plan check|diff|apply|export`, `network rm`, `attach`, `detach`: the plan methods of
// the core for scripts and field laptops.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import type { PlanApplyResult, PlanCheckResult, PlanDiffResult, PlanExportResult } from '../core/contract.js';
import { formatFinding } from '../core/plan/findings.js';
import type { PlanDiff } from '../core/plan/types.js';
import type { Service } from '../core/service.js';
import type { AuditEntry } from '../core/store/schemas.js';
import { startServe } from './serve.js';
import { table } from './table.js';
import {
  call,
  CliExit,
  CliFailure,
  connectOptions,
  json,
  withConnectOptions,
  type CliIo,
  type ConnectFlags,
} from './index.js';

interface DeviceFlags extends ConnectFlags {
  device: string;
  json?: boolean;
}

async function readPlan(io: CliIo, file: string): Promise<string> {
  try {
    return await (io.readFile ?? ((p: string) => readFile(p, 'utf8')))(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliFailure({
      code: 'PLAN_UNREADABLE',
      message: `cannot read ${file}${code === 'ENOENT' ? ': no such file' : code ? ` (${code})` : ''}`,
      hint: 'Give the path of a plan file (YAML or JSON).',
    });
  }
}

function printFindings(io: CliIo, r: PlanCheckResult, file: string): void {
  for (const f of r.findings) io.out(`${formatFinding(f, file)}\n`);
  const where = r.device ? ` against ${r.device}` : ' (plan only; add --device to check against a device)';
  io.out(`${r.errors} error(s), ${r.warnings} warning(s)${where}\n`);
}

const SYMBOL: Record<string, string> = {
  create: '+',
  replace: '~',
  remove: '-',
  unchanged: '=',
  connect: '+',
  reconnect: '~',
  readdress: '~',
  disconnect: '-',
};

export function formatDiff(diff: PlanDiff): string {
  const lines: string[] = [];
  for (const n of diff.networks) {
    const where = [
      n.driver,
      n.parent ? `on ${n.parent}` : '',
      n.wanted?.ipv4?.subnet ?? '',
      n.wanted?.ipv6?.subnet ?? '',
    ]
      .filter(Boolean)
      .join(' ');
    lines.push(`${SYMBOL[n.action] ?? '?'} network ${n.name} (${where}): ${n.action}`);
    for (const c of n.changes) lines.push(`    ${c}`);
  }
  for (const a of diff.attachments) {
    const to = a.to ? [a.to.ipv4, a.to.ipv6].filter(Boolean).join(' ') : '';
    lines.push(
      `${SYMBOL[a.action] ?? '?'} ${a.container} on ${a.network}${to ? ` at ${to}` : ''}: ${a.action} (${a.reason})`,
    );
  }
  lines.push(
    diff.changeCount === 0 ? 'No changes: the device already matches the plan.' : `${diff.changeCount} change(s).`,
  );
  return `${lines.join('\n')}\n`;
}

function printApply(io: CliIo, r: PlanApplyResult): void {
  if (r.steps.length === 0 && r.ok) {
    io.out('No changes: the device already matches the plan.\n');
    return;
  }
  for (const s of r.steps) io.out(`  [${s.status}] ${s.description}\n`);
  if (r.ok) io.out(`Applied ${r.steps.length} step(s).\n`);
  if (r.confirm?.confirmed) io.out('Confirmed over a fresh connection: the change stays.\n');
}

/** The built renderer: PORTWRIGHT_RENDERER_DIR, else electron-vite's out/renderer, else renderer/dist. */
function rendererDir(): string {
  const env = process.env.PORTWRIGHT_RENDERER_DIR;
  if (env) return env;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const built = join(root, 'out', 'renderer');
  return existsSync(join(built, 'index.html')) ? built : join(root, 'renderer', 'dist');
}

function auditSummary(e: AuditEntry): string {
  const d = (e.detail ?? {}) as Record<string, unknown>;
  const text = (v: unknown): string[] => (typeof v === 'string' ? [v] : []);
  const parts = e.action.startsWith('plan.')
    ? [...text(d.plan), ...(Array.isArray(d.networks) ? (d.networks as unknown[]).map(String) : [])]
    : [
        ...text(d.container),
        ...text(d.network),
        ...text(d.fingerprint),
        ...text(d.host),
        ...(Array.isArray(d.changed) ? (d.changed as unknown[]).map(String) : []),
      ];
  return parts.join(', ') + (e.error ? ` (${e.error.code})` : '');
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 10 || n > 3600) throw new InvalidArgumentError('whole seconds from 10 to 3600');
  return n;
}

function failApply(r: PlanApplyResult): never {
  const back =
    r.confirm && !r.rolledBack
      ? `The device's watchdog reverts the change by itself within ${r.confirm.seconds} s of the start.`
      : r.rolledBack
        ? 'Every step done before it was undone: the device is back as it was.'
        : `Undoing failed too: ${(r.rollbackErrors ?? []).map((e) => e.message).join('; ')}. Check the device.`;
  throw new CliFailure({
    code: r.error?.code ?? 'APPLY_FAILED',
    message: r.error?.message ?? 'the plan could not be applied',
    hint: `${r.error?.hint ? `${r.error.hint} ` : ''}${back}`,
  });
}

function deviceOption(cmd: Command): Command {
  return withConnectOptions(cmd.requiredOption('--device <device>', 'saved name, local, or ssh://user@host[:port]'));
}

export function addPlanCommands(program: Command, service: Service, io: CliIo): void {
  const plan = program.command('plan').description('check, diff, apply and export network plans');

  withConnectOptions(
    plan
      .command('check')
      .description('check a plan: against itself, and with --device also against the live device')
      .argument('<file>', 'plan file (YAML or JSON)')
      .option('--device <device>', 'also check against this device'),
  ).action(async (file: string, o: ConnectFlags & { device?: string; json?: boolean }) => {
    const text = await readPlan(io, file);
    const r = await call<PlanCheckResult>(service, 'planCheck', {
      text,
      source: file,
      ...(o.device ? { target: o.device, ...connectOptions(o) } : {}),
    });
    if (o.json) io.out(json(r));
    else printFindings(io, r, file);
    if (r.errors > 0) throw new CliExit(1);
  });

  deviceOption(
    plan
      .command('diff')
      .description('what applying the plan would change on the device')
      .argument('<file>', 'plan file'),
  ).action(async (file: string, o: DeviceFlags) => {
    const text = await readPlan(io, file);
    const r = await call<PlanDiffResult>(service, 'planDiff', {
      text,
      source: file,
      target: o.device,
      ...connectOptions(o),
    });
    if (o.json) io.out(json(r));
    else if (!r.diff) printFindings(io, r, file);
    else {
      for (const f of r.findings) io.out(`${formatFinding(f, file)}\n`);
      io.out(formatDiff(r.diff));
    }
    if (!r.diff) throw new CliExit(1);
  });

  deviceOption(
    plan
      .command('apply')
      .description('check the plan, show the diff, and apply it; a failed step undoes the ones before it')
      .argument('<file>', 'plan file')
      .option('--yes', 'apply without asking')
      .option(
        '--confirm-within <seconds>',
        'commit-confirmed: the device reverts by itself unless a fresh connection confirms within this time',
        parseSeconds,
      ),
  ).action(async (file: string, o: DeviceFlags & { yes?: boolean; confirmWithin?: number }) => {
    const text = await readPlan(io, file);
    const target = { target: o.device, ...connectOptions(o) };
    if (!o.yes) {
      if (!io.confirm)
        throw new CliFailure({
          code: 'CONFIRMATION_NEEDED',
          message: 'plan apply asks before changing a device, and there is no terminal to ask on',
          hint: 'Review with plan diff, then pass --yes.',
        });
      const d = await call<PlanDiffResult>(service, 'planDiff', { text, source: file, ...target });
      if (!d.diff) {
        printFindings(io, d, file);
        throw new CliExit(1);
      }
      io.out(formatDiff(d.diff));
      if (d.diff.changeCount === 0) return;
      if (!(await io.confirm(`Apply ${d.diff.changeCount} change(s) to ${o.device}?`))) {
        io.out('Nothing changed.\n');
        return;
      }
    }
    const off = o.json
      ? () => undefined
      : service.on('progress', (p) => {
          if (p.status !== 'running')
            io.err(`${p.phase === 'rollback' ? 'undo' : 'step'} ${p.step}/${p.total} ${p.status}: ${p.description}\n`);
        });
    try {
      const r = await call<PlanApplyResult>(service, 'planApply', {
        text,
        source: file,
        ...target,
        ...(o.confirmWithin !== undefined ? { confirmWithinSeconds: o.confirmWithin } : {}),
      });
      if (o.json) io.out(json(r));
      else printApply(io, r);
      if (!r.ok) {
        if (o.json) throw new CliExit(1);
        failApply(r);
      }
    } finally {
      off();
    }
  });

  deviceOption(
    plan
      .command('export')
      .description("write the device's user-defined networks and attachments as a plan")
      .option('--name <name>', 'the plan name')
      .option('-o, --output <file>', 'write to a file instead of stdout'),
  ).action(async (o: DeviceFlags & { name?: string; output?: string }) => {
    const r = await call<PlanExportResult>(service, 'planExport', {
      target: o.device,
      ...(o.name ? { name: o.name } : {}),
      ...connectOptions(o),
    });
    const text = o.json ? json(r.plan) : r.yaml;
    if (o.output) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(o.output, text);
      io.err(`wrote ${o.output}\n`);
    } else io.out(text);
  });

  program
    .command('audit')
    .description('the audit log, newest first: every change Portwright made to devices')
    .argument('[device]', 'only this saved device')
    .option('--limit <n>', 'at most this many entries', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number from 1');
      return n;
    })
    .option('--json', 'machine-readable output')
    .action(async (device: string | undefined, o: { limit?: number; json?: boolean }) => {
      const entries = await call<AuditEntry[]>(service, 'audit', {
        ...(device ? { device } : {}),
        ...(o.limit ? { limit: o.limit } : {}),
      });
      if (o.json) io.out(json(entries));
      else if (entries.length === 0) io.out('Nothing in the audit log yet.\n');
      else
        io.out(
          table(
            ['WHEN', 'DEVICE', 'ACTION', 'RESULT', 'WHAT'],
            entries.map((e) => [
              e.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
              e.device ?? '',
              e.action,
              e.result,
              auditSummary(e),
            ]),
          ),
        );
    });

  program
    .command('serve')
    .description('the desktop UI in a browser: on 127.0.0.1 only, with a per-launch token in the printed address')
    .option('--port <port>', 'port to listen on (default: any free one)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('a port is 1-65535');
      return n;
    })
    .action(async (o: { port?: number }) => {
      const staticDir = rendererDir();
      let served;
      try {
        served = await startServe({ service, staticDir, ...(o.port ? { port: o.port } : {}) });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CliFailure({
          code: code === 'EADDRINUSE' ? 'PORT_IN_USE' : 'SERVE_FAILED',
          message: code === 'EADDRINUSE' ? `port ${o.port ?? 0} is taken` : (e as Error).message,
          hint:
            code === 'EADDRINUSE'
              ? 'Pick another --port, or leave it out for any free one.'
              : 'Build the app first: npm run build.',
        });
      }
      io.out(`Portwright is serving on 127.0.0.1 only. Open:\n  ${served.url}\n(Ctrl-C stops it.)\n`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          done();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await served.close();
    });

  const network = program.command('network').description('one network at a time');
  deviceOption(
    network.command('rm').description('remove a network (and its host access shim)').argument('<name>'),
  ).action(async (name: string, o: DeviceFlags) => {
    const r = await call<PlanApplyResult>(service, 'networkRemove', { target: o.device, name, ...connectOptions(o) });
    if (o.json) io.out(json(r));
    else if (r.ok) io.out(`removed ${name}\n`);
    if (!r.ok) failApply(r);
  });

  deviceOption(
    program
      .command('attach')
      .description('connect a container to a network, optionally at a static address (checked first)')
      .argument('<container>')
      .argument('<network>')
      .option('--ipv4 <address>', 'static IPv4 address')
      .option('--ipv6 <address>', 'static IPv6 address')
      .option('--alias <name...>', 'DNS aliases on the network'),
  ).action(
    async (container: string, net: string, o: DeviceFlags & { ipv4?: string; ipv6?: string; alias?: string[] }) => {
      const r = await call<PlanApplyResult>(service, 'attach', {
        target: o.device,
        container,
        network: net,
        ...(o.ipv4 ? { ipv4: o.ipv4 } : {}),
        ...(o.ipv6 ? { ipv6: o.ipv6 } : {}),
        ...(o.alias ? { aliases: o.alias } : {}),
        ...connectOptions(o),
      });
      if (o.json) io.out(json(r));
      else
        io.out(
          r.steps.length
            ? `attached ${container} to ${net}\n`
            : `${container} is already attached to ${net} as asked\n`,
        );
      if (!r.ok) failApply(r);
    },
  );

  deviceOption(
    program
      .command('detach')
      .description('disconnect a container from a network')
      .argument('<container>')
      .argument('<network>'),
  ).action(async (container: string, net: string, o: DeviceFlags) => {
    const r = await call<PlanApplyResult>(service, 'detach', {
      target: o.device,
      container,
      network: net,
      ...connectOptions(o),
    });
    if (o.json) io.out(json(r));
    else if (r.ok) io.out(`detached ${container} from ${net}\n`);
    if (!r.ok) failApply(r);
  });
}
