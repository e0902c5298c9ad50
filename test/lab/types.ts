// What a lab run is made of, as plain data: written to lab.json so any process can use the lab.
import type { PublicKey } from './keys.js';

export type DeviceKind = 'ns' | 'vm';
export type SshServer = 'openssh' | 'dropbear';

/** A login on a namespace device besides root; every user accepts the lab's client key. */
export interface LabUser {
  /** `[a-z][a-z0-9_-]{0,15}` */
  name: string;
  /** Also allow password login with this password. */
  password?: string;
  /** Member of the docker group (may use the Docker socket). Default false. */
  docker?: boolean;
  /** `busybox`: a shell and PATH with nothing but busybox applets (OpenSSH devices). Default `sh`. */
  shell?: 'sh' | 'busybox';
}

export interface DeviceSpec {
  /** Short name, `[a-z][a-z0-9]{0,7}`: it goes into namespace and interface names. */
  name: string;
  /** `ns`: namespaces on this machine's kernel (fast); `vm`: a QEMU VM with Debian's kernel (ipvlan, 802.1Q). */
  kind?: DeviceKind;
  /** SSH server on the device; `dropbear` only for `ns` devices. Default `openssh`. */
  ssh?: SshServer;
  /** Field ports eth1..ethN, each wired to a peer namespace. Default 2 (a VM has exactly 2). */
  fieldPorts?: number;
  /** Run dockerd on the device. Default true. */
  docker?: boolean;
  /** Give the device its own address (.1) on each field network. Default false. */
  fieldAddresses?: boolean;
  /** Logins besides root (`ns` devices). */
  users?: LabUser[];
  /**
   * OpenSSH with PAM: passwords only through keyboard-interactive (PAM's "Password:" prompt), the
   * password method off, as many devices are set up. Default false.
   */
  pam?: boolean;
}

export interface LabOptions {
  devices: DeviceSpec[];
  /** Where runs and caches live. Default `$PORTWRIGHT_LAB_ROOT` or `/var/lib/portwright-lab`. */
  root?: string;
  log?: (message: string) => void;
}

export interface PeerInfo {
  /** The device's port this peer hangs on, e.g. `eth1`. */
  port: string;
  /** The peer's network namespace (its interface is `eth0`). */
  netns: string;
  /** The peer's own address on the field network, e.g. `198.18.11.2`. */
  address: string;
  /** The field network, e.g. `198.18.11.0/24`. */
  subnet: string;
  /** The device's address on this field network, when it has one. */
  deviceAddress?: string;
}

export interface DeviceInfo {
  name: string;
  kind: DeviceKind;
  ssh: SshServer;
  docker: boolean;
  /** The device's network namespace. */
  netns: string;
  /** The device's management address (eth0) inside the lab, e.g. `198.18.0.10`. */
  labAddress: string;
  /** Where this computer reaches the device's SSH server: the lab relay on loopback. */
  host: string;
  port: number;
  user: string;
  hostKey: PublicKey;
  /** A known_hosts line for `[host]:port`. */
  knownHostsLine: string;
  peers: PeerInfo[];
  /** Logins besides root, as given. */
  users: LabUser[];
  /** `ns` devices: PID (host view) of the device's init. */
  initPid?: number;
  /** `ns` devices: the device's Docker socket as a path on this computer. */
  dockerSocket?: string;
  /** Time from start to SSH and Docker answering. */
  readyMs: number;
}

export interface LabInfo {
  id: string;
  dir: string;
  ownerPid: number;
  hubNetns: string;
  hubAddress: string;
  /** Private key (no passphrase) that every device's root accepts. */
  clientKey: string;
  clientPublicKey: PublicKey;
  /** known_hosts for every device at its relay address. */
  knownHostsFile: string;
  image: string;
  devices: DeviceInfo[];
}
