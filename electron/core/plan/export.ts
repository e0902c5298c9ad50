// A device's current user-defined networks and attachments written as a plan: applying it back is a no-op.
import { stringify } from 'yaml';
import type { DockerState, NetworkInfo } from '../docker/types.js';
import { parseAddress } from './cidr.js';
import { PREDEFINED_NETWORKS, type Addressing, type Plan, type PlanAttachment, type PlanNetwork } from './schema.js';
import { defaultMode, specFromDocker, type FamilySpec } from './spec.js';

const EXPORTABLE = new Set(['bridge', 'macvlan', 'ipvlan']);

function addressing(f: FamilySpec | undefined, hostAccess: string | undefined): Addressing | undefined {
  if (!f) return undefined;
  const exclude = f.exclude.filter((a) => a !== hostAccess);
  return {
    subnet: f.subnet,
    ...(f.gateway ? { gateway: f.gateway } : {}),
    ...(f.range ? { range: f.range } : {}),
    ...(exclude.length ? { exclude } : {}),
  };
}

export function networkToPlan(info: NetworkInfo): PlanNetwork {
  const spec = specFromDocker(info);
  const driver = info.driver as PlanNetwork['driver'];
  const vlan = spec.parent ? /^(.+)\.(\d{1,4})$/.exec(spec.parent) : null;
  const ha = spec.hostAccess?.address;
  const ipv4 = addressing(spec.ipv4, ha);
  const ipv6 = addressing(spec.ipv6, ha);
  return {
    name: info.name,
    driver,
    ...(spec.parent ? (vlan ? { port: vlan[1] ?? '', vlan: Number(vlan[2]) } : { port: spec.parent }) : {}),
    ...(spec.mode && spec.mode !== defaultMode(driver) ? { mode: spec.mode } : {}),
    ...(ipv4 ? { ipv4 } : {}),
    ...(ipv6 ? { ipv6 } : {}),
    ...(spec.mtu !== undefined ? { mtu: spec.mtu } : {}),
    ...(spec.internal ? { internal: true } : {}),
    ...(spec.hostAccess
      ? { hostAccess: { address: spec.hostAccess.address, interface: spec.hostAccess.interface } }
      : {}),
  };
}

export function exportPlan(state: DockerState, name?: string): Plan {
  const networks = state.networks
    .filter((n) => EXPORTABLE.has(n.driver) && !PREDEFINED_NETWORKS.includes(n.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  const names = new Set(networks.map((n) => n.name));
  const attachments: PlanAttachment[] = [];
  for (const c of [...state.containers].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const n of c.networks) {
      if (!names.has(n.network)) continue;
      const v4 = n.staticIpv4 ? parseAddress(n.staticIpv4)?.text : undefined;
      const v6 = n.staticIpv6 ? parseAddress(n.staticIpv6)?.text : undefined;
      const aliases = n.aliases.filter((a) => !c.id.startsWith(a) && a !== c.name);
      attachments.push({
        container: c.name,
        network: n.network,
        ...(v4 ? { ipv4: v4 } : {}),
        ...(v6 ? { ipv6: v6 } : {}),
        ...(aliases.length ? { aliases } : {}),
      });
    }
  }
  return { version: 1, ...(name ? { name } : {}), networks: networks.map(networkToPlan), attachments };
}

export function planToYaml(plan: Plan): string {
  return stringify(plan, { lineWidth: 0, flowCollectionPadding: true });
}
