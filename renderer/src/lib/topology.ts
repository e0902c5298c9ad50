// The topology picture's layout: hardware ports, networks and containers in three columns, with the
// links between them (a network's parent port; a container's endpoint on a network). Pure.
import type { ContainerInfo, NetworkInfo } from '../../../electron/core/docker/types';
import type { Port } from '../../../electron/core/ports/types';

export interface Node {
  id: string;
  kind: 'port' | 'device' | 'network' | 'container';
  label: string;
  sub: string;
  x: number;
  y: number;
}
export interface Edge {
  from: string;
  to: string;
  label?: string;
}

export const COLUMN_X = { port: 20, network: 330, container: 640 };
export const NODE_W = 240;
export const NODE_H = 44;
const GAP = 14;

export function layout(
  ports: Port[],
  networks: NetworkInfo[],
  containers: ContainerInfo[],
): { nodes: Node[]; edges: Edge[]; height: number } {
  const nodes: Node[] = [];
  const edges: Edge[] = [];
  const hw = ports.filter((p) => p.isHardwarePort);
  const place = (list: Omit<Node, 'y'>[]): void =>
    list.forEach((n, i) => nodes.push({ ...n, y: 20 + i * (NODE_H + GAP) }));
  place([
    ...hw.map((p) => ({
      id: `port:${p.name}`,
      kind: 'port' as const,
      label: p.name + (p.management ? ' (mgmt)' : ''),
      sub:
        p.addresses
          .filter((a) => a.scope !== 'link')
          .map((a) => `${a.address}/${a.prefix}`)
          .join(' ') || p.operState,
      x: COLUMN_X.port,
    })),
    {
      id: 'device',
      kind: 'device' as const,
      label: 'inside the device',
      sub: 'bridge, host, overlay…',
      x: COLUMN_X.port,
    },
  ]);
  const shown = networks.filter((n) => n.driver !== 'null');
  place(
    shown.map((n) => ({
      id: `net:${n.name}`,
      kind: 'network' as const,
      label: n.name,
      sub: [n.driver, ...n.ipam.config.map((c) => c.subnet ?? '').filter(Boolean)].join(' · '),
      x: COLUMN_X.network,
    })),
  );
  const onNetworks = containers.filter((c) => c.networks.length > 0);
  place(
    onNetworks.map((c) => ({
      id: `ctr:${c.name}`,
      kind: 'container' as const,
      label: c.name,
      sub: c.state,
      x: COLUMN_X.container,
    })),
  );
  const hwNames = new Set(hw.map((p) => p.name));
  for (const n of shown) {
    const parent = n.options.parent;
    const base = parent?.split('.')[0];
    const from = base && hwNames.has(base) ? `port:${base}` : 'device';
    edges.push({ from, to: `net:${n.name}`, ...(parent && parent !== base ? { label: parent } : {}) });
  }
  const netNames = new Set(shown.map((n) => n.name));
  for (const c of onNetworks) {
    for (const cn of c.networks) {
      if (netNames.has(cn.network))
        edges.push({ from: `net:${cn.network}`, to: `ctr:${c.name}`, ...(cn.ipv4 ? { label: cn.ipv4 } : {}) });
    }
  }
  const height = Math.max(...nodes.map((n) => n.y + NODE_H), 100) + 20;
  return { nodes, edges, height };
}
