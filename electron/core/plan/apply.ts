// Applies a diff as ordered steps, each with its undo; when a step fails, what was done is undone in
// reverse so the device is back as it was. Effects only through the device's Docker API and a shell.
import type Docker from 'dockerode';
import type { ErrorInfo } from '../contract.js';
import { translateDockerError } from '../docker/errors.js';
import { OWNER_LABEL, type NetworkInfo } from '../docker/types.js';
import { toErrorInfo } from '../errors.js';
import { parseCidr } from './cidr.js';
import type {
  AttachmentChange,
  ApplyProgress,
  ApplyResult,
  Endpoint,
  NetworkChange,
  PlanDiff,
  StepRecord,
} from './types.js';

export type { ApplyProgress, ApplyResult, StepRecord, StepStatus } from './types.js';
import { HASH_LABEL, HOST_ACCESS_LABEL, MTU_OPTION, PLAN_LABEL, specHash, type NetSpec } from './spec.js';

export interface DeviceHands {
  docker: Docker;
  /** Runs a POSIX sh script on the device; rejects with the script's stderr when it fails. */
  sh: (script: string) => Promise<void>;
}

interface Step {
  description: string;
  run: () => Promise<void>;
  /** Set by run once it has changed something: how to take that back. */
  undo?: () => Promise<void>;
  /** The same undo written down before anything runs, for the device's own watchdog. */
  inverse: UndoOp[];
}

/** One undo action, as data: the commit-confirmed watchdog on the device replays these. */
export type UndoOp =
  | { op: 'create'; body: Record<string, unknown> }
  | { op: 'remove'; network: string }
  | { op: 'connect'; network: string; container: string; endpoint?: Endpoint }
  | { op: 'disconnect'; network: string; container: string }
  | { op: 'sh'; script: string };

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The body of POST /networks/create for a spec. */
export function createBody(spec: NetSpec, planName: string): Record<string, unknown> {
  const config = (['ipv4', 'ipv6'] as const).flatMap((f) => {
    const fam = spec[f];
    if (!fam) return [];
    return [
      {
        Subnet: fam.subnet,
        ...(fam.gateway ? { Gateway: fam.gateway } : {}),
        ...(fam.range ? { IPRange: fam.range } : {}),
        ...(fam.exclude.length
          ? { AuxiliaryAddresses: Object.fromEntries(fam.exclude.map((a, i) => [`exclude${i}`, a])) }
          : {}),
      },
    ];
  });
  const options: Record<string, string> = {};
  if (spec.parent) options.parent = spec.parent;
  if (spec.mode && spec.driver === 'macvlan') options.macvlan_mode = spec.mode;
  if (spec.mode && spec.driver === 'ipvlan') options.ipvlan_mode = spec.mode;
  if (spec.mtu !== undefined) options[MTU_OPTION] = String(spec.mtu);
  return {
    Name: spec.name,
    Driver: spec.driver,
    CheckDuplicate: true,
    Internal: spec.internal,
    EnableIPv6: spec.ipv6 !== undefined,
    Options: options,
    IPAM: { Driver: 'default', Config: config },
    Labels: {
      [OWNER_LABEL]: 'portwright',
      [PLAN_LABEL]: planName,
      [HASH_LABEL]: specHash(spec),
      ...(spec.hostAccess ? { [HOST_ACCESS_LABEL]: `${spec.hostAccess.interface} ${spec.hostAccess.address}` } : {}),
    },
  };
}

/** Shell for the host access shim: a macvlan child of the parent holding the device's address. */
export function shimUp(spec: NetSpec): string {
  const ha = spec.hostAccess;
  if (!ha || !spec.parent) return 'true';
  const fam = ha.address.includes(':') ? spec.ipv6 : spec.ipv4;
  return shimScript(ha.interface, ha.address, spec.parent, fam?.range ?? fam?.subnet);
}

function shimScript(iface: string, address: string, parent: string, routeTo: string | undefined): string {
  const to = routeTo ? parseCidr(routeTo)?.text : undefined;
  const bits = address.includes(':') ? 128 : 32;
  const route = to ? ` && ip route replace ${q(to)} dev ${q(iface)}` : '';
  return `PATH="$PATH:/sbin:/usr/sbin"; ip link add ${q(iface)} link ${q(parent)} type macvlan mode bridge && ip addr add ${q(`${address}/${bits}`)} dev ${q(iface)} && ip link set ${q(iface)} up${route}`;
}

export function shimDown(iface: string): string {
  return `PATH="$PATH:/sbin:/usr/sbin"; if [ -e /sys/class/net/${q(iface)} ]; then ip link del ${q(iface)}; fi`;
}

async function docker<T>(what: () => Promise<T>): Promise<T> {
  try {
    return await what();
  } catch (e) {
    throw translateDockerError(e);
  }
}

/** The body of POST /networks/{id}/connect: a static address and aliases when given. */
export function connectBody(container: string, e: Endpoint | undefined): Record<string, unknown> {
  const ipam = { ...(e?.ipv4 ? { IPv4Address: e.ipv4 } : {}), ...(e?.ipv6 ? { IPv6Address: e.ipv6 } : {}) };
  return {
    Container: container,
    EndpointConfig: {
      ...(Object.keys(ipam).length ? { IPAMConfig: ipam } : {}),
      ...(e?.aliases.length ? { Aliases: e.aliases } : {}),
    },
  };
}

/** The create body that brings a removed network back as it was (from its inspect). */
function recreateBody(info: Docker.NetworkInspectInfo): Record<string, unknown> {
  return {
    Name: info.Name,
    Driver: info.Driver,
    CheckDuplicate: true,
    Internal: info.Internal,
    Attachable: info.Attachable,
    EnableIPv6: info.EnableIPv6,
    Options: info.Options ?? {},
    IPAM: {
      Driver: info.IPAM?.Driver ?? 'default',
      Config: info.IPAM?.Config ?? [],
      Options: info.IPAM?.Options ?? {},
    },
    Labels: info.Labels ?? {},
  };
}

/** A removed network brought back from what the inventory read (and its shim, if it had one). */
function recreateOps(info: NetworkInfo): UndoOp[] {
  const body = {
    Name: info.name,
    Driver: info.driver,
    CheckDuplicate: true,
    Internal: info.internal,
    Attachable: info.attachable,
    EnableIPv6: info.ipv6,
    Options: info.options,
    IPAM: {
      Driver: info.ipam.driver,
      Config: info.ipam.config.map((c) => ({
        ...(c.subnet ? { Subnet: c.subnet } : {}),
        ...(c.gateway ? { Gateway: c.gateway } : {}),
        ...(c.ipRange ? { IPRange: c.ipRange } : {}),
        ...(c.auxAddresses ? { AuxiliaryAddresses: c.auxAddresses } : {}),
      })),
    },
    Labels: info.labels,
  };
  const ops: UndoOp[] = [{ op: 'create', body }];
  const [iface, address] = info.labels[HOST_ACCESS_LABEL]?.split(' ') ?? [];
  const parent = info.options.parent;
  if (iface && address && parent) {
    const fam = info.ipam.config.find((c) => (c.subnet ?? '').includes(':') === address.includes(':'));
    ops.push({ op: 'sh', script: shimScript(iface, address, parent, fam?.ipRange ?? fam?.subnet) });
  }
  return ops;
}

function planSteps(diff: PlanDiff, hands: DeviceHands): Step[] {
  const { docker: d, sh } = hands;
  const steps: Step[] = [];
  const connect = (container: string, network: string, e: Endpoint | undefined): Promise<void> =>
    docker(() => d.getNetwork(network).connect(connectBody(container, e)) as Promise<void>);
  const disconnect = (container: string, network: string): Promise<void> =>
    docker(() => d.getNetwork(network).disconnect({ Container: container, Force: true }) as Promise<void>);

  const disconnectStep = (a: { container: string; network: string; from?: Endpoint }, why: string): Step => {
    const step: Step = {
      description: `disconnect ${a.container} from ${a.network} (${why})`,
      inverse: [{ op: 'connect', network: a.network, container: a.container, ...(a.from ? { endpoint: a.from } : {}) }],
      run: async () => {
        await disconnect(a.container, a.network);
        step.undo = () => connect(a.container, a.network, a.from);
      },
    };
    return step;
  };
  const removeStep = (n: NetworkChange): Step => {
    const step: Step = {
      description: `remove network ${n.name}${n.action === 'replace' ? ' (to recreate it)' : ''}`,
      inverse: n.current ? recreateOps(n.current) : [],
      run: async () => {
        const info = await docker<Docker.NetworkInspectInfo>(() => d.getNetwork(n.name).inspect());
        const shim = info.Labels?.[HOST_ACCESS_LABEL]?.split(' ');
        await docker(() => d.getNetwork(info.Id).remove() as Promise<void>);
        step.undo = async () => {
          await docker(() => d.createNetwork(recreateBody(info) as unknown as Docker.NetworkCreateOptions));
          const [iface, address] = shim ?? [];
          const parent = info.Options?.parent;
          if (iface && address && parent) {
            const fam = (info.IPAM?.Config ?? []).find((c) => (c.Subnet ?? '').includes(':') === address.includes(':'));
            await sh(shimScript(iface, address, parent, fam?.IPRange ?? fam?.Subnet));
          }
        };
        if (shim?.[0]) await sh(shimDown(shim[0]));
      },
    };
    return step;
  };
  const createStep = (n: NetworkChange, name: string): Step => {
    const spec = n.wanted as NetSpec;
    const step: Step = {
      description: `create ${spec.driver} network ${spec.name}${spec.parent ? ` on ${spec.parent}` : ''}${spec.ipv4 ? ` ${spec.ipv4.subnet}` : ''}${spec.ipv6 ? ` ${spec.ipv6.subnet}` : ''}`,
      inverse: [{ op: 'remove', network: spec.name }],
      run: async () => {
        const created = await docker(() =>
          d.createNetwork(createBody(spec, name) as unknown as Docker.NetworkCreateOptions),
        );
        step.undo = () => docker(() => created.remove() as Promise<void>);
      },
    };
    return step;
  };
  const shimStep = (spec: NetSpec): Step => {
    const ha = spec.hostAccess;
    const step: Step = {
      description: `add host access ${ha?.address ?? ''} on ${ha?.interface ?? ''}`,
      inverse: ha ? [{ op: 'sh', script: shimDown(ha.interface) }] : [],
      run: async () => {
        if (!ha) return;
        // Undo first: a half-made shim (link added, address refused) must go too.
        step.undo = () => sh(shimDown(ha.interface));
        await sh(shimUp(spec));
      },
    };
    return step;
  };

  const gone = new Set(diff.networks.filter((n) => n.action === 'remove' || n.action === 'replace').map((n) => n.name));
  for (const a of diff.attachments)
    if (a.action === 'disconnect' && !gone.has(a.network)) steps.push(disconnectStep(a, a.reason));
  for (const n of diff.networks) {
    if (n.action !== 'remove' && n.action !== 'replace') continue;
    for (const ep of n.current?.endpoints ?? []) {
      const known = diff.attachments.find((a) => a.network === n.name && a.container === ep.containerName);
      steps.push(
        disconnectStep(
          { container: ep.containerName, network: n.name, ...(known?.from ? { from: known.from } : {}) },
          n.action === 'remove' ? 'pruned network' : 'network is recreated',
        ),
      );
    }
    steps.push(removeStep(n));
  }
  for (const n of diff.networks) {
    if (n.action !== 'create' && n.action !== 'replace') continue;
    steps.push(createStep(n, diff.planName));
    if (n.wanted?.hostAccess) steps.push(shimStep(n.wanted));
  }
  const order: AttachmentChange['action'][] = ['readdress', 'reconnect', 'connect'];
  for (const action of order) {
    for (const a of diff.attachments.filter((x) => x.action === action)) {
      if (action === 'readdress') steps.push(disconnectStep(a, 'to re-address'));
      const step: Step = {
        description: `connect ${a.container} to ${a.network}${a.to?.ipv4 ? ` at ${a.to.ipv4}` : ''}${a.to?.ipv6 ? ` at ${a.to.ipv6}` : ''}`,
        inverse: [{ op: 'disconnect', network: a.network, container: a.container }],
        run: async () => {
          await connect(a.container, a.network, a.to);
          step.undo = () => disconnect(a.container, a.network);
        },
      };
      steps.push(step);
    }
  }
  return steps;
}

/** Every step's undo, last step first: what the device's watchdog replays if the change is not confirmed. */
export function undoOps(diff: PlanDiff): UndoOp[] {
  const never = (): Promise<void> => Promise.reject(new Error('describe only'));
  return planSteps(diff, { docker: undefined as unknown as Docker, sh: never })
    .reverse()
    .flatMap((s) => s.inverse);
}

/** The steps apply would run, in order (for the review screen and `plan diff`). */
export function describeSteps(diff: PlanDiff): string[] {
  const never = (): Promise<void> => Promise.reject(new Error('describe only'));
  return planSteps(diff, { docker: undefined as unknown as Docker, sh: never }).map((s) => s.description);
}

export async function applyDiff(
  diff: PlanDiff,
  hands: DeviceHands,
  onProgress: (p: ApplyProgress) => void = () => undefined,
): Promise<ApplyResult & { undo: () => Promise<ErrorInfo[]> }> {
  const steps = planSteps(diff, hands);
  const records: StepRecord[] = steps.map((s, index) => ({ index, description: s.description, status: 'running' }));
  const total = steps.length;
  const done: number[] = [];
  const rollback = async (): Promise<ErrorInfo[]> => {
    const errors: ErrorInfo[] = [];
    for (const i of [...done].reverse()) {
      const step = steps[i];
      const rec = records[i];
      if (!step || !rec) continue;
      try {
        await step.undo?.();
        rec.status = 'undone';
      } catch (e) {
        rec.status = 'undo-failed';
        const info = toErrorInfo(e);
        rec.error = info;
        errors.push({ ...info, message: `undo of "${step.description}": ${info.message}` });
      }
      onProgress({ phase: 'rollback', step: i + 1, total, description: step.description, status: rec.status });
    }
    return errors;
  };
  for (const [i, step] of steps.entries()) {
    const rec = records[i] as StepRecord;
    onProgress({ phase: 'apply', step: i + 1, total, description: step.description, status: 'running' });
    try {
      await step.run();
      rec.status = 'done';
      done.push(i);
      onProgress({ phase: 'apply', step: i + 1, total, description: step.description, status: 'done' });
    } catch (e) {
      rec.status = 'failed';
      const error = toErrorInfo(e);
      rec.error = error;
      // A step that changed something before failing (a half-made shim) is undone too.
      if (step.undo) done.push(i);
      onProgress({ phase: 'apply', step: i + 1, total, description: step.description, status: 'failed' });
      const rollbackErrors = await rollback();
      // The failed step stays "failed" unless its own undo failed too.
      if (records[i]?.status === 'undone') rec.status = 'failed';
      return {
        ok: false,
        planName: diff.planName,
        steps: records.slice(0, i + 1),
        error: { ...error, message: `step ${i + 1} of ${total}, "${step.description}", failed: ${error.message}` },
        rolledBack: rollbackErrors.length === 0,
        ...(rollbackErrors.length ? { rollbackErrors } : {}),
        undo: () => Promise.resolve([]),
      };
    }
  }
  return { ok: true, planName: diff.planName, steps: records, undo: rollback };
}
