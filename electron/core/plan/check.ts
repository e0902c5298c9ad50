// The plan checker: every problem at once, each with a stable code, a path and a hint. Pure: the
// checks against the plan itself run offline; given DeviceFacts it also checks the live device.
import {
  contains,
  containsCidr,
  isReserved,
  overlaps,
  parseAddress,
  parseCidr,
  type Address,
  type Cidr,
  type Family,
} from './cidr.js';
import { KERNEL_OPTION, type DeviceFacts, type KernelFeature } from './facts.js';
import { Findings, type Finding, type PathKey } from './findings.js';
import { parsePlanText, withPositions, type PlanDraft } from './parse.js';
import {
  MODES,
  PREDEFINED_NETWORKS,
  type Addressing,
  type Plan,
  type PlanAttachment,
  type PlanNetwork,
} from './schema.js';
import { HOST_ACCESS_LABEL, isOwned, parentOf, shimName, specChanges, specFromDocker, specFromPlan } from './spec.js';
import type { NetworkInfo } from '../docker/types.js';
import { networkToPlan } from './export.js';
import type { Port } from '../ports/types.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const CONTAINER = /^\/?[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IFNAME = /^[^\s/:]{1,15}$/;
const ALIAS =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;

/** A network's addressing after parsing, per family; absent parts failed their own checks. */
interface FamilyFacts {
  subnet?: Cidr;
  gateway?: Address;
  range?: Cidr;
  exclude: Address[];
}

interface NetFacts {
  index: number;
  net: PlanNetwork;
  parent?: string;
  v4: FamilyFacts | null;
  v6: FamilyFacts | null;
  hostAccess?: Address;
}

const famKey = (f: Family): 'ipv4' | 'ipv6' => (f === 4 ? 'ipv4' : 'ipv6');

function checkFamily(
  out: Findings,
  path: PathKey[],
  family: Family,
  a: Addressing,
  driver: string,
  mode: string | undefined,
): FamilyFacts {
  const facts: FamilyFacts = { exclude: [] };
  const other = family === 4 ? 'IPv6' : 'IPv4';
  const subnet = parseCidr(a.subnet);
  if (!subnet) {
    out.error(
      [...path, 'subnet'],
      'CIDR_INVALID',
      `"${a.subnet}" is not a subnet in CIDR notation`,
      family === 4 ? 'Write it like 198.18.110.0/24.' : 'Write it like fd00:110::/64.',
    );
  } else if (subnet.family !== family) {
    out.error(
      [...path, 'subnet'],
      'FAMILY_MISMATCH',
      `${a.subnet} is an ${other} subnet under ${famKey(family)}`,
      `Move it under ${famKey(subnet.family)}.`,
    );
  } else if (subnet.hostBitsSet) {
    out.error([...path, 'subnet'], 'SUBNET_HOST_BITS', `${a.subnet} has host bits set`, `Did you mean ${subnet.text}?`);
  } else if ((family === 4 && subnet.prefix > 30) || (family === 6 && subnet.prefix > 126)) {
    out.error(
      [...path, 'subnet'],
      'SUBNET_TOO_SMALL',
      `${a.subnet} leaves no room for containers`,
      family === 4 ? 'Use a /30 or larger (a smaller prefix number).' : 'Use a /126 or larger; /64 is usual.',
    );
  } else {
    facts.subnet = subnet;
  }
  const sub = facts.subnet;
  const addr = (key: PathKey[], text: string, what: string): Address | undefined => {
    const ad = parseAddress(text);
    if (!ad) {
      out.error(
        key,
        'ADDRESS_INVALID',
        `${what} "${text}" is not an ${family === 4 ? 'IPv4' : 'IPv6'} address`,
        family === 4 ? 'Write it like 198.18.110.1.' : 'Write it like fd00:110::1.',
      );
      return undefined;
    }
    if (ad.family !== family) {
      out.error(
        key,
        'FAMILY_MISMATCH',
        `${what} ${text} is ${other} under ${famKey(family)}`,
        `Use an ${family === 4 ? 'IPv4' : 'IPv6'} address here.`,
      );
      return undefined;
    }
    return ad;
  };
  if (a.gateway !== undefined) {
    const gp = [...path, 'gateway'];
    const g = addr(gp, a.gateway, 'the gateway');
    if (g && driver === 'ipvlan' && (mode === 'l3' || mode === 'l3s')) {
      out.error(
        gp,
        'IPVLAN_L3_GATEWAY',
        `ipvlan ${mode} routes by itself and takes no gateway`,
        'Remove the gateway, or use mode l2.',
      );
    } else if (g && sub) {
      if (!contains(sub, g))
        out.error(
          gp,
          'GATEWAY_OUTSIDE_SUBNET',
          `the gateway ${g.text} is outside ${sub.text}`,
          `Pick an address inside ${sub.text}.`,
        );
      else if (isReserved(sub, g))
        out.error(
          gp,
          'GATEWAY_RESERVED',
          `the gateway ${g.text} is the ${g.value === sub.first ? 'network' : 'broadcast'} address of ${sub.text}`,
          'Use a host address, often the first one (.1).',
        );
      else facts.gateway = g;
    }
  }
  if (a.range !== undefined) {
    const rp = [...path, 'range'];
    const r = parseCidr(a.range);
    if (!r)
      out.error(
        rp,
        'CIDR_INVALID',
        `the range "${a.range}" is not in CIDR notation`,
        'A range is a block inside the subnet, like 198.18.110.128/25.',
      );
    else if (r.family !== family)
      out.error(
        rp,
        'FAMILY_MISMATCH',
        `the range ${a.range} is ${other}`,
        `Use an ${family === 4 ? 'IPv4' : 'IPv6'} block.`,
      );
    else if (r.hostBitsSet)
      out.error(rp, 'RANGE_HOST_BITS', `the range ${a.range} has host bits set`, `Did you mean ${r.text}?`);
    else if (sub && !containsCidr(sub, r))
      out.error(
        rp,
        'RANGE_OUTSIDE_SUBNET',
        `the range ${r.text} is not inside ${sub.text}`,
        `Pick a block inside ${sub.text}.`,
      );
    else facts.range = r;
  }
  const seen = new Set<string>();
  (a.exclude ?? []).forEach((text, i) => {
    const ep = [...path, 'exclude', i];
    const e = addr(ep, text, 'the excluded address');
    if (!e) return;
    if (sub && !contains(sub, e)) {
      out.error(
        ep,
        'EXCLUDE_OUTSIDE_SUBNET',
        `the excluded address ${e.text} is outside ${sub.text}`,
        'Only addresses of this subnet can be kept out of its pool.',
      );
      return;
    }
    if (seen.has(e.text)) out.warn(ep, 'EXCLUDE_DUPLICATE', `${e.text} is excluded twice`, 'Remove the repeat.');
    seen.add(e.text);
    facts.exclude.push(e);
  });
  return facts;
}

function checkNetwork(out: Findings, n: PlanNetwork, i: number): NetFacts {
  const p: PathKey[] = ['networks', i];
  if (!NAME.test(n.name))
    out.error(
      [...p, 'name'],
      'NAME_INVALID',
      `"${n.name}" is not a valid network name`,
      'Use 1-64 letters, digits, "_", "." or "-", starting with a letter or digit.',
    );
  else if (PREDEFINED_NETWORKS.includes(n.name))
    out.error(
      [...p, 'name'],
      'NAME_RESERVED',
      `"${n.name}" is one of Docker's predefined networks`,
      'Pick another name; bridge, host and none cannot be created or changed.',
    );
  const modes = MODES[n.driver];
  if (n.driver === 'bridge') {
    for (const key of ['port', 'vlan', 'mode'] as const)
      if (n[key] !== undefined)
        out.error(
          [...p, key],
          'BRIDGE_OPTION',
          `a bridge network has no ${key}`,
          'A bridge lives inside the device; use macvlan or ipvlan to put containers on a port.',
        );
    if (n.hostAccess)
      out.error(
        [...p, 'hostAccess'],
        'HOST_ACCESS_DRIVER',
        'host access is for macvlan networks',
        'The device already reaches its bridge containers; remove hostAccess.',
      );
  } else {
    if (n.port === undefined)
      out.error(
        p,
        'PORT_REQUIRED',
        `a ${n.driver} network needs a port`,
        'Name the hardware port it sits on, e.g. port: eth1.',
      );
    else if (!IFNAME.test(n.port))
      out.error(
        [...p, 'port'],
        'PORT_NAME_INVALID',
        `"${n.port}" is not an interface name`,
        'Interface names are 1-15 characters without spaces, "/" or ":".',
      );
    if (n.mode !== undefined && !modes.includes(n.mode))
      out.error(
        [...p, 'mode'],
        'MODE_INVALID',
        `"${n.mode}" is not a ${n.driver} mode`,
        `Use one of: ${modes.join(', ')}.`,
      );
    if (n.hostAccess && n.driver !== 'macvlan')
      out.error(
        [...p, 'hostAccess'],
        'HOST_ACCESS_DRIVER',
        'host access is for macvlan networks',
        n.driver === 'ipvlan'
          ? 'With ipvlan the device reaches its containers through the parent in l3 mode; remove hostAccess.'
          : 'Remove hostAccess.',
      );
  }
  if (n.vlan !== undefined && n.driver !== 'bridge') {
    if (n.vlan < 1 || n.vlan > 4094)
      out.error([...p, 'vlan'], 'VLAN_RANGE', `VLAN id ${n.vlan} is out of range`, 'A VLAN id is 1-4094.');
    else if (n.port !== undefined && `${n.port}.${n.vlan}`.length > 15)
      out.error(
        [...p, 'vlan'],
        'IFNAME_TOO_LONG',
        `the VLAN interface ${n.port}.${n.vlan} would be longer than 15 characters`,
        'Linux limits interface names to 15 characters; this port name is too long for a VLAN sub-interface.',
      );
  }
  const mode = n.mode ?? (n.driver === 'ipvlan' ? 'l2' : n.driver === 'macvlan' ? 'bridge' : undefined);
  const v4 = n.ipv4 ? checkFamily(out, [...p, 'ipv4'], 4, n.ipv4, n.driver, mode) : null;
  const v6 = n.ipv6 ? checkFamily(out, [...p, 'ipv6'], 6, n.ipv6, n.driver, mode) : null;
  if (!n.ipv4 && !n.ipv6 && n.driver !== 'bridge')
    out.warn(
      p,
      'ADDRESSING_MISSING',
      `${n.name} has no subnet`,
      'Docker would pick one from its own pool, which the field network does not use; give ipv4.subnet.',
    );
  if (n.mtu !== undefined) {
    const min = n.ipv6 ? 1280 : 68;
    if (n.mtu < min || n.mtu > 65535)
      out.error(
        [...p, 'mtu'],
        'MTU_RANGE',
        `MTU ${n.mtu} is out of range`,
        n.ipv6 ? 'With IPv6 the MTU is 1280-65535.' : 'The MTU is 68-65535; 1500 is usual.',
      );
  }
  const facts: NetFacts = { index: i, net: n, v4, v6 };
  const parent = n.driver === 'bridge' ? undefined : parentOf(n);
  if (parent !== undefined) facts.parent = parent;
  if (n.hostAccess && n.driver === 'macvlan') {
    const hp = [...p, 'hostAccess'];
    const a = parseAddress(n.hostAccess.address);
    const fam = a ? (a.family === 4 ? v4 : v6) : null;
    if (!a)
      out.error(
        [...hp, 'address'],
        'ADDRESS_INVALID',
        `the host access address "${n.hostAccess.address}" is not an IP address`,
        'Write it like 198.18.110.3.',
      );
    else if (!fam?.subnet)
      out.error(
        [...hp, 'address'],
        'HOST_ACCESS_NO_SUBNET',
        `host access needs an ${a.family === 4 ? 'ipv4' : 'ipv6'} subnet on ${n.name}`,
        `Add ${a.family === 4 ? 'ipv4' : 'ipv6'}.subnet.`,
      );
    else if (!contains(fam.subnet, a))
      out.error(
        [...hp, 'address'],
        'ADDRESS_OUTSIDE_SUBNET',
        `the host access address ${a.text} is outside ${fam.subnet.text}`,
        `Pick a free address inside ${fam.subnet.text}, outside the range.`,
      );
    else if (isReserved(fam.subnet, a) || fam.gateway?.value === a.value)
      out.error(
        [...hp, 'address'],
        'ADDRESS_RESERVED',
        `the host access address ${a.text} is the ${fam.gateway?.value === a.value ? 'gateway' : 'network or broadcast address'}`,
        'Pick a free host address.',
      );
    else facts.hostAccess = a;
    if (mode === 'passthru')
      out.error(
        hp,
        'HOST_ACCESS_PASSTHRU',
        'passthru mode allows one macvlan on the port, so no host access shim',
        'Use mode bridge for host access.',
      );
    const shim = n.hostAccess.interface ?? shimName(n.name);
    if (!IFNAME.test(shim))
      out.error(
        [...hp, 'interface'],
        'IFNAME_TOO_LONG',
        `"${shim}" is not a usable interface name`,
        'At most 15 characters without spaces, "/" or ":".',
      );
  }
  return facts;
}

function checkAttachment(
  out: Findings,
  a: PlanAttachment,
  i: number,
  nets: Map<string, NetFacts>,
  offline: boolean,
): void {
  const p: PathKey[] = ['attachments', i];
  if (!CONTAINER.test(a.container) || a.container.length > 128)
    out.error(
      [...p, 'container'],
      'CONTAINER_NAME_INVALID',
      `"${a.container}" is not a container name or id`,
      'Use the name `docker ps` shows.',
    );
  const nf = nets.get(a.network);
  if (!nf && offline && !PREDEFINED_NETWORKS.includes(a.network))
    out.warn(
      [...p, 'network'],
      'NETWORK_NOT_IN_PLAN',
      `${a.network} is not a network of this plan`,
      'It must already exist on the device; check with --device.',
    );
  (a.aliases ?? []).forEach((al, j) => {
    if (!ALIAS.test(al))
      out.error(
        [...p, 'aliases', j],
        'ALIAS_INVALID',
        `"${al}" is not a DNS name`,
        'Aliases are host names: letters, digits, "-" and dots.',
      );
  });
  for (const family of [4, 6] as const) {
    const key = famKey(family);
    const text = a[key];
    if (text === undefined) continue;
    const ap = [...p, key];
    const ad = parseAddress(text);
    if (!ad) {
      out.error(
        ap,
        'ADDRESS_INVALID',
        `"${text}" is not an ${family === 4 ? 'IPv4' : 'IPv6'} address`,
        family === 4 ? 'Write it like 198.18.110.20.' : 'Write it like fd00:110::20.',
      );
      continue;
    }
    if (ad.family !== family) {
      out.error(
        ap,
        'FAMILY_MISMATCH',
        `${text} is not an ${family === 4 ? 'IPv4' : 'IPv6'} address`,
        `Put it under ${famKey(ad.family)}.`,
      );
      continue;
    }
    if (PREDEFINED_NETWORKS.includes(a.network)) {
      out.error(
        ap,
        'STATIC_ADDRESS_PREDEFINED',
        `Docker gives static addresses only on user-defined networks, not on ${a.network}`,
        'Attach the container to a network of this plan instead.',
      );
      continue;
    }
    if (!nf) continue;
    const fam = family === 4 ? nf.v4 : nf.v6;
    const declared = family === 4 ? nf.net.ipv4 : nf.net.ipv6;
    if (!declared) {
      out.error(
        ap,
        'ATTACH_NO_SUBNET',
        `${a.network} has no ${key} subnet, so it takes no static ${key} address`,
        nf.index >= 0
          ? `Add ${key}.subnet to networks[${nf.index}].`
          : `${a.network} on the device has no ${key} subnet; attach without a static address.`,
      );
      continue;
    }
    if (!fam?.subnet) continue;
    if (!contains(fam.subnet, ad))
      out.error(
        ap,
        'ADDRESS_OUTSIDE_SUBNET',
        `${ad.text} is outside ${a.network}'s subnet ${fam.subnet.text}`,
        `Pick an address inside ${fam.subnet.text}.`,
      );
    else if (isReserved(fam.subnet, ad))
      out.error(
        ap,
        'ADDRESS_RESERVED',
        `${ad.text} is the ${ad.value === fam.subnet.first ? 'network' : 'broadcast'} address of ${fam.subnet.text}`,
        'Pick a host address.',
      );
    else if (fam.gateway?.value === ad.value)
      out.error(
        ap,
        'ADDRESS_IS_GATEWAY',
        `${ad.text} is ${a.network}'s gateway`,
        'Pick another address; the gateway belongs to the router.',
      );
    else if (nf.hostAccess?.value === ad.value)
      out.error(
        ap,
        'ADDRESS_CONFLICT',
        `${ad.text} is the device's own host access address on ${a.network}`,
        'Pick another address.',
      );
    else if (fam.exclude.some((e) => e.value === ad.value))
      out.error(
        ap,
        'ADDRESS_EXCLUDED',
        `${ad.text} is in ${a.network}'s exclude list`,
        'Excluded addresses belong to other hosts; pick another one.',
      );
    if (
      nf.hostAccess &&
      nf.hostAccess.family === family &&
      fam.range &&
      contains(fam.subnet, ad) &&
      !contains(fam.range, ad)
    )
      out.warn(
        ap,
        'HOST_ACCESS_UNREACHABLE',
        `${ad.text} is outside ${a.network}'s range ${fam.range.text}, which is all the host access shim routes`,
        `Pick an address inside ${fam.range.text} if the device itself must reach this container.`,
      );
  }
}

function staticChecks(out: Findings, draft: PlanDraft, facts: DeviceFacts | undefined): Map<string, NetFacts> {
  const offline = facts === undefined;
  const nets = new Map<string, NetFacts>();
  const byName = new Map<string, number>();
  draft.networks.forEach((n, i) => {
    if (!n) return;
    const facts = checkNetwork(out, n, i);
    const first = byName.get(n.name);
    if (first !== undefined) {
      out.error(
        ['networks', i, 'name'],
        'NAME_DUPLICATE',
        `${n.name} is already networks[${first}]`,
        'Network names must be unique.',
      );
      return;
    }
    byName.set(n.name, i);
    nets.set(n.name, facts);
  });
  // Subnets overlapping each other, and drivers sharing a parent in ways Docker or the kernel refuse.
  const list = [...nets.values()];
  for (let j = 0; j < list.length; j++) {
    const b = list[j];
    if (!b) continue;
    for (let i = 0; i < j; i++) {
      const a = list[i];
      if (!a) continue;
      for (const family of [4, 6] as const) {
        const sa = (family === 4 ? a.v4 : a.v6)?.subnet;
        const sb = (family === 4 ? b.v4 : b.v6)?.subnet;
        if (sa && sb && overlaps(sa, sb))
          out.error(
            ['networks', b.index, famKey(family), 'subnet'],
            'SUBNET_OVERLAP',
            `${sb.text} overlaps ${a.net.name}'s ${sa.text}`,
            'Each network needs its own subnet.',
          );
      }
      if (a.parent !== undefined && a.parent === b.parent) {
        const drivers = [a.net.driver, b.net.driver];
        if (drivers.includes('macvlan') && drivers.includes('ipvlan'))
          out.error(
            ['networks', b.index, 'port'],
            'PARENT_DRIVER_CONFLICT',
            `${b.parent} already carries ${a.net.name} (${a.net.driver}); the kernel cannot put macvlan and ipvlan on one parent`,
            'Use another port or a VLAN on it.',
          );
        else if (b.net.driver === 'ipvlan')
          out.error(
            ['networks', b.index, 'port'],
            'PARENT_IN_USE',
            `${b.parent} already carries the ipvlan network ${a.net.name}`,
            'Docker allows one ipvlan network per parent; use a VLAN (vlan: N) for a second one.',
          );
        else if ([a, b].some((x) => (x.net.mode ?? 'bridge') === 'passthru'))
          out.error(
            ['networks', b.index, 'mode'],
            'PASSTHRU_SHARED',
            `passthru takes the whole of ${b.parent}, which ${a.net.name} also uses`,
            'Use mode bridge, or another port.',
          );
      }
    }
  }
  const pairs = new Map<string, number>();
  const addresses = new Map<string, number>();
  const perNetwork = new Map<string, number>();
  draft.attachments.forEach((a, i) => {
    if (!a) return;
    checkAttachment(out, a, i, withExisting(nets, facts), offline);
    const key = `${a.container.replace(/^\//, '')}\u0000${a.network}`;
    const first = pairs.get(key);
    if (first !== undefined)
      out.error(
        ['attachments', i],
        'ATTACH_DUPLICATE',
        `${a.container} is already attached to ${a.network} by attachments[${first}]`,
        'Keep one attachment per container and network.',
      );
    else pairs.set(key, i);
    for (const family of [4, 6] as const) {
      const ad = a[famKey(family)] !== undefined ? parseAddress(a[famKey(family)] ?? '') : null;
      if (!ad) continue;
      const akey = `${a.network}\u0000${ad.text}`;
      const other = addresses.get(akey);
      if (other !== undefined)
        out.error(
          ['attachments', i, famKey(family)],
          'ADDRESS_DUPLICATE',
          `${ad.text} on ${a.network} is already given to attachments[${other}]`,
          'Static addresses must be unique on a network.',
        );
      else addresses.set(akey, i);
    }
    perNetwork.set(a.network, (perNetwork.get(a.network) ?? 0) + 1);
  });
  for (const [name, count] of perNetwork) {
    const nf = nets.get(name);
    if (nf && nf.net.driver === 'macvlan' && nf.net.mode === 'passthru' && count > 1)
      out.error(
        ['networks', nf.index, 'mode'],
        'PASSTHRU_SINGLE',
        `passthru gives the port to one container, and ${count} attach to ${name}`,
        'Use mode bridge for several containers.',
      );
  }
  return nets;
}

// ---- against the live device ----

// Discovery decides what is hardware (a lab's veth named eth1 is a port; a veth on docker0 is not); these never are.
const NEVER_PARENT = new Set(['docker-bridge', 'loopback', 'macvlan', 'ipvlan']);
const PARENT_KINDS = new Set(['vlan', 'bond', 'bridge']);

function portList(ports: Port[]): string {
  const hw = ports.filter((p) => p.isHardwarePort).map((p) => p.name);
  return hw.length ? `This device's ports: ${hw.join(', ')}.` : 'This device reports no hardware ports.';
}

function kernelFinding(out: Findings, facts: DeviceFacts, path: PathKey[], feature: KernelFeature, what: string): void {
  const s = facts.kernel.features[feature];
  const option = KERNEL_OPTION[feature];
  if (s === 'no')
    out.error(
      path,
      `KERNEL_NO_${feature.toUpperCase()}`,
      `the device's kernel ${facts.kernel.release} has no ${what} (${option} is not set, per ${facts.kernel.source})`,
      `Use a kernel built with ${option}, or a plan without ${what}.`,
    );
  else if (s === 'unknown')
    out.warn(
      path,
      'KERNEL_UNKNOWN',
      `cannot tell whether the device's kernel supports ${what}`,
      `The device shows no kernel config; if applying fails with "operation not supported", the kernel lacks ${option}.`,
    );
}

function routeBack(ports: Port[], client: Address): { via?: Address; dev: string } | undefined {
  let best: { prefix: number; via?: Address; dev: string } | undefined;
  for (const port of ports) {
    for (const r of port.routes) {
      const c = parseCidr(r.dst);
      if (!c || !contains(c, client) || (best && best.prefix >= c.prefix)) continue;
      const via = r.via ? parseAddress(r.via) : null;
      best = { prefix: c.prefix, dev: port.name, ...(via ? { via } : {}) };
    }
    for (const a of port.addresses) {
      const c = parseCidr(`${a.address}/${a.prefix}`);
      if (c && contains(c, client) && (!best || best.prefix < c.prefix)) best = { prefix: c.prefix, dev: port.name };
    }
  }
  return best;
}

function engineMajor(version: string): number {
  const m = /^(\d+)\./.exec(version);
  return m ? Number(m[1]) : 0;
}

function liveChecks(out: Findings, draft: PlanDraft, nets: Map<string, NetFacts>, facts: DeviceFacts): void {
  const ports = new Map(facts.ports.map((p) => [p.name, p]));
  const existing = new Map(facts.docker.networks.map((n) => [n.name, n]));
  const client = facts.sshClient ? parseAddress(facts.sshClient) : null;
  const back = client ? routeBack(facts.ports, client) : undefined;
  const planned = new Set(nets.keys());
  // Networks that will not be there after apply: replaced by the plan, or pruned.
  const goes = (info: NetworkInfo): boolean => planned.has(info.name) || (draft.prune === true && isOwned(info));

  for (const nf of nets.values()) {
    const n = nf.net;
    const p: PathKey[] = ['networks', nf.index];
    const current = existing.get(n.name);
    if (current) {
      const changes = specChanges(specFromDocker(current), specFromPlan(n));
      if (changes.length) {
        const who = isOwned(current) ? '' : ' It was not created by Portwright.';
        const users = current.endpoints.length ? ` Its ${current.endpoints.length} container(s) are reconnected.` : '';
        out.notice(
          p,
          'NETWORK_CHANGE',
          `${n.name} exists and will be replaced: ${changes.join('; ')}.${who}${users}`,
          'Review with plan diff before applying.',
        );
      }
    }
    if (n.driver !== 'bridge' && n.port !== undefined) {
      const port = ports.get(n.port);
      const pp = [...p, 'port'];
      if (!port) {
        out.error(pp, 'PORT_NOT_FOUND', `the device has no port ${n.port}`, portList(facts.ports));
      } else {
        if (NEVER_PARENT.has(port.kind) || (!port.isHardwarePort && !PARENT_KINDS.has(port.kind)))
          out.error(
            pp,
            'PORT_NOT_HARDWARE',
            `${n.port} is a ${port.kind} interface, not a hardware port`,
            portList(facts.ports),
          );
        else if (port.master)
          out.error(
            pp,
            'PORT_ENSLAVED',
            `${n.port} is a member of ${port.master}`,
            `Use ${port.master} as the port, or take ${n.port} out of ${port.master} first.`,
          );
        if (port.operState === 'down' || port.operState === 'notpresent')
          out.error(
            pp,
            'PORT_DOWN',
            `${n.port} is down`,
            `Bring it up first (ip link set ${n.port} up) and check the cable.`,
          );
        else if (port.carrier === false)
          out.warn(
            pp,
            'PORT_NO_CARRIER',
            `${n.port} has no carrier (no cable or no link partner)`,
            'The network can be created, but containers will not be reachable until the link is up.',
          );
        if (n.driver === 'macvlan' && port.kind === 'wireless')
          out.error(
            pp,
            'PORT_WIRELESS',
            `${n.port} is wireless; access points drop frames from the extra MACs macvlan uses`,
            'Use ipvlan with mode l2: one MAC, many IPs.',
          );
        if (n.mtu !== undefined && n.mtu > port.mtu)
          out.error(
            [...p, 'mtu'],
            'MTU_ABOVE_PORT',
            `MTU ${n.mtu} is above ${n.port}'s ${port.mtu}`,
            `Use at most ${port.mtu}, or raise ${n.port}'s MTU first.`,
          );
        if (port.management && n.driver === 'macvlan' && n.mode === 'passthru')
          out.error(
            [...p, 'mode'],
            'MANAGEMENT_LOCKOUT',
            `passthru would take ${n.port}, which carries this SSH session, away from the device`,
            'Use mode bridge, or another port.',
          );
        if (
          n.vlan !== undefined &&
          ports.has(`${n.port}.${n.vlan}`) &&
          !facts.docker.networks.some((x) => x.options.parent === `${n.port}.${n.vlan}`)
        )
          out.notice(
            [...p, 'vlan'],
            'VLAN_EXISTS',
            `${n.port}.${n.vlan} already exists on the device; Docker uses it as it is`,
            'Docker will not remove it with the network, since it did not create it.',
          );
      }
      kernelFinding(out, facts, [...p, 'driver'], n.driver, n.driver);
      if (n.vlan !== undefined) kernelFinding(out, facts, [...p, 'vlan'], 'vlan', '802.1Q VLAN support');
      // Parent sharing with networks already on the device.
      for (const other of facts.docker.networks) {
        if (goes(other) || other.options.parent !== nf.parent) continue;
        if (other.driver !== n.driver && [other.driver, n.driver].every((d) => d === 'macvlan' || d === 'ipvlan'))
          out.error(
            pp,
            'PARENT_DRIVER_CONFLICT',
            `${nf.parent ?? ''} already carries the ${other.driver} network ${other.name}; the kernel cannot put macvlan and ipvlan on one parent`,
            'Use another port or a VLAN.',
          );
        else if (other.driver === n.driver && (n.driver === 'ipvlan' || engineMajor(facts.docker.engine.version) < 27))
          out.error(
            pp,
            'PARENT_IN_USE',
            `${nf.parent ?? ''} already carries the ${other.driver} network ${other.name}`,
            `Docker ${facts.docker.engine.version} allows one ${n.driver} network per parent; use a VLAN (vlan: N) or remove ${other.name}.`,
          );
      }
    }
    if (n.hostAccess && n.driver === 'macvlan') {
      const shim = n.hostAccess.interface ?? shimName(n.name);
      const ours = current?.labels[HOST_ACCESS_LABEL]?.split(' ')[0] === shim;
      if (ports.has(shim) && !ours)
        out.error(
          [...p, 'hostAccess', 'interface'],
          'SHIM_NAME_TAKEN',
          `the device already has an interface ${shim}`,
          'Name the shim yourself: hostAccess.interface, at most 15 characters.',
        );
    }
    for (const family of [4, 6] as const) {
      const fam = family === 4 ? nf.v4 : nf.v6;
      const sub = fam?.subnet;
      if (!sub) continue;
      const sp = [...p, famKey(family), 'subnet'];
      if (client && contains(sub, client)) {
        out.error(
          sp,
          'MANAGEMENT_LOCKOUT',
          `${sub.text} contains ${client.text}, the address this SSH session comes from: applying it would lock us out`,
          'Pick a subnet the management network does not use.',
        );
        continue;
      }
      if (back?.via && contains(sub, back.via)) {
        out.error(
          sp,
          'MANAGEMENT_LOCKOUT',
          `${sub.text} contains ${back.via.text}, the gateway this SSH session returns through: applying it would lock us out`,
          'Pick a subnet the management network does not use.',
        );
        continue;
      }
      for (const other of facts.docker.networks) {
        if (goes(other)) continue;
        const hit = other.ipam.config
          .map((c) => (c.subnet ? parseCidr(c.subnet) : null))
          .find((c) => c && overlaps(c, sub));
        if (hit)
          out.error(
            sp,
            'SUBNET_OVERLAP_DOCKER',
            `${sub.text} overlaps the Docker network ${other.name} (${hit.text})`,
            'Pick a free subnet, or remove that network first.',
          );
      }
      for (const port of facts.ports) {
        // Docker's own bridges and shims are covered by the Docker networks above.
        if (
          port.kind === 'docker-bridge' ||
          port.kind === 'veth' ||
          port.name === nf.net.hostAccess?.interface ||
          port.name === shimName(n.name)
        )
          continue;
        const sameLan = n.driver !== 'bridge' && port.name === nf.parent;
        for (const a of port.addresses) {
          if (a.family !== family || a.scope === 'link' || a.scope === 'host') continue;
          const own = parseCidr(`${a.address}/${a.prefix}`);
          const addr = parseAddress(a.address);
          if (!own || !addr || !overlaps(own, sub)) continue;
          if (sameLan && contains(sub, addr)) {
            // Containers on the parent's own LAN: fine, as long as Docker never hands out the device's address.
            const pool = fam.range ?? sub;
            if (contains(pool, addr) && !fam.exclude.some((e) => e.value === addr.value))
              out.error(
                sp,
                'DEVICE_ADDRESS_IN_POOL',
                `Docker could give ${addr.text}, ${port.name}'s own address, to a container`,
                `Add ${addr.text} to ${famKey(family)}.exclude, or set a range that leaves it out.`,
              );
            if (fam.gateway?.value === addr.value)
              out.warn(
                [...p, famKey(family), 'gateway'],
                'GATEWAY_IS_DEVICE',
                `the gateway ${addr.text} is the device itself; the kernel keeps macvlan/ipvlan containers from reaching their parent's address`,
                n.driver === 'macvlan'
                  ? 'Use the field router as gateway, and hostAccess for device ↔ container traffic.'
                  : 'Use the field router as gateway.',
              );
          } else if (!sameLan) {
            out.error(
              sp,
              'SUBNET_OVERLAP_DEVICE',
              `${sub.text} overlaps ${a.address}/${a.prefix} on ${port.name}`,
              'The device would have two routes for the same addresses; pick a free subnet.',
            );
          }
        }
        for (const r of port.routes) {
          const rc = parseCidr(r.dst);
          if (!rc || rc.family !== family || rc.prefix === 0 || !r.via || !overlaps(rc, sub)) continue;
          if (rc.prefix < sub.prefix) {
            // A broader route (a whole site via the management gateway) only matters where the device
            // itself gets a route into the subnet: a bridge, or a host access shim.
            if (n.driver === 'bridge' || n.hostAccess)
              out.warn(
                sp,
                'ROUTE_COVERS_SUBNET',
                `the device routes ${rc.text} via ${r.via}; once ${sub.text} is local, hosts in it behind that gateway are out of the device's reach`,
                'Fine if nothing in this subnet lives behind that gateway; else pick another subnet.',
              );
            continue;
          }
          out.error(
            sp,
            'SUBNET_OVERLAP_ROUTE',
            `${sub.text} overlaps the device's route to ${rc.text} via ${r.via}`,
            'Pick a subnet the device does not route elsewhere.',
          );
        }
      }
    }
  }
  // Containers.
  const containers = new Map<string, DeviceFacts['docker']['containers'][number]>();
  for (const c of facts.docker.containers) {
    containers.set(c.name, c);
    containers.set(c.id, c);
  }
  const findContainer = (ref: string) =>
    containers.get(ref.replace(/^\//, '')) ??
    facts.docker.containers.find((c) => ref.length >= 12 && c.id.startsWith(ref));
  draft.attachments.forEach((a, i) => {
    if (!a) return;
    const p: PathKey[] = ['attachments', i];
    const c = findContainer(a.container);
    if (!c) {
      const names = facts.docker.containers.map((x) => x.name).slice(0, 8);
      out.error(
        [...p, 'container'],
        'CONTAINER_NOT_FOUND',
        `the device has no container ${a.container}`,
        names.length ? `Containers here: ${names.join(', ')}.` : 'The device has no containers yet; create it first.',
      );
    } else if (c.networkMode === 'host' || c.networkMode === 'none' || c.networkMode.startsWith('container:'))
      out.error(
        [...p, 'container'],
        'CONTAINER_NETWORK_MODE',
        `${c.name} runs with network mode ${c.networkMode} and cannot join other networks`,
        'Recreate it on a bridge or user-defined network.',
      );
    if (!nets.has(a.network) && !existing.has(a.network)) {
      out.error(
        [...p, 'network'],
        'NETWORK_NOT_FOUND',
        `${a.network} is neither in this plan nor on the device`,
        `Add it under networks, or use one of: ${[...existing.keys()].slice(0, 8).join(', ')}.`,
      );
      return;
    }
    // A static address another container already holds on a network that stays, unless the plan moves it.
    const cur = existing.get(a.network);
    const planned = nets.get(a.network);
    const stays = cur && (!planned || specChanges(specFromDocker(cur), specFromPlan(planned.net)).length === 0);
    if (!cur || !stays) return;
    for (const family of [4, 6] as const) {
      const key = famKey(family);
      const want = a[key] !== undefined ? parseAddress(a[key]) : null;
      if (!want) continue;
      const holder = cur.endpoints.find((e) => {
        const have = family === 4 ? e.ipv4 : e.ipv6;
        if (!have || e.containerName === c?.name) return false;
        if (parseAddress(have.split('/')[0] ?? '')?.value !== want.value) return false;
        const moved = draft.attachments.find(
          (x) => x && x.network === a.network && findContainer(x.container)?.name === e.containerName,
        );
        return !moved?.[key] || parseAddress(moved[key])?.value === want.value;
      });
      if (holder)
        out.error(
          [...p, key],
          'ADDRESS_IN_USE',
          `${want.text} on ${a.network} is held by ${holder.containerName}`,
          'Pick a free address, or detach that container first.',
        );
    }
  });
}

/** Attachments may name networks already on the device: their addressing is checked the same way. */
function withExisting(nets: Map<string, NetFacts>, facts: DeviceFacts | undefined): Map<string, NetFacts> {
  if (!facts) return nets;
  const all = new Map(nets);
  for (const info of facts.docker.networks) {
    if (
      all.has(info.name) ||
      !['bridge', 'macvlan', 'ipvlan'].includes(info.driver) ||
      PREDEFINED_NETWORKS.includes(info.name)
    )
      continue;
    // Its problems are the device's, not the plan's: checked into a scratch list.
    all.set(info.name, { ...checkNetwork(new Findings(), networkToPlan(info), -1), index: -1 });
  }
  return all;
}

/** Every finding for a plan; with device facts, also the checks against the live device. */
export function checkPlan(draft: PlanDraft, facts?: DeviceFacts): Finding[] {
  const out = new Findings();
  const nets = staticChecks(out, draft, facts);
  if (facts) liveChecks(out, draft, nets, facts);
  return out.list;
}

/** Parse and check plan text in one go, every finding placed at its line. */
export function checkPlanText(text: string, facts?: DeviceFacts): { plan?: Plan; findings: Finding[] } {
  const parsed = parsePlanText(text);
  if (!parsed.draft) return { findings: parsed.findings };
  const findings = [...parsed.findings, ...withPositions(checkPlan(parsed.draft, facts), parsed.locate)];
  return { ...(parsed.plan ? { plan: parsed.plan } : {}), findings };
}
