// The plan methods of the service: check, diff, apply, export and the one-change shortcuts (network
// rm, attach, detach), each against one live connection, every apply recorded in the audit log.
import { stringify } from 'yaml';
import type { PlanApplyResult, PlanCheckResult, PlanDiffResult, PlanExportResult } from '../contract.js';
import type { Connection } from '../devices/connections.js';
import { randomBytes } from 'node:crypto';
import { PortwrightError, toErrorInfo } from '../errors.js';
import type { Store } from '../store/db.js';
import { applyDiff, describeSteps, undoOps, type DeviceHands } from './apply.js';
import { runOn } from '../devices/run.js';
import { confirmCommand, startWatchdogCommand, watchdogScript } from './watchdog.js';
import { checkPlanText } from './check.js';
import { gatherDeviceFacts } from './device-facts.js';
import { diffPlan } from './diff.js';
import { exportPlan, planToYaml } from './export.js';
import { formatFinding, hasErrors } from './findings.js';
import { PREDEFINED_NETWORKS, type Plan } from './schema.js';
import type { ApplyProgress, Finding, PlanDiff } from './types.js';

export interface PlanContext {
  conn: Connection;
  store: Store;
  onProgress: (p: ApplyProgress) => void;
}

function counts(findings: Finding[]): { errors: number; warnings: number } {
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
  };
}

export function checkOffline(text: string): PlanCheckResult {
  const { findings } = checkPlanText(text);
  return { findings, ...counts(findings) };
}

function nameOf(plan: Plan, source: string | undefined): string {
  const base = source
    ?.split(/[\\/]/)
    .pop()
    ?.replace(/\.(ya?ml|json)$/i, '');
  return (plan.name ?? base) || 'plan';
}

export async function checkOnDevice(text: string, conn: Connection): Promise<PlanCheckResult> {
  const { findings } = checkPlanText(text, await gatherDeviceFacts(conn));
  return { findings, ...counts(findings), device: conn.target.label };
}

async function planAndDiff(
  text: string,
  source: string | undefined,
  conn: Connection,
): Promise<{ findings: Finding[]; diff?: PlanDiff }> {
  const facts = await gatherDeviceFacts(conn);
  const { plan, findings } = checkPlanText(text, facts);
  if (!plan || hasErrors(findings)) return { findings };
  return { findings, diff: diffPlan(plan, facts.docker, nameOf(plan, source)) };
}

export async function diffOnDevice(
  text: string,
  source: string | undefined,
  conn: Connection,
): Promise<PlanDiffResult> {
  const { findings, diff } = await planAndDiff(text, source, conn);
  return {
    findings,
    ...counts(findings),
    device: conn.target.label,
    ...(diff ? { diff } : {}),
    steps: diff ? describeSteps(diff) : [],
  };
}

function commandFailed(stderr: string): PortwrightError {
  const line = stderr.trim().split('\n').pop() ?? '';
  const hint = /not supported/i.test(line)
    ? "The device's kernel lacks this feature."
    : /permission|not permitted/i.test(line)
      ? 'Changing interfaces needs root (or CAP_NET_ADMIN) on the device.'
      : 'See the detail for what the device said.';
  return new PortwrightError({
    code: 'DEVICE_COMMAND_FAILED',
    message: `the device refused: ${line || 'a command failed'}`,
    hint,
    detail: stderr.trim().slice(0, 500),
  });
}

export function handsOf(conn: Connection): DeviceHands {
  return {
    docker: conn.docker,
    sh: async (script) => {
      const r = await runOn(conn, script);
      if (r.code !== 0) throw commandFailed(r.stderr);
    },
  };
}

/** Applies a diff with its undo, and writes the outcome to the audit log. */
async function applyAndAudit(
  ctx: PlanContext,
  diff: PlanDiff,
  findings: Finding[],
  action: string,
  detail: Record<string, unknown>,
): Promise<PlanApplyResult> {
  const result = await applyDiff(diff, handsOf(ctx.conn), ctx.onProgress);
  const device = ctx.conn.target.kind === 'saved' ? (ctx.conn.target.device?.name ?? null) : null;
  ctx.store.audit({
    device,
    action,
    detail: {
      ...detail,
      ...(device ? {} : { target: ctx.conn.target.label }),
      plan: diff.planName,
      steps: result.steps.map((s) => `${s.status}: ${s.description}`),
    },
    result: result.ok ? 'ok' : result.rolledBack ? 'rolled-back' : 'failed',
    ...(result.error ? { error: result.error } : {}),
  });
  return {
    ok: result.ok,
    planName: result.planName,
    steps: result.steps,
    ...(result.error ? { error: result.error } : {}),
    ...(result.rolledBack !== undefined ? { rolledBack: result.rolledBack } : {}),
    ...(result.rollbackErrors ? { rollbackErrors: result.rollbackErrors } : {}),
    findings,
  };
}

function refuse(findings: Finding[]): PortwrightError {
  const errors = findings.filter((f) => f.severity === 'error');
  const first = errors[0];
  return new PortwrightError({
    code: 'PLAN_INVALID',
    message: `the plan has ${errors.length} error(s); nothing was changed. First: ${first ? formatFinding(first) : ''}`,
    hint: 'Run plan check to see them all.',
    ...(first?.path ? { path: first.path } : {}),
  });
}

export interface ConfirmOptions {
  seconds: number;
  /** A new connection to the device, not the one the change went over: proof it is still reachable. */
  fresh: () => Promise<Connection>;
}

export async function applyOnDevice(
  ctx: PlanContext,
  text: string,
  source: string | undefined,
  confirm?: ConfirmOptions,
): Promise<PlanApplyResult> {
  const { findings, diff } = await planAndDiff(text, source, ctx.conn);
  if (!diff) throw refuse(findings);
  if (diff.changeCount === 0) return { ok: true, planName: diff.planName, steps: [], findings };
  const detail = { changes: diff.changeCount, networks: diff.networks.map((n) => `${n.action} ${n.name}`) };
  if (!confirm) return applyAndAudit(ctx, diff, findings, 'plan.apply', detail);

  const token = randomBytes(8).toString('hex');
  const started = await runOn(
    ctx.conn,
    startWatchdogCommand(token),
    watchdogScript(token, confirm.seconds, ctx.conn.socketPath, undoOps(diff)),
  );
  if (!started.stdout.includes('started'))
    throw new PortwrightError({
      code: 'WATCHDOG_FAILED',
      message: 'could not start the revert watchdog on the device; nothing was changed',
      hint: 'Commit-confirmed needs sh, /tmp and setsid or nohup on the device; apply without --confirm-within instead.',
      detail: started.stderr.trim().slice(0, 500),
    });
  const result = await applyAndAudit(ctx, diff, findings, 'plan.apply', { ...detail, confirmWithin: confirm.seconds });
  if (!result.ok) {
    // Undone here already: stand the watchdog down. If that fails too, it reverts by itself.
    if (result.rolledBack) await runOn(ctx.conn, confirmCommand(token, 'cancelled')).catch(() => undefined);
    return { ...result, confirm: { token, seconds: confirm.seconds, confirmed: false } };
  }
  let answer = '';
  try {
    const fresh = await confirm.fresh();
    try {
      answer = (await runOn(fresh, confirmCommand(token))).stdout.trim();
    } finally {
      fresh.close();
    }
  } catch (e) {
    answer = `unreachable: ${toErrorInfo(e).message}`;
  }
  const confirmed = answer === 'confirmed';
  ctx.store.audit({
    device: ctx.conn.target.kind === 'saved' ? (ctx.conn.target.device?.name ?? null) : null,
    action: 'plan.confirm',
    detail: { plan: diff.planName, token, answer },
    result: confirmed ? 'ok' : 'failed',
  });
  if (confirmed) return { ...result, confirm: { token, seconds: confirm.seconds, confirmed: true } };
  return {
    ...result,
    ok: false,
    confirm: { token, seconds: confirm.seconds, confirmed: false },
    error: {
      code: 'CONFIRM_FAILED',
      message: `the change was applied but could not be confirmed over a fresh connection (${answer || 'no answer'})`,
      hint: `The device reverts it by itself within ${confirm.seconds} s of the start of the apply.`,
    },
  };
}

export async function exportFromDevice(conn: Connection, name: string | undefined): Promise<PlanExportResult> {
  const facts = await gatherDeviceFacts(conn);
  const plan = exportPlan(facts.docker, name);
  return { plan, yaml: planToYaml(plan) };
}

/** attach / detach / network rm: a one-change plan against the device's current state, checked the same way. */
export async function attachOnDevice(
  ctx: PlanContext,
  a: { container: string; network: string; ipv4?: string; ipv6?: string; aliases?: string[] },
): Promise<PlanApplyResult> {
  const text = stringify({ version: 1, name: 'attach', attachments: [a] });
  const { findings, diff } = await planAndDiff(text, undefined, ctx.conn);
  if (!diff) throw refuse(findings.map((f) => ({ ...f, path: f.path.replace(/^attachments\[0\]\.?/, '') })));
  if (diff.changeCount === 0) return { ok: true, planName: 'attach', steps: [], findings };
  return applyAndAudit(ctx, diff, findings, 'container.attach', { container: a.container, network: a.network });
}

export async function detachOnDevice(ctx: PlanContext, container: string, network: string): Promise<PlanApplyResult> {
  const facts = await gatherDeviceFacts(ctx.conn);
  const c = facts.docker.containers.find((x) => x.name === container.replace(/^\//, '') || x.id.startsWith(container));
  if (!c)
    throw new PortwrightError({
      code: 'CONTAINER_NOT_FOUND',
      message: `the device has no container ${container}`,
      hint: 'See portwright containers DEVICE.',
    });
  const on = c.networks.find((n) => n.network === network);
  if (!on)
    throw new PortwrightError({
      code: 'NOT_ATTACHED',
      message: `${c.name} is not attached to ${network}`,
      hint: `It is on: ${c.networks.map((n) => n.network).join(', ') || 'no network'}.`,
    });
  const from = {
    ...((on.staticIpv4 ?? on.ipv4) ? { ipv4: (on.staticIpv4 ?? on.ipv4 ?? '').split('/')[0] } : {}),
    aliases: on.aliases.filter((x) => !c.id.startsWith(x) && x !== c.name),
  };
  const diff: PlanDiff = {
    planName: 'detach',
    networks: [],
    attachments: [{ action: 'disconnect', container: c.name, network, from, reason: 'asked for' }],
    changeCount: 1,
  };
  return applyAndAudit(ctx, diff, [], 'container.detach', { container: c.name, network });
}

export async function removeNetworkOnDevice(ctx: PlanContext, name: string): Promise<PlanApplyResult> {
  const facts = await gatherDeviceFacts(ctx.conn);
  const net = facts.docker.networks.find((n) => n.name === name || n.id.startsWith(name));
  if (!net)
    throw new PortwrightError({
      code: 'NETWORK_NOT_FOUND',
      message: `the device has no network ${name}`,
      hint: 'See portwright networks DEVICE.',
    });
  if (PREDEFINED_NETWORKS.includes(net.name))
    throw new PortwrightError({
      code: 'NETWORK_PREDEFINED',
      message: `${net.name} is one of Docker's predefined networks and cannot be removed`,
    });
  if (net.endpoints.length)
    throw new PortwrightError({
      code: 'NETWORK_IN_USE',
      message: `${net.name} still has ${net.endpoints.length} container(s): ${net.endpoints.map((e) => e.containerName).join(', ')}`,
      hint: `Detach them first: portwright detach CONTAINER ${net.name} --device …`,
    });
  const diff: PlanDiff = {
    planName: 'network-rm',
    networks: [{ action: 'remove', name: net.name, driver: net.driver, changes: [], current: net }],
    attachments: [],
    changeCount: 1,
  };
  return applyAndAudit(ctx, diff, [], 'network.remove', { network: net.name, driver: net.driver });
}
