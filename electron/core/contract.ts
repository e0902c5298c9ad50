// The one contract between the core and its front ends: every method's input schema and output
// type, and the events. Pure (zod and types only), so the renderer may import its types.
import { z } from 'zod';
import type { ContainerInfo, EngineInfo, NetworkInfo } from './docker/types.js';
import type { Port } from './ports/types.js';
import type { ApplyProgress, ApplyResult, Finding, PlanDiff } from './plan/types.js';
import type { Plan } from './plan/schema.js';
import {
  auditQuerySchema,
  deviceInputSchema,
  deviceNameSchema,
  devicePatchSchema,
  type AuditEntry,
  type Device,
  type TrustedHostKey,
} from './store/schemas.js';

export interface ErrorInfo {
  /** Stable, machine-readable, e.g. `HOST_KEY_CHANGED`, `INVALID_INPUT`. */
  code: string;
  message: string;
  hint?: string;
  /** Where in the input, e.g. `networks[1].ipv4.gateway`. */
  path?: string;
  /** The other side's own words (daemon, server), kept alongside ours. */
  detail?: string;
}

export type Result<T> = { ok: true; data: T } | { ok: false; error: ErrorInfo };

export interface AppInfo {
  name: string;
  version: string;
  /** Which front end is running the core: `electron`, `cli` or `serve`. */
  frontEnd: string;
  platform: string;
  node: string;
}

export interface MethodSpec<I extends z.ZodType, O> {
  input: I;
  description: string;
  /** Type-level only: the method's result. */
  readonly output?: O;
}

export interface DeviceDetails extends Device {
  trustedHostKeys: TrustedHostKey[];
  /** How Docker was reached last time (tried first next time). */
  channel?: { strategy: string; socketPath: string };
}

export interface DeviceTestResult {
  target: string;
  user: string;
  /** How Docker API calls reach the engine: stream-local, dial-stdio, socat, nc, or local. */
  strategy: string;
  socketPath: string;
  engine: EngineInfo;
  /** Time for one Docker API call once connected. */
  callMs: number;
}

const fingerprintSchema = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a host key fingerprint looks like SHA256: and 43 characters');

/** How to trust and log in, per call; never stored. */
export const connectSchema = z.strictObject({
  acceptNewHostKey: z.boolean().optional(),
  hostKey: fingerprintSchema.optional(),
  identity: z.string().min(1).optional(),
  password: z.string().optional(),
  passphrase: z.string().optional(),
  /** Keep the password or passphrase in the OS keyring (desktop app only; never in the inventory). */
  rememberSecret: z.boolean().optional(),
});

const targetSchema = z.string().min(1, 'name a device: a saved name, local, or ssh://user@host[:port]');
const onTarget = connectSchema.extend({ target: targetSchema });

/** A plan as the user wrote it (YAML or JSON text), and what to call it when it has no name. */
const planText = {
  text: z.string().max(2 * 1024 * 1024, 'a plan is at most 1 MiB'),
  source: z.string().max(255).optional(),
};

export interface PlanCheckResult {
  findings: Finding[];
  errors: number;
  warnings: number;
  /** The device the plan was checked against; absent for an offline check. */
  device?: string;
}

export interface PlanDiffResult extends PlanCheckResult {
  /** Absent when the plan has errors. */
  diff?: PlanDiff;
  /** The steps apply would run, in order. */
  steps: string[];
}

export interface PlanApplyResult extends ApplyResult {
  findings: Finding[];
  /** With confirmWithinSeconds: the watchdog's token, and whether a fresh connection confirmed the change. */
  confirm?: { token: string; seconds: number; confirmed: boolean };
}

export interface PlanExportResult {
  plan: Plan;
  yaml: string;
}

function method<O>() {
  return <I extends z.ZodType>(input: I, description: string): MethodSpec<I, O> => ({ input, description });
}

/** Every method a user can call, once. Front ends bind this table generically. */
export const contract = {
  appInfo: method<AppInfo>()(z.object({}).strict(), 'Version and platform of the Portwright core'),
  deviceAdd: method<DeviceDetails>()(
    z.strictObject({ device: deviceInputSchema, connect: connectSchema.optional() }),
    'Save a device; with host-key options, connect once to trust its key (the device is not saved if that fails)',
  ),
  deviceList: method<Device[]>()(z.strictObject({}), 'The saved devices'),
  deviceShow: method<DeviceDetails>()(
    z.strictObject({ name: deviceNameSchema }),
    'One saved device and its trusted host keys',
  ),
  deviceUpdate: method<DeviceDetails>()(
    z.strictObject({ name: deviceNameSchema, patch: devicePatchSchema }),
    "Change a saved device's settings (the next connection uses them)",
  ),
  deviceRemove: method<Device>()(z.strictObject({ name: deviceNameSchema }), 'Forget a saved device and its host keys'),
  deviceTest: method<DeviceTestResult>()(onTarget, 'Connect to a device and reach its Docker engine'),
  ports: method<Port[]>()(
    onTarget,
    "The device's network interfaces: hardware ports first, with link, addresses, routes and the Docker networks on each",
  ),
  networks: method<NetworkInfo[]>()(onTarget, 'Every Docker network on the device, with IPAM and endpoints'),
  containers: method<ContainerInfo[]>()(onTarget, 'Every container on the device, with networks and published ports'),
  planCheck: method<PlanCheckResult>()(
    connectSchema.extend({ ...planText, target: targetSchema.optional() }),
    'Check a plan: against itself, and with a target also against the live device',
  ),
  planDiff: method<PlanDiffResult>()(onTarget.extend(planText), 'What applying a plan would change on a device'),
  planApply: method<PlanApplyResult>()(
    onTarget.extend({
      ...planText,
      /** Commit-confirmed: the device reverts by itself unless a fresh connection confirms within this time. */
      confirmWithinSeconds: z.int('whole seconds').min(10, 'at least 10 s').max(3600, 'at most an hour').optional(),
    }),
    'Check and apply a plan; on failure every step done is undone',
  ),
  planExport: method<PlanExportResult>()(
    onTarget.extend({ name: z.string().max(64).optional() }),
    "The device's user-defined networks and attachments as a plan",
  ),
  networkRemove: method<PlanApplyResult>()(
    onTarget.extend({ name: z.string().min(1).max(128) }),
    'Remove a network (with its host access shim); refuses while containers use it',
  ),
  attach: method<PlanApplyResult>()(
    onTarget.extend({
      container: z.string().min(1).max(128),
      network: z.string().min(1).max(128),
      ipv4: z.string().max(64).optional(),
      ipv6: z.string().max(64).optional(),
      aliases: z.array(z.string().max(253)).max(16).optional(),
    }),
    'Connect a container to a network, optionally at a static address (checked first)',
  ),
  audit: method<AuditEntry[]>()(auditQuerySchema, 'The audit log, newest first: every change made to devices'),
  detach: method<PlanApplyResult>()(
    onTarget.extend({ container: z.string().min(1).max(128), network: z.string().min(1).max(128) }),
    'Disconnect a container from a network',
  ),
};

export type Contract = typeof contract;
export type MethodName = keyof Contract;
export type MethodInput<M extends MethodName> = z.input<Contract[M]['input']>;
export type MethodOutput<M extends MethodName> = Contract[M] extends MethodSpec<z.ZodType, infer O> ? O : never;

/** The service as every front end sees it. */
export type Api = { [M in MethodName]: (input: MethodInput<M>) => Promise<MethodOutput<M>> };

/** Events the core emits (connection state, progress); the payload type per event name. */
export interface EventMap {
  log: { level: 'info' | 'warn' | 'error'; message: string };
  /** A device's SSH connection: connecting, connected, lost, reconnecting, closed. */
  connection: { device: string; state: string; error?: { code: string; message: string }; attempt?: number };
  /** A step of an apply (or of its rollback). */
  progress: ApplyProgress & { device: string };
}
export type EventName = keyof EventMap;

export const methodNames = Object.keys(contract) as MethodName[];
