// What the checker needs to know about a device (plain data, so checks run without a device in tests).
import type { DockerState } from '../docker/types.js';
import type { Port } from '../ports/types.js';

export type KernelFeature = 'macvlan' | 'ipvlan' | 'vlan';
/** built-in, a loadable module, missing, or the device does not say. */
export type Support = 'yes' | 'module' | 'no' | 'unknown';

export interface KernelSupport {
  release: string;
  features: Record<KernelFeature, Support>;
  /** Where the answer came from: /proc/config.gz, /boot/config-…, modules.builtin, … */
  source: string;
}

export interface DeviceFacts {
  ports: Port[];
  docker: DockerState;
  /** The address this SSH session comes from, as the device sees it; absent for the local engine. */
  sshClient?: string;
  kernel: KernelSupport;
}

export const KERNEL_OPTION: Record<KernelFeature, string> = {
  macvlan: 'CONFIG_MACVLAN',
  ipvlan: 'CONFIG_IPVLAN',
  vlan: 'CONFIG_VLAN_8021Q',
};
