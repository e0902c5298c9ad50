// Reads a device's Docker state (engine, every network with its endpoints, every container) in parallel
// over the one tunnel, and turns the engine's shapes into ours.
import type Docker from 'dockerode';
import { translateDockerError } from './errors.js';
import { OWNER_LABEL, type ContainerInfo, type DockerState, type EngineInfo, type NetworkInfo } from './types.js';

type RawNetwork = Docker.NetworkInspectInfo;
type RawContainer = Docker.ContainerInfo;

export function toNetworkInfo(n: RawNetwork): NetworkInfo {
  const endpoints = Object.entries(n.Containers ?? {}).map(([containerId, c]) => ({
    containerId,
    containerName: c.Name,
    ...(c.IPv4Address ? { ipv4: c.IPv4Address } : {}),
    ...(c.IPv6Address ? { ipv6: c.IPv6Address } : {}),
    ...(c.MacAddress ? { mac: c.MacAddress } : {}),
  }));
  const labels = n.Labels ?? {};
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    scope: n.Scope,
    internal: n.Internal,
    attachable: n.Attachable,
    ipv6: n.EnableIPv6,
    ipam: {
      driver: n.IPAM?.Driver ?? 'default',
      config: (n.IPAM?.Config ?? []).map((c) => ({
        ...(c.Subnet ? { subnet: c.Subnet } : {}),
        ...(c.Gateway ? { gateway: c.Gateway } : {}),
        ...(c.IPRange ? { ipRange: c.IPRange } : {}),
        ...(c.AuxiliaryAddresses ? { auxAddresses: c.AuxiliaryAddresses as Record<string, string> } : {}),
      })),
    },
    options: n.Options ?? {},
    labels,
    endpoints,
    ownedByPortwright: OWNER_LABEL in labels,
  };
}

export function toContainerInfo(c: RawContainer): ContainerInfo {
  return {
    id: c.Id,
    name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
    image: c.Image,
    state: c.State,
    status: c.Status,
    networkMode: c.HostConfig.NetworkMode,
    networks: Object.entries(c.NetworkSettings.Networks).map(([network, s]) => ({
      network,
      ...(s.IPAddress ? { ipv4: s.IPAddress } : {}),
      ...(s.GlobalIPv6Address ? { ipv6: s.GlobalIPv6Address } : {}),
      ...(s.MacAddress ? { mac: s.MacAddress } : {}),
      aliases: (s.Aliases as string[] | null | undefined) ?? [],
    })),
    ports: c.Ports.map((p) => ({
      containerPort: p.PrivatePort,
      protocol: p.Type,
      ...(p.IP ? { hostIp: p.IP } : {}),
      ...(p.PublicPort ? { hostPort: p.PublicPort } : {}),
    })),
  };
}

export async function fetchEngine(docker: Docker): Promise<EngineInfo> {
  const v = await docker.version();
  return {
    version: v.Version,
    apiVersion: v.ApiVersion,
    os: v.Os,
    arch: v.Arch,
    kernel: v.KernelVersion,
    name: 'Docker Engine',
  };
}

export async function fetchNetworks(docker: Docker): Promise<NetworkInfo[]> {
  const list = await docker.listNetworks();
  // The list omits endpoints; each inspect is one more request on its own channel, all at once.
  const full = await Promise.all(list.map((n): Promise<RawNetwork> => docker.getNetwork(n.Id).inspect()));
  return full.map(toNetworkInfo).sort((a, b) => a.name.localeCompare(b.name));
}

export async function fetchContainers(docker: Docker): Promise<ContainerInfo[]> {
  const list = await docker.listContainers({ all: true });
  return list.map(toContainerInfo).sort((a, b) => a.name.localeCompare(b.name));
}

export async function fetchDockerState(docker: Docker): Promise<DockerState> {
  try {
    const [engine, networks, containers] = await Promise.all([
      fetchEngine(docker),
      fetchNetworks(docker),
      fetchContainers(docker),
    ]);
    return { engine, networks, containers };
  } catch (e) {
    throw translateDockerError(e);
  }
}
