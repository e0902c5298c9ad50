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

/** The addresses a container asked for on a network (IPAMConfig), which the engine types leave untyped. */
function staticAddresses(ipam: { IPv4Address?: string; IPv6Address?: string } | null | undefined): {
  staticIpv4?: string;
  staticIpv6?: string;
} {
  return {
    ...(ipam?.IPv4Address ? { staticIpv4: ipam.IPv4Address } : {}),
    ...(ipam?.IPv6Address ? { staticIpv6: ipam.IPv6Address } : {}),
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
      ...staticAddresses(s.IPAMConfig as { IPv4Address?: string; IPv6Address?: string } | null | undefined),
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

/**
 * The engine's version and API version from the headers of GET /_ping (`Server: Docker/27.3.1
 * (linux)`, `Api-Version: 1.47`). /version says more (arch, kernel) but is slow: dockerd runs runc and
 * docker-init for their versions on every call, tens of ms on a small ARM device. Engines whose ping
 * lacks those headers are asked /version.
 */
export async function fetchEngineQuick(docker: Docker): Promise<EngineInfo> {
  const headers = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
    docker.modem.dial(
      { path: '/_ping?', method: 'GET', isStream: true, statusCodes: { 200: true } },
      (err: unknown, res: unknown) => {
        if (err) {
          reject(err instanceof Error ? err : new Error('the engine did not answer /_ping'));
          return;
        }
        const response = res as NodeJS.ReadableStream & { headers: Record<string, string | string[] | undefined> };
        response.resume();
        resolve(response.headers);
      },
    );
  });
  const server = /^Docker\/(\S+)\s+\(([^)]+)\)/.exec(String(headers.server ?? ''));
  const apiVersion = headers['api-version'];
  if (!server?.[1] || typeof apiVersion !== 'string') return fetchEngine(docker);
  return { version: server[1], apiVersion, os: server[2] ?? String(headers.ostype ?? ''), name: 'Docker Engine' };
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

/**
 * Networks with their endpoints. The network list omits endpoints, and inspecting each network is
 * one more round; the container list carries every endpoint (network id, IP, MAC), so both lists,
 * fetched at once, give the whole picture in one round.
 */
export async function fetchNetworks(docker: Docker): Promise<NetworkInfo[]> {
  const [list, containers] = await Promise.all([docker.listNetworks(), docker.listContainers({ all: true })]);
  return joinEndpoints(list, containers);
}

export function joinEndpoints(list: RawNetwork[], containers: RawContainer[]): NetworkInfo[] {
  const byNetwork = new Map<string, NetworkInfo['endpoints']>();
  for (const c of containers) {
    for (const s of Object.values(c.NetworkSettings.Networks)) {
      const endpoints = byNetwork.get(s.NetworkID) ?? [];
      endpoints.push({
        containerId: c.Id,
        containerName: (c.Names[0] ?? c.Id).replace(/^\//, ''),
        ...(s.IPAddress ? { ipv4: `${s.IPAddress}/${s.IPPrefixLen}` } : {}),
        ...(s.GlobalIPv6Address ? { ipv6: `${s.GlobalIPv6Address}/${s.GlobalIPv6PrefixLen}` } : {}),
        ...(s.MacAddress ? { mac: s.MacAddress } : {}),
      });
      byNetwork.set(s.NetworkID, endpoints);
    }
  }
  return list
    .map((n) => ({ ...toNetworkInfo(n), endpoints: byNetwork.get(n.Id) ?? [] }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function fetchContainers(docker: Docker): Promise<ContainerInfo[]> {
  const list = await docker.listContainers({ all: true });
  return list.map(toContainerInfo).sort((a, b) => a.name.localeCompare(b.name));
}

export async function fetchDockerState(docker: Docker): Promise<DockerState> {
  try {
    const [engine, networks, containers] = await Promise.all([
      fetchEngineQuick(docker),
      docker.listNetworks(),
      docker.listContainers({ all: true }),
    ]);
    return {
      engine,
      networks: joinEndpoints(networks, containers),
      containers: containers.map(toContainerInfo).sort((a, b) => a.name.localeCompare(b.name)),
    };
  } catch (e) {
    throw translateDockerError(e);
  }
}
