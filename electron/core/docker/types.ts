// What a device's Docker engine has, as the core reports it (plain data; the renderer imports these types).

export interface EngineInfo {
  version: string;
  apiVersion: string;
  os: string;
  /** From /version only (a connection test); the inventory reads the quicker /_ping. */
  arch?: string;
  kernel?: string;
  name: string;
}

export interface IpamConfig {
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  auxAddresses?: Record<string, string>;
}

export interface NetworkEndpoint {
  containerId: string;
  containerName: string;
  ipv4?: string;
  ipv6?: string;
  mac?: string;
}

export interface NetworkInfo {
  id: string;
  name: string;
  /** bridge, host, null (none), macvlan, ipvlan, overlay, or a plugin's name. */
  driver: string;
  scope: string;
  internal: boolean;
  attachable: boolean;
  ipv6: boolean;
  ipam: { driver: string; config: IpamConfig[] };
  options: Record<string, string>;
  labels: Record<string, string>;
  endpoints: NetworkEndpoint[];
  /** Created by Portwright (it carries our label). */
  ownedByPortwright: boolean;
}

export interface PublishedPort {
  containerPort: number;
  protocol: string;
  hostIp?: string;
  hostPort?: number;
}

export interface ContainerNetwork {
  network: string;
  ipv4?: string;
  ipv6?: string;
  mac?: string;
  /** The address asked for when connecting (a static address); kept while the container is stopped. */
  staticIpv4?: string;
  staticIpv6?: string;
  aliases: string[];
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  /** bridge, host, none, container:<id>, or a network name. */
  networkMode: string;
  networks: ContainerNetwork[];
  ports: PublishedPort[];
}

export interface DockerState {
  engine: EngineInfo;
  networks: NetworkInfo[];
  containers: ContainerInfo[];
}

export const OWNER_LABEL = 'dev.portwright.owner';
