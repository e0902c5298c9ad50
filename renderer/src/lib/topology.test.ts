import { describe, expect, it } from 'vitest';
import type { ContainerInfo, NetworkInfo } from '../../../electron/core/docker/types';
import type { Port } from '../../../electron/core/ports/types';
import { layout } from './topology';

const port = (name: string): Port =>
  ({ name, isHardwarePort: true, addresses: [], operState: 'up', management: false }) as unknown as Port;
const net = (name: string, driver: string, parent?: string): NetworkInfo =>
  ({
    name,
    driver,
    options: parent ? { parent } : {},
    ipam: { driver: 'default', config: [] },
  }) as unknown as NetworkInfo;
const ctr = (name: string, networks: string[]): ContainerInfo =>
  ({
    name,
    state: 'running',
    networks: networks.map((network) => ({ network, ipv4: '198.18.1.5', aliases: [] })),
  }) as unknown as ContainerInfo;

describe('topology layout', () => {
  it('links networks to their parent port (VLANs to the port under them) and containers to their networks', () => {
    const { nodes, edges } = layout(
      [port('eth1'), port('eth2')],
      [
        net('field-a', 'macvlan', 'eth1'),
        net('tagged', 'macvlan', 'eth2.300'),
        net('bridge', 'bridge'),
        net('none', 'null'),
      ],
      [ctr('plc', ['field-a', 'bridge']), ctr('idle', [])],
    );
    expect(nodes.map((n) => n.id)).toEqual([
      'port:eth1',
      'port:eth2',
      'device',
      'net:field-a',
      'net:tagged',
      'net:bridge',
      'ctr:plc',
    ]);
    expect(edges).toEqual([
      { from: 'port:eth1', to: 'net:field-a' },
      { from: 'port:eth2', to: 'net:tagged', label: 'eth2.300' },
      { from: 'device', to: 'net:bridge' },
      { from: 'net:field-a', to: 'ctr:plc', label: '198.18.1.5' },
      { from: 'net:bridge', to: 'ctr:plc', label: '198.18.1.5' },
    ]);
  });
});
