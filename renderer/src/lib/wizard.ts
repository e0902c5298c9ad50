// The network wizard's logic, kept out of the component: suggestions from a port's current address,
// the plan the answers make, and the checker's findings placed at the fields they are about.
import ipaddr from 'ipaddr.js';
import type { Finding } from '../../../electron/core/plan/types';
import type { Plan } from '../../../electron/core/plan/schema';
import type { Port } from '../../../electron/core/ports/types';

export type WizardDriver = 'bridge' | 'macvlan' | 'ipvlan';

export interface WizardAttachment {
  container: string;
  ipv4: string;
}

export interface WizardState {
  driver: WizardDriver;
  name: string;
  port: string;
  vlan: number | null;
  mode: string;
  subnet: string;
  gateway: string;
  range: string;
  exclude: string;
  ipv6Subnet: string;
  ipv6Gateway: string;
  mtu: number | null;
  hostAccess: string;
  attachments: WizardAttachment[];
}

export const DRIVER_GUIDE: Record<WizardDriver, string> = {
  macvlan: 'Containers appear as their own devices on the field network, each with its own MAC address.',
  ipvlan: 'One MAC, many IPs: for wireless ports and switches that allow one MAC per port.',
  bridge: 'A network inside the device: containers reach each other, the outside through published ports.',
};

export function emptyState(driver: WizardDriver, port = ''): WizardState {
  return {
    driver,
    name: '',
    port,
    vlan: null,
    mode: driver === 'ipvlan' ? 'l2' : driver === 'macvlan' ? 'bridge' : '',
    subnet: '',
    gateway: '',
    range: '',
    exclude: '',
    ipv6Subnet: '',
    ipv6Gateway: '',
    mtu: null,
    hostAccess: '',
    attachments: [],
  };
}

/**
 * From the port's own IPv4 address (e.g. 192.0.2.10/24): the field LAN's subnet, its first address
 * as the gateway, the upper half as Docker's range, and the device's own address kept out of it.
 */
export function suggestFromPort(port: Port | undefined): Partial<WizardState> {
  const a = port?.addresses.find((x) => x.family === 4 && x.scope !== 'link');
  if (!a || a.prefix > 29) return {};
  const [net] = ipaddr.IPv4.parseCIDR(`${a.address}/${a.prefix}`);
  const base = ipaddr.IPv4.networkAddressFromCIDR(`${net.toString()}/${a.prefix}`).toByteArray();
  const toInt = (b: number[]): number => b.reduce((n, x) => n * 256 + x, 0);
  const fromInt = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
  const first = toInt(base);
  const size = 2 ** (32 - a.prefix);
  const gateway = fromInt(first + 1) === a.address ? fromInt(first + size - 2) : fromInt(first + 1);
  return {
    subnet: `${fromInt(first)}/${a.prefix}`,
    gateway,
    range: `${fromInt(first + size / 2)}/${a.prefix + 1}`,
    exclude: a.address,
  };
}

const list = (s: string): string[] =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** The plan the wizard's answers make: one network and its attachments. */
export function planOf(s: WizardState): Plan {
  const net: Plan['networks'][number] = { name: s.name.trim(), driver: s.driver };
  if (s.driver !== 'bridge') {
    net.port = s.port;
    if (s.vlan !== null) net.vlan = s.vlan;
    if (s.mode) net.mode = s.mode;
  }
  if (s.subnet.trim()) {
    net.ipv4 = { subnet: s.subnet.trim() };
    if (s.gateway.trim()) net.ipv4.gateway = s.gateway.trim();
    if (s.range.trim()) net.ipv4.range = s.range.trim();
    if (list(s.exclude).length) net.ipv4.exclude = list(s.exclude);
  }
  if (s.ipv6Subnet.trim()) {
    net.ipv6 = { subnet: s.ipv6Subnet.trim() };
    if (s.ipv6Gateway.trim()) net.ipv6.gateway = s.ipv6Gateway.trim();
  }
  if (s.mtu !== null) net.mtu = s.mtu;
  if (s.driver === 'macvlan' && s.hostAccess.trim()) net.hostAccess = { address: s.hostAccess.trim() };
  return {
    version: 1,
    name: s.name.trim() || 'wizard',
    networks: [net],
    attachments: s.attachments
      .filter((a) => a.container)
      .map((a) => ({ container: a.container, network: net.name, ...(a.ipv4.trim() ? { ipv4: a.ipv4.trim() } : {}) })),
  };
}

/** Which wizard field a finding's path is about. */
export function fieldOf(path: string): string {
  const m = /^networks\[0\]\.?(.*)$/.exec(path);
  if (m) {
    const rest = m[1] ?? '';
    if (rest === '' || rest === 'driver') return rest === 'driver' ? 'driver' : 'name';
    if (rest.startsWith('ipv4.exclude')) return 'exclude';
    if (rest.startsWith('ipv4.')) return rest.slice(5);
    if (rest === 'ipv6.gateway') return 'ipv6Gateway';
    if (rest.startsWith('ipv6')) return 'ipv6Subnet';
    if (rest.startsWith('hostAccess')) return 'hostAccess';
    return rest;
  }
  const a = /^attachments\[(\d+)\]\.?(.*)$/.exec(path);
  if (a) return `attachments.${a[1] ?? '0'}.${a[2] === 'ipv4' ? 'ipv4' : 'container'}`;
  return 'plan';
}

/** Findings keyed by wizard field; errors before warnings. */
export function byField(findings: Finding[]): Record<string, Finding[]> {
  const out: Record<string, Finding[]> = {};
  const rank = { error: 0, warning: 1, notice: 2 };
  for (const f of [...findings].sort((x, y) => rank[x.severity] - rank[y.severity])) {
    const k = fieldOf(f.path);
    (out[k] ??= []).push(f);
  }
  return out;
}

function cidrRange(cidr: string): [number, number] | undefined {
  try {
    const [addr, prefix] = ipaddr.parseCIDR(cidr);
    if (addr.kind() !== 'ipv4') return undefined;
    const start = (addr as ipaddr.IPv4).toByteArray().reduce((n, x) => n * 256 + x, 0);
    const size = 2 ** (32 - prefix);
    const first = start - (start % size);
    return [first, first + size - 1];
  } catch {
    return undefined;
  }
}

/**
 * The first /prefix block of `pool` that overlaps none of `taken` (Docker networks' subnets, the
 * device's addresses and routes): a starting point for a bridge network, checked like any other.
 */
export function suggestFreeSubnet(taken: string[], pool = '172.30.0.0/16', prefix = 24): string | undefined {
  const range = cidrRange(pool);
  if (!range) return undefined;
  const used = taken.map(cidrRange).filter((r): r is [number, number] => r !== undefined);
  const size = 2 ** (32 - prefix);
  for (let first = range[0]; first + size - 1 <= range[1]; first += size) {
    const last = first + size - 1;
    if (!used.some(([a, b]) => a <= last && first <= b))
      return `${[24, 16, 8, 0].map((s) => Math.floor(first / 2 ** s) % 256).join('.')}/${prefix}`;
  }
  return undefined;
}
