// Hardware port discovery: one POSIX sh script run over SSH exec, and a pure parser of what it prints.
import type { OperState, Port, PortAddress, PortBus, PortKind, PortRoute } from './types.js';

/**
 * Runs under busybox ash and dash: sysfs is read with shell builtins only (`read`, and `cd -P` then
 * $PWD to resolve links, without a subshell: forks are slow on small CPUs) because minimal devices
 * may lack readlink -f, and `ip` may live in sbin, outside a non-root user's PATH. Output, line by
 * line:
 *
 *   @@iface NAME            one block per /sys/class/net entry, followed by KEY=VALUE lines:
 *     address= operstate= carrier= speed= duplex= mtu= type= ifindex= iflink=   (empty if unreadable)
 *     devpath=/sys/devices/…  driver=NAME  wireless=1  master=NAME  bridge=1  bonding=1  tun=1
 *     lower=NAME (one per lower_* link)  devtype=DEVTYPE from uevent           (only when present)
 *   @@vlan                  /proc/net/vlan/config (needs root; often empty)
 *   @@addr                  `ip addr show`
 *   @@link                  `ip -d link show` (iproute2 only; busybox prints nothing here)
 *   @@route4 / @@route6     `ip route show` / `ip -6 route show`
 *   @@ssh                   $SSH_CONNECTION: client_ip client_port server_ip server_port
 *   @@end
 *
 * The output is gathered and printed at once: one write instead of hundreds of tiny ones, each of
 * which sshd would send as its own TCP segment, using up a slow link's congestion window.
 */
export const PORTS_SCRIPT = `PATH="$PATH:/sbin:/usr/sbin"
ports() {
a() { v=; { read -r v <"$d/$1"; } 2>/dev/null; echo "$1=$v"; }
for d in /sys/class/net/*; do
  [ -d "$d" ] || continue
  echo "@@iface \${d##*/}"
  for f in address operstate carrier speed duplex mtu type ifindex iflink; do a "$f"; done
  if [ -e "$d/device" ]; then
    if cd -P "$d/device" 2>/dev/null; then echo "devpath=$PWD"; fi
    if cd -P "$d/device/driver" 2>/dev/null; then echo "driver=\${PWD##*/}"; fi
  fi
  if [ -e "$d/wireless" ] || [ -e "$d/phy80211" ]; then echo wireless=1; fi
  if cd -P "$d/master" 2>/dev/null; then echo "master=\${PWD##*/}"; fi
  if [ -d "$d/bridge" ]; then echo bridge=1; fi
  if [ -d "$d/bonding" ]; then echo bonding=1; fi
  if [ -e "$d/tun_flags" ]; then echo tun=1; fi
  for l in "$d"/lower_*; do if [ -e "$l" ]; then echo "lower=\${l##*/lower_}"; fi; done
  if [ -r "$d/uevent" ]; then
    while IFS= read -r l; do case $l in DEVTYPE=*) echo "devtype=\${l#DEVTYPE=}" ;; esac; done <"$d/uevent"
  fi
done
echo @@vlan
cat /proc/net/vlan/config 2>/dev/null
echo @@addr
ip addr show 2>/dev/null
echo @@link
ip -d link show 2>/dev/null
echo @@route4
ip route show 2>/dev/null
echo @@route6
ip -6 route show 2>/dev/null
echo @@ssh
echo "$SSH_CONNECTION"
echo @@end
}
out=$(ports)
printf '%s\\n' "$out"
`;

/** One /sys/class/net block as the script printed it. */
export interface SysRecord {
  name: string;
  attrs: Map<string, string>;
  lowers: string[];
}

export interface Sections {
  sys: SysRecord[];
  vlan: string[];
  addr: string[];
  link: string[];
  route4: string[];
  route6: string[];
  ssh: string[];
}

export function splitSections(output: string): Sections {
  const s: Sections = { sys: [], vlan: [], addr: [], link: [], route4: [], route6: [], ssh: [] };
  let lines: string[] | null = null;
  let rec: SysRecord | null = null;
  for (const line of output.split(/\r?\n/)) {
    if (line.startsWith('@@')) {
      const [marker = '', name = ''] = line.slice(2).split(' ');
      rec = null;
      lines = null;
      if (marker === 'iface') {
        rec = { name, attrs: new Map(), lowers: [] };
        s.sys.push(rec);
      } else if (marker !== 'end' && marker !== 'sys' && marker in s) {
        lines = s[marker as Exclude<keyof Sections, 'sys'>];
      }
    } else if (rec) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const key = line.slice(0, eq);
      const value = line.slice(eq + 1).trim();
      if (key === 'lower') rec.lowers.push(value);
      else rec.attrs.set(key, value);
    } else if (lines) {
      lines.push(line);
    }
  }
  return s;
}

/** `eth0.100 | 100 | eth0` lines of /proc/net/vlan/config. */
export function parseVlanConfig(lines: string[]): Map<string, { id: number; parent: string }> {
  const vlans = new Map<string, { id: number; parent: string }>();
  for (const line of lines) {
    const parts = line.split('|').map((p) => p.trim());
    const [name, id, parent] = parts;
    if (parts.length === 3 && name && parent && id && /^\d+$/.test(id)) vlans.set(name, { id: Number(id), parent });
  }
  return vlans;
}

/** `2: eth0.100@eth0: <…>` → `eth0.100`; the part after @ is the lower (or `ifN` in another namespace). */
function linkHeader(line: string): string | null {
  const m = /^\d+:\s+([^:@\s]+)(?:@[^:\s]+)?:/.exec(line);
  return m?.[1] ?? null;
}

/** Addresses per interface from `ip addr show` (iproute2 and busybox print the same shape). */
export function parseAddresses(lines: string[]): Map<string, PortAddress[]> {
  const byName = new Map<string, PortAddress[]>();
  let current: PortAddress[] | null = null;
  for (const line of lines) {
    const name = linkHeader(line);
    if (name) {
      current = [];
      byName.set(name, current);
      continue;
    }
    const m = /^\s+inet(6?)\s+(\S+)/.exec(line);
    if (!m || !current) continue;
    const family = m[1] ? 6 : 4;
    // A point-to-point address prints as `inet A peer B/32`: the prefix then belongs to the peer.
    const [address = '', prefix] = (m[2] ?? '').split('/');
    const scope = /\sscope\s+(\S+)/.exec(line)?.[1];
    current.push({
      family,
      address,
      prefix: prefix ? Number(prefix) : family === 4 ? 32 : 128,
      ...(scope ? { scope } : {}),
    });
  }
  return byName;
}

/** Link kinds `ip -d link` prints as the first word of a detail line; bond_slave etc. are not kinds. */
const LINK_KINDS = new Set([
  'veth',
  'vlan',
  'macvlan',
  'macvtap',
  'ipvlan',
  'ipvtap',
  'bridge',
  'bond',
  'tun',
  'vxlan',
  'geneve',
  'wireguard',
  'gre',
  'gretap',
  'ip6gre',
  'ip6gretap',
  'ipip',
  'sit',
  'ip6tnl',
  'vti',
  'dummy',
  'ifb',
  'dsa',
]);

/** The linkinfo kind per interface from iproute2's `ip -d link show`; sysfs cannot tell a veth apart. */
export function parseLinkKinds(lines: string[]): Map<string, string> {
  const kinds = new Map<string, string>();
  let name: string | null = null;
  for (const line of lines) {
    const header = linkHeader(line);
    if (header) {
      name = header;
      continue;
    }
    const word = /^\s+(\S+)/.exec(line)?.[1];
    if (name && word && LINK_KINDS.has(word) && !kinds.has(name)) kinds.set(name, word);
  }
  return kinds;
}

/** Route types `ip route` may print before the destination; only unicast routes say where traffic goes. */
const ROUTE_TYPES = new Set(['unicast', 'local', 'broadcast', 'multicast', 'anycast', 'unreachable', 'blackhole']);
const NON_UNICAST = new Set([...ROUTE_TYPES, 'prohibit', 'throw', 'nat'].filter((t) => t !== 'unicast'));

function normalizeDst(dst: string, family: 4 | 6): string {
  if (dst === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  return dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
}

function field(words: string[], key: string): string | undefined {
  const i = words.indexOf(key);
  return i >= 0 ? words[i + 1] : undefined;
}

/** Routes per device. Multipath routes (`nexthop via … dev …` lines) give each device its own entry. */
export function parseRoutes(lines: string[], family: 4 | 6): Map<string, PortRoute[]> {
  const byDev = new Map<string, PortRoute[]>();
  const add = (dev: string | undefined, dst: string, via: string | undefined): void => {
    if (!dev) return;
    const list = byDev.get(dev) ?? [];
    list.push({ dst: normalizeDst(dst, family), family, ...(via ? { via } : {}) });
    byDev.set(dev, list);
  };
  let lastDst: string | null = null;
  for (const line of lines) {
    const words = line.trim().split(/\s+/);
    if (words[0] === '') continue;
    if (/^\s/.test(line)) {
      if (words[0] === 'nexthop' && lastDst) add(field(words, 'dev'), lastDst, field(words, 'via'));
      continue;
    }
    const type = words[0] && ROUTE_TYPES.has(words[0]) ? words.shift() : undefined;
    const dst = words[0];
    lastDst = null;
    if (!dst || (type && NON_UNICAST.has(type))) continue;
    lastDst = dst;
    add(field(words, 'dev'), dst, field(words, 'via'));
  }
  return byDev;
}

/** The server address of `client_ip client_port server_ip server_port`, without a v4-mapped prefix or zone. */
export function parseSshServerIp(lines: string[]): string | null {
  const words = (lines.find((l) => l.trim() !== '') ?? '').trim().split(/\s+/);
  const ip = words.length === 4 ? words[2] : undefined;
  return ip
    ? ip
        .replace(/^::ffff:(?=\d+\.)/i, '')
        .replace(/%.*$/, '')
        .toLowerCase()
    : null;
}

/**
 * Bus from the resolved device path. USB and SDIO are tested before PCI and platform because their
 * controllers themselves sit on a PCI or platform bus (`/pci0000:00/…/usb1/1-1/…`). No device link
 * means the kernel made the interface: virtual.
 */
export function busOf(devpath: string | undefined): PortBus {
  if (!devpath || devpath.includes('/virtual/')) return 'virtual';
  if (devpath.includes('/usb')) return 'usb';
  if (devpath.includes('/mmc') || devpath.includes('sdio')) return 'sdio';
  if (devpath.includes('/pci')) return 'pci';
  if (devpath.includes('/platform/')) return 'platform';
  return 'unknown';
}

/** ARPHRD types of tunnels (ipip, ip6tnl, sit, gre, ip6gre) and of tun/wireguard (NONE). */
const TUNNEL_TYPES = new Set(['768', '769', '776', '778', '823', '65534']);
const TUNNEL_KINDS = new Set(['tun', 'vxlan', 'geneve', 'wireguard', 'gre', 'gretap', 'ip6gre', 'ip6gretap']);
const DOCKER_BRIDGE = /^(docker0|br-[0-9a-f]{12})$/;

/**
 * Kind, from the most to the least certain evidence: uevent DEVTYPE and the bridge/bonding dirs the
 * kernel creates, then iproute2's link kind, then shape. A macvlan and an ipvlan look alike in sysfs
 * (a lower_* link, no device) but an ipvlan always shares its lower's MAC. A veth has no sysfs marker
 * at all: without `ip -d` it is an interface with no device whose iflink names another interface
 * (its peer); a peer in another namespace can have the same ifindex, which only `ip -d` resolves.
 */
export function kindOf(rec: SysRecord, linkKind: string | undefined, isVlan: boolean, lowerMac?: string): PortKind {
  const a = rec.attrs;
  const devtype = a.get('devtype');
  if (a.get('type') === '772' || rec.name === 'lo') return 'loopback';
  if (isVlan || devtype === 'vlan' || linkKind === 'vlan') return 'vlan';
  if (a.has('bridge') || devtype === 'bridge' || linkKind === 'bridge') {
    return DOCKER_BRIDGE.test(rec.name) ? 'docker-bridge' : 'bridge';
  }
  if (a.has('bonding') || devtype === 'bond' || linkKind === 'bond') return 'bond';
  if (devtype === 'macvlan' || linkKind === 'macvlan' || linkKind === 'macvtap') return 'macvlan';
  if (devtype === 'ipvlan' || linkKind === 'ipvlan' || linkKind === 'ipvtap') return 'ipvlan';
  if (a.has('wireless') || devtype === 'wlan') return 'wireless';
  if (a.has('tun') || TUNNEL_TYPES.has(a.get('type') ?? '') || TUNNEL_KINDS.has(linkKind ?? '')) return 'tunnel';
  if (linkKind === 'veth') return 'veth';
  if (a.has('devpath') && a.get('type') === '1' && devtype !== 'wwan') return 'ethernet';
  if (rec.lowers.length > 0 && !a.has('devpath')) {
    return lowerMac && lowerMac === a.get('address') ? 'ipvlan' : 'macvlan';
  }
  const iflink = a.get('iflink');
  if (!linkKind && !a.has('devpath') && a.get('type') === '1' && iflink && iflink !== a.get('ifindex')) return 'veth';
  return 'other';
}

/**
 * Ethernet, wireless, bonds and VLANs are what a field network hangs off. A veth enslaved to a bridge
 * is a container's link; a free veth is how simulated devices and some virtual appliances wire their
 * ports, so it counts as a wired port.
 */
function isHardware(kind: PortKind, master: string | undefined): boolean {
  if (kind === 'veth') return master === undefined;
  return kind === 'ethernet' || kind === 'wireless' || kind === 'bond' || kind === 'vlan';
}

const OPER_STATES = new Set<string>(['up', 'down', 'unknown', 'dormant', 'lowerlayerdown', 'notpresent', 'testing']);

function operStateOf(value: string | undefined): OperState {
  return value && OPER_STATES.has(value) ? (value as OperState) : 'unknown';
}

/** Reading carrier fails (EINVAL) while the interface is administratively down: no link then. */
function carrierOf(value: string | undefined, oper: OperState): boolean | null {
  if (value === '1') return true;
  if (value === '0') return false;
  return oper === 'down' ? false : null;
}

/** Unknown speed reads as -1, or as 65535/4294967295 on older kernels, or fails to read. */
function speedOf(value: string | undefined): number | null {
  const n = Number(value);
  return value && Number.isInteger(n) && n > 0 && n < 65535 ? n : null;
}

/** `eth0.100` → 100, `vlan100` → 100: the id when neither /proc nor `ip -d` could say. */
function vlanIdFromName(name: string): number | null {
  const m = /(?:\.|^vlan)(\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** Natural order, so eth2 sorts before eth10. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Marks the port holding the SSH server address and every port beneath it (slaves, VLAN parent, lower). */
function markManagement(ports: Port[], serverIp: string | null): void {
  if (!serverIp) return;
  const byName = new Map(ports.map((p) => [p.name, p]));
  const holder = ports.find((p) => p.addresses.some((a) => a.address.toLowerCase() === serverIp));
  const queue = holder ? [holder] : [];
  for (let port = queue.shift(); port; port = queue.shift()) {
    if (port.management) continue;
    port.management = true;
    const name = port.name;
    queue.push(...ports.filter((p) => p.master === name));
    const below = port.vlan?.parent ?? port.lower;
    const lower = below ? byName.get(below) : undefined;
    if (lower) queue.push(lower);
  }
}

export function parsePorts(output: string): Port[] {
  const s = splitSections(output);
  const vlans = parseVlanConfig(s.vlan);
  const addresses = parseAddresses(s.addr);
  const kinds = parseLinkKinds(s.link);
  const routes = parseRoutes(s.route4, 4);
  for (const [dev, list] of parseRoutes(s.route6, 6)) routes.set(dev, [...(routes.get(dev) ?? []), ...list]);
  const macs = new Map(s.sys.map((r) => [r.name, r.attrs.get('address')]));

  const ports = s.sys.map((rec): Port => {
    const a = rec.attrs;
    const lower = rec.lowers[0];
    const proc = vlans.get(rec.name);
    const kind = kindOf(rec, kinds.get(rec.name), proc !== undefined, lower ? macs.get(lower) : undefined);
    const master = a.get('master');
    const operState = operStateOf(a.get('operstate'));
    const duplex = a.get('duplex');
    const mac = a.get('address');
    const vlanId = proc?.id ?? vlanIdFromName(rec.name);
    const vlanParent = proc?.parent ?? lower;
    const hardware = isHardware(kind, master);
    return {
      name: rec.name,
      ...(mac ? { mac } : {}),
      operState,
      carrier: carrierOf(a.get('carrier'), operState),
      speedMbps: speedOf(a.get('speed')),
      duplex: duplex === 'full' || duplex === 'half' ? duplex : null,
      mtu: Number(a.get('mtu')) || 0,
      ...(a.get('driver') ? { driver: a.get('driver') } : {}),
      bus: busOf(a.get('devpath')),
      kind,
      wired: hardware && kind !== 'wireless',
      isHardwarePort: hardware,
      ...(kind === 'vlan' && vlanId !== null && vlanParent ? { vlan: { id: vlanId, parent: vlanParent } } : {}),
      ...(master ? { master } : {}),
      ...(lower ? { lower } : {}),
      addresses: addresses.get(rec.name) ?? [],
      routes: routes.get(rec.name) ?? [],
      management: false,
      dockerNetworks: [],
    };
  });

  // A VLAN over Wi-Fi is not wired even though VLANs count as hardware ports.
  const byName = new Map(ports.map((p) => [p.name, p]));
  for (const p of ports) if (p.vlan && byName.get(p.vlan.parent)?.kind === 'wireless') p.wired = false;

  markManagement(ports, parseSshServerIp(s.ssh));
  return ports.sort((x, y) => Number(y.isHardwarePort) - Number(x.isHardwarePort) || naturalCompare(x.name, y.name));
}
