// One normal form for a network, whether it comes from a plan or from the device's engine, so
// "unchanged", "replace" and the changed fields fall out of one comparison.
import { createHash } from 'node:crypto';
import type { NetworkInfo } from '../docker/types.js';
import { OWNER_LABEL } from '../docker/types.js';
import { parseAddress, parseCidr } from './cidr.js';
import type { Addressing, PlanNetwork } from './schema.js';
import type { FamilySpec, NetSpec } from './types.js';

export type { FamilySpec, NetSpec } from './types.js';

export const PLAN_LABEL = 'dev.portwright.plan';
export const HASH_LABEL = 'dev.portwright.spec-hash';
export const HOST_ACCESS_LABEL = 'dev.portwright.host-access';
export const MTU_OPTION = 'com.docker.network.driver.mtu';

const canonCidr = (s: string): string => parseCidr(s)?.text ?? s;
const canonAddr = (s: string): string => parseAddress(s)?.text ?? s;

function familySpec(a: Addressing | undefined, extra: string[] = []): FamilySpec | undefined {
  if (!a) return undefined;
  const exclude = [...new Set([...(a.exclude ?? []), ...extra].map(canonAddr))].sort();
  return {
    subnet: canonCidr(a.subnet),
    ...(a.gateway !== undefined ? { gateway: canonAddr(a.gateway) } : {}),
    ...(a.range !== undefined ? { range: canonCidr(a.range) } : {}),
    exclude,
  };
}

export function defaultMode(driver: string): string | undefined {
  return driver === 'macvlan' ? 'bridge' : driver === 'ipvlan' ? 'l2' : undefined;
}

/** The shim interface's name: `pw-<network>` when that fits in 15 characters, else hashed. */
export function shimName(network: string): string {
  const plain = `pw-${network}`;
  if (plain.length <= 15 && /^[A-Za-z0-9_.-]+$/.test(network)) return plain;
  let h = 2166136261;
  for (const c of network) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return `pw-${h.toString(16).padStart(8, '0')}`;
}

export function parentOf(n: Pick<PlanNetwork, 'port' | 'vlan'>): string | undefined {
  if (n.port === undefined) return undefined;
  return n.vlan !== undefined ? `${n.port}.${n.vlan}` : n.port;
}

export function specFromPlan(n: PlanNetwork): NetSpec {
  const ha =
    n.hostAccess && n.driver === 'macvlan'
      ? { interface: n.hostAccess.interface ?? shimName(n.name), address: canonAddr(n.hostAccess.address) }
      : undefined;
  const haFamily = ha ? parseAddress(ha.address)?.family : undefined;
  const parent = n.driver === 'bridge' ? undefined : parentOf(n);
  const mode = n.driver === 'bridge' ? undefined : (n.mode ?? defaultMode(n.driver));
  const ipv4 = familySpec(n.ipv4, ha && haFamily === 4 ? [ha.address] : []);
  const ipv6 = familySpec(n.ipv6, ha && haFamily === 6 ? [ha.address] : []);
  return {
    name: n.name,
    driver: n.driver,
    ...(parent !== undefined ? { parent } : {}),
    ...(mode !== undefined ? { mode } : {}),
    ...(ipv4 ? { ipv4 } : {}),
    ...(ipv6 ? { ipv6 } : {}),
    ...(n.mtu !== undefined ? { mtu: n.mtu } : {}),
    internal: n.internal ?? false,
    ...(ha ? { hostAccess: ha } : {}),
  };
}

export function specFromDocker(info: NetworkInfo): NetSpec {
  let ipv4: FamilySpec | undefined;
  let ipv6: FamilySpec | undefined;
  for (const c of info.ipam.config) {
    const cidr = c.subnet ? parseCidr(c.subnet) : null;
    if (!cidr) continue;
    const fam: FamilySpec = {
      subnet: cidr.text,
      ...(c.gateway ? { gateway: canonAddr(c.gateway) } : {}),
      ...(c.ipRange ? { range: canonCidr(c.ipRange) } : {}),
      exclude: [...new Set(Object.values(c.auxAddresses ?? {}).map(canonAddr))].sort(),
    };
    if (cidr.family === 4) ipv4 ??= fam;
    else ipv6 ??= fam;
  }
  const mode = info.options.macvlan_mode ?? info.options.ipvlan_mode ?? defaultMode(info.driver);
  const mtuText = info.options[MTU_OPTION];
  const ha = info.labels[HOST_ACCESS_LABEL]?.split(' ');
  return {
    name: info.name,
    driver: info.driver,
    ...(info.options.parent ? { parent: info.options.parent } : {}),
    ...(mode !== undefined && info.driver !== 'bridge' ? { mode } : {}),
    ...(ipv4 ? { ipv4 } : {}),
    ...(ipv6 ? { ipv6 } : {}),
    ...(mtuText && /^\d+$/.test(mtuText) ? { mtu: Number(mtuText) } : {}),
    internal: info.internal,
    ...(ha?.length === 2 && ha[0] && ha[1] ? { hostAccess: { interface: ha[0], address: ha[1] } } : {}),
  };
}

function familyDiff(label: string, a: FamilySpec | undefined, b: FamilySpec | undefined, out: string[]): void {
  if (!a && !b) return;
  if (!a || !b) {
    out.push(`${label} ${a ? a.subnet : 'none'} → ${b ? b.subnet : 'none'}`);
    return;
  }
  const fields = ['subnet', 'gateway', 'range'] as const;
  // A gateway the plan leaves out is the engine's choice, not a change.
  for (const f of fields)
    if (a[f] !== b[f] && !(f === 'gateway' && b[f] === undefined))
      out.push(`${label} ${f} ${a[f] ?? 'none'} → ${b[f] ?? 'none'}`);
  if (a.exclude.join(',') !== b.exclude.join(','))
    out.push(`${label} excluded ${a.exclude.join(' ') || 'none'} → ${b.exclude.join(' ') || 'none'}`);
}

/** What differs from `current` to `wanted`, in words; empty when they are the same network. */
export function specChanges(current: NetSpec, wanted: NetSpec): string[] {
  const out: string[] = [];
  if (current.driver !== wanted.driver) out.push(`driver ${current.driver} → ${wanted.driver}`);
  if (current.parent !== wanted.parent) out.push(`parent ${current.parent ?? 'none'} → ${wanted.parent ?? 'none'}`);
  if (current.mode !== wanted.mode) out.push(`mode ${current.mode ?? 'default'} → ${wanted.mode ?? 'default'}`);
  familyDiff('IPv4', current.ipv4, wanted.ipv4, out);
  familyDiff('IPv6', current.ipv6, wanted.ipv6, out);
  // An MTU the plan does not set is whatever the engine chose: not a change.
  if (wanted.mtu !== undefined && current.mtu !== wanted.mtu)
    out.push(`MTU ${current.mtu ?? 'default'} → ${wanted.mtu}`);
  if (current.internal !== wanted.internal)
    out.push(`internal ${String(current.internal)} → ${String(wanted.internal)}`);
  const ha = (h: NetSpec['hostAccess']): string => (h ? `${h.address} on ${h.interface}` : 'none');
  if (ha(current.hostAccess) !== ha(wanted.hostAccess))
    out.push(`host access ${ha(current.hostAccess)} → ${ha(wanted.hostAccess)}`);
  return out;
}

/** A short stable hash of a spec, kept in a label so a changed plan is seen at a glance. */
export function specHash(spec: NetSpec): string {
  const stable = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(stable)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, stable((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(stable(spec)))
    .digest('hex')
    .slice(0, 12);
}

export const isOwned = (info: NetworkInfo): boolean => info.ownedByPortwright || info.labels[OWNER_LABEL] !== undefined;
