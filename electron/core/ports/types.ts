// A device's network ports as port discovery reports them (plain data; the renderer imports these types).

/** The kernel's RFC 2863 operstate; anything unexpected is reported as 'unknown'. */
export type OperState = 'up' | 'down' | 'unknown' | 'dormant' | 'lowerlayerdown' | 'notpresent' | 'testing';

/** Where the hardware sits; 'virtual' means the kernel made it (no device behind it). */
export type PortBus = 'pci' | 'usb' | 'sdio' | 'platform' | 'virtual' | 'unknown';

export type PortKind =
  | 'ethernet'
  | 'wireless'
  | 'vlan'
  | 'bond'
  | 'bridge'
  | 'veth'
  | 'macvlan'
  | 'ipvlan'
  | 'docker-bridge'
  | 'loopback'
  | 'tunnel'
  | 'other';

export interface PortAddress {
  family: 4 | 6;
  address: string;
  prefix: number;
  /** global, link, host, site as `ip addr` prints it. */
  scope?: string;
}

export interface PortRoute {
  /** Always a CIDR: the default route is `0.0.0.0/0` or `::/0`, a host route gets /32 or /128. */
  dst: string;
  via?: string;
  family: 4 | 6;
}

export interface Port {
  name: string;
  mac?: string;
  operState: OperState;
  /** null when the kernel cannot tell (e.g. the interface is up but the driver does not report it). */
  carrier: boolean | null;
  speedMbps: number | null;
  duplex: 'full' | 'half' | null;
  mtu: number;
  driver?: string;
  bus: PortBus;
  kind: PortKind;
  /** The medium is a cable (or a simulated one); false for radio and for software-only links. */
  wired: boolean;
  /** A port a field network can use as a parent. An enslaved port keeps `true` but has `master` set. */
  isHardwarePort: boolean;
  vlan?: { id: number; parent: string };
  /** The bridge or bond it is enslaved to. */
  master?: string;
  /** For macvlan, ipvlan and vlan children: the interface they sit on. */
  lower?: string;
  addresses: PortAddress[];
  routes: PortRoute[];
  /** Carries this SSH session: it holds the address the client connected to, or sits under the one that does. */
  management: boolean;
  /** Docker networks using this port; filled by the caller, discovery leaves it empty. */
  dockerNetworks: string[];
}
