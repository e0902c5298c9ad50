// What applying a plan would change on a device: networks to create, replace, keep or prune, and
// containers to connect, re-address or disconnect. Pure: plan + Docker state in, a diff out.
import type { ContainerInfo, DockerState } from '../docker/types.js';
import { parseAddress, parseCidr, contains } from './cidr.js';
import type { Plan, PlanAttachment } from './schema.js';
import { isOwned, specChanges, specFromDocker, specFromPlan, type NetSpec } from './spec.js';
import type { AttachmentChange, Endpoint, NetworkChange, PlanDiff } from './types.js';

export type { AttachmentAction, AttachmentChange, Endpoint, NetworkAction, NetworkChange, PlanDiff } from './types.js';

const plainAddress = (s: string | undefined): string | undefined =>
  s ? (parseAddress(s.split('/')[0] ?? '')?.text ?? undefined) : undefined;

function endpointOf(c: ContainerInfo, network: string): Endpoint | undefined {
  const n = c.networks.find((x) => x.network === network);
  if (!n) return undefined;
  const ipv4 = plainAddress(n.staticIpv4 ?? n.ipv4);
  const ipv6 = plainAddress(n.staticIpv6 ?? n.ipv6);
  // Docker adds the container's short id as an alias; that one is not the user's.
  const aliases = n.aliases.filter((a) => !c.id.startsWith(a) && a !== c.name);
  return { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}), aliases };
}

function wantedEndpoint(a: PlanAttachment): Endpoint {
  const ipv4 = plainAddress(a.ipv4);
  const ipv6 = plainAddress(a.ipv6);
  return { ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}), aliases: [...(a.aliases ?? [])].sort() };
}

/** The plan's static addresses and aliases are what counts; an address Docker chose is fine. */
function sameEndpoint(now: Endpoint, want: Endpoint): boolean {
  if (want.ipv4 && now.ipv4 !== want.ipv4) return false;
  if (want.ipv6 && now.ipv6 !== want.ipv6) return false;
  return want.aliases.every((a) => now.aliases.includes(a));
}

const show = (e: Endpoint | undefined): string =>
  e ? [e.ipv4, e.ipv6].filter(Boolean).join(' ') || 'an address Docker picks' : '';

/** Keeps a member's old address across a replace only if it still fits the new subnet. */
function carryOver(e: Endpoint, spec: NetSpec): Endpoint {
  const fits = (addr: string | undefined, subnet: string | undefined): boolean => {
    const a = addr ? parseAddress(addr) : null;
    const s = subnet ? parseCidr(subnet) : null;
    return !!a && !!s && contains(s, a);
  };
  return {
    ...(fits(e.ipv4, spec.ipv4?.subnet) ? { ipv4: e.ipv4 } : {}),
    ...(fits(e.ipv6, spec.ipv6?.subnet) ? { ipv6: e.ipv6 } : {}),
    aliases: e.aliases,
  };
}

export function planName(plan: Plan, fallback: string): string {
  return plan.name ?? fallback;
}

export function diffPlan(plan: Plan, state: DockerState, name: string): PlanDiff {
  const existing = new Map(state.networks.map((n) => [n.name, n]));
  const containers = state.containers;
  const findContainer = (ref: string): ContainerInfo | undefined => {
    const r = ref.replace(/^\//, '');
    return containers.find((c) => c.name === r || c.id === r || (r.length >= 12 && c.id.startsWith(r)));
  };
  const networks: NetworkChange[] = [];
  const planned = new Set(plan.networks.map((n) => n.name));
  for (const n of plan.networks) {
    const wanted = specFromPlan(n);
    const current = existing.get(n.name);
    const base = { name: n.name, driver: n.driver, ...(wanted.parent ? { parent: wanted.parent } : {}), wanted };
    if (!current) networks.push({ ...base, action: 'create', changes: [] });
    else {
      const changes = specChanges(specFromDocker(current), wanted);
      networks.push({ ...base, action: changes.length ? 'replace' : 'unchanged', changes, current });
    }
  }
  if (plan.prune) {
    for (const n of state.networks) {
      if (planned.has(n.name) || !isOwned(n)) continue;
      networks.push({
        action: 'remove',
        name: n.name,
        driver: n.driver,
        ...(n.options.parent ? { parent: n.options.parent } : {}),
        changes: [],
        current: n,
      });
    }
  }
  const byName = new Map(networks.map((n) => [n.name, n]));

  const attachments: AttachmentChange[] = [];
  const listed = new Set<string>();
  for (const a of plan.attachments) {
    const c = findContainer(a.container);
    const cname = c?.name ?? a.container.replace(/^\//, '');
    listed.add(`${cname}\u0000${a.network}`);
    const to = wantedEndpoint(a);
    const net = byName.get(a.network);
    const now = c ? endpointOf(c, a.network) : undefined;
    if (net && (net.action === 'create' || net.action === 'replace')) {
      attachments.push({
        action: 'connect',
        container: cname,
        network: a.network,
        to,
        reason: `${a.network} is ${net.action === 'create' ? 'new' : 'recreated'}`,
        ...(now ? { from: now } : {}),
      });
    } else if (!now) {
      attachments.push({ action: 'connect', container: cname, network: a.network, to, reason: 'not attached yet' });
    } else if (sameEndpoint(now, to)) {
      attachments.push({
        action: 'unchanged',
        container: cname,
        network: a.network,
        from: now,
        to: now,
        reason: 'attached as planned',
      });
    } else {
      attachments.push({
        action: 'readdress',
        container: cname,
        network: a.network,
        from: now,
        to,
        reason: `${show(now) || 'no address'} → ${show(to)}`,
      });
    }
  }
  // Members the plan does not list: pruned with prune, else carried over (also across a replace).
  for (const net of networks) {
    if (!net.current) continue;
    for (const ep of net.current.endpoints) {
      const c = containers.find((x) => x.id === ep.containerId) ?? findContainer(ep.containerName);
      const cname = c?.name ?? ep.containerName;
      if (listed.has(`${cname}\u0000${net.name}`)) continue;
      const from = c ? (endpointOf(c, net.name) ?? { aliases: [] }) : { aliases: [] };
      if (net.action === 'remove' || plan.prune) {
        attachments.push({
          action: 'disconnect',
          container: cname,
          network: net.name,
          from,
          reason: net.action === 'remove' ? `${net.name} is pruned` : 'not in the plan (prune)',
        });
      } else if (net.action === 'replace' && net.wanted) {
        attachments.push({
          action: 'reconnect',
          container: cname,
          network: net.name,
          from,
          to: carryOver(from, net.wanted),
          reason: `not in the plan; kept across the replace of ${net.name}`,
        });
      }
    }
  }
  const changeCount =
    networks.filter((n) => n.action !== 'unchanged').length +
    attachments.filter((a) => a.action !== 'unchanged').length;
  return { planName: name, networks, attachments, changeCount };
}
