import { describe, expect, it } from 'vitest';
import type { ContainerInfo, NetworkInfo } from '../docker/types.js';
import type { Port } from '../ports/types.js';
import { checkPlanText } from './check.js';
import type { DeviceFacts } from './facts.js';
import { parseKernel } from './device-facts.js';

function port(name: string, extra: Partial<Port> = {}): Port {
  return {
    name,
    mac: '02:00:00:00:00:01',
    operState: 'up',
    carrier: true,
    speedMbps: 1000,
    duplex: 'full',
    mtu: 1500,
    bus: 'pci',
    kind: 'ethernet',
    wired: true,
    isHardwarePort: true,
    addresses: [],
    routes: [],
    management: false,
    dockerNetworks: [],
    ...extra,
  };
}

function network(name: string, driver: string, subnet: string, extra: Partial<NetworkInfo> = {}): NetworkInfo {
  return {
    id: `${name}-id`,
    name,
    driver,
    scope: 'local',
    internal: false,
    attachable: false,
    ipv6: false,
    ipam: { driver: 'default', config: [{ subnet }] },
    options: {},
    labels: {},
    endpoints: [],
    ownedByPortwright: false,
    ...extra,
  };
}

function container(name: string, networkMode = 'bridge'): ContainerInfo {
  return {
    id: `${name}0123456789abcdef`,
    name,
    image: 'busybox',
    state: 'running',
    status: 'Up',
    networkMode,
    networks: [],
    ports: [],
  };
}

function facts(over: Partial<DeviceFacts> = {}): DeviceFacts {
  return {
    ports: [
      port('eth0', {
        management: true,
        addresses: [{ family: 4, address: '198.18.0.10', prefix: 24, scope: 'global' }],
        routes: [
          { dst: '0.0.0.0/0', via: '198.18.0.1', family: 4 },
          { dst: '198.18.0.0/24', family: 4 },
        ],
      }),
      port('eth1', {
        addresses: [{ family: 4, address: '198.18.10.1', prefix: 24, scope: 'global' }],
        routes: [{ dst: '198.18.10.0/24', family: 4 }],
      }),
      port('eth2', { master: 'br0' }),
      port('eth3', { carrier: false }),
      port('eth4', { operState: 'down', carrier: null }),
      port('wlan0', { kind: 'wireless', wired: false }),
      port('veth12ab', { kind: 'veth', bus: 'virtual', isHardwarePort: false }),
      port('br0', {
        kind: 'bridge',
        bus: 'virtual',
        isHardwarePort: false,
        routes: [{ dst: '198.18.40.0/24', via: '198.18.10.254', family: 4 }],
      }),
    ],
    docker: {
      engine: { version: '27.5.1', apiVersion: '1.47', os: 'linux', arch: 'x86_64', kernel: '6.1.0', name: 'dev' },
      networks: [
        network('bridge', 'bridge', '198.19.0.0/24'),
        network('host', 'host', ''),
        network('old-ipvlan', 'ipvlan', '198.18.50.0/24', { options: { parent: 'eth3' } }),
        network('field-a', 'macvlan', '198.18.10.0/24', {
          options: { parent: 'eth1', macvlan_mode: 'bridge' },
          ipam: {
            driver: 'default',
            config: [{ subnet: '198.18.10.0/24', gateway: '198.18.10.254', auxAddresses: { exclude0: '198.18.10.1' } }],
          },
          endpoints: [{ containerId: 'x', containerName: 'hmi', ipv4: '198.18.10.30/24' }],
          ownedByPortwright: true,
        }),
      ],
      containers: [container('plc'), container('hmi'), container('sniffer', 'host')],
    },
    sshClient: '198.18.0.1',
    kernel: { release: '6.18.44', features: { macvlan: 'yes', ipvlan: 'no', vlan: 'no' }, source: '/proc/config.gz' },
    ...over,
  };
}

const plan = (networks: string, attachments = ''): string =>
  `version: 1\nnetworks:\n${networks}${attachments ? `attachments:\n${attachments}` : ''}`;
const codes = (yaml: string, f: DeviceFacts = facts()): string[] =>
  checkPlanText(yaml, f).findings.map((x) => `${x.severity} ${x.code} ${x.path}`);

describe('plan check against a device', () => {
  it("accepts a macvlan on the port's own LAN that keeps the device address out of the pool", () => {
    const yaml = plan(
      '  - { name: field-a, driver: macvlan, port: eth1, ipv4: { subnet: 198.18.10.0/24, gateway: 198.18.10.254, exclude: [198.18.10.1] } }\n',
      '  - { container: plc, network: field-a, ipv4: 198.18.10.20 }\n',
    );
    expect(codes(yaml)).toEqual([]);
  });

  it("refuses a pool that could hand out the device's own address", () => {
    expect(codes(plan('  - { name: n, driver: macvlan, port: eth1, ipv4: { subnet: 198.18.10.0/24 } }\n'))).toContain(
      'error DEVICE_ADDRESS_IN_POOL networks[0].ipv4.subnet',
    );
  });

  it.each([
    [
      'a missing port',
      '  - { name: n, driver: macvlan, port: eth9, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'error PORT_NOT_FOUND networks[0].port',
    ],
    [
      'a veth',
      '  - { name: n, driver: macvlan, port: veth12ab, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'error PORT_NOT_HARDWARE networks[0].port',
    ],
    [
      'a bridge member',
      '  - { name: n, driver: macvlan, port: eth2, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'error PORT_ENSLAVED networks[0].port',
    ],
    [
      'a port without carrier',
      '  - { name: n, driver: macvlan, port: eth3, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'warning PORT_NO_CARRIER networks[0].port',
    ],
    [
      'a port that is down',
      '  - { name: n, driver: macvlan, port: eth4, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'error PORT_DOWN networks[0].port',
    ],
    [
      'macvlan on wireless',
      '  - { name: n, driver: macvlan, port: wlan0, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'error PORT_WIRELESS networks[0].port',
    ],
    [
      'an MTU above the port',
      '  - { name: n, driver: macvlan, port: eth3, mtu: 9000, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'error MTU_ABOVE_PORT networks[0].mtu',
    ],
    [
      'ipvlan on a kernel without it',
      '  - { name: n, driver: ipvlan, port: eth3, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'error KERNEL_NO_IPVLAN networks[0].driver',
    ],
    [
      'a VLAN on a kernel without 802.1Q',
      '  - { name: n, driver: macvlan, port: eth3, vlan: 7, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'error KERNEL_NO_VLAN networks[0].vlan',
    ],
    [
      'a subnet Docker already uses',
      '  - { name: n, driver: bridge, ipv4: { subnet: 198.19.0.0/16 } }\n',
      'error SUBNET_OVERLAP_DOCKER networks[0].ipv4.subnet',
    ],
    [
      'a subnet of another port',
      '  - { name: n, driver: macvlan, port: eth3, ipv4: { subnet: 198.18.10.0/25 } }\n',
      'error SUBNET_OVERLAP_DEVICE networks[0].ipv4.subnet',
    ],
    [
      'a subnet the device routes elsewhere',
      '  - { name: n, driver: bridge, ipv4: { subnet: 198.18.40.0/23 } }\n',
      'error SUBNET_OVERLAP_ROUTE networks[0].ipv4.subnet',
    ],
    [
      "the SSH client's subnet",
      '  - { name: n, driver: bridge, ipv4: { subnet: 198.18.0.0/30 } }\n',
      'error MANAGEMENT_LOCKOUT networks[0].ipv4.subnet',
    ],
    [
      'passthru on the management port',
      '  - { name: n, driver: macvlan, port: eth0, mode: passthru, ipv4: { subnet: 198.18.61.0/24 } }\n',
      'error MANAGEMENT_LOCKOUT networks[0].mode',
    ],
    [
      'a second ipvlan on a parent',
      '  - { name: n, driver: ipvlan, port: eth3, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'error PARENT_IN_USE networks[0].port',
    ],
    [
      'macvlan where ipvlan sits',
      '  - { name: n, driver: macvlan, port: eth3, ipv4: { subnet: 198.18.60.0/24 } }\n',
      'error PARENT_DRIVER_CONFLICT networks[0].port',
    ],
    [
      'a changed network',
      '  - { name: field-a, driver: macvlan, port: eth1, ipv4: { subnet: 198.18.10.0/24, gateway: 198.18.10.253, exclude: [198.18.10.1] } }\n',
      'notice NETWORK_CHANGE networks[0]',
    ],
  ])('finds %s', (_what, nets, expected) => {
    expect(codes(plan(nets))).toContain(expected);
  });

  it('lets a macvlan sit inside a broad routed prefix, and warns for a bridge there', () => {
    const f = facts();
    f.ports[0]?.routes.push({ dst: '198.16.0.0/12', via: '198.18.0.1', family: 4 });
    // A parent without networks on it: eth1's VLAN 8 (eth3 carries ipvlan, eth4 is down).
    const vlans = {
      ...f,
      kernel: { release: 'x', features: { macvlan: 'yes', ipvlan: 'yes', vlan: 'yes' } as const, source: 't' },
    };
    expect(
      codes(plan('  - { name: n, driver: macvlan, port: eth1, vlan: 8, ipv4: { subnet: 198.19.60.0/24 } }\n'), vlans),
    ).toEqual([]);
    expect(codes(plan('  - { name: n, driver: bridge, ipv4: { subnet: 198.19.60.0/24 } }\n'), f)).toEqual([
      'warning ROUTE_COVERS_SUBNET networks[0].ipv4.subnet',
    ]);
  });

  it('refuses a host access shim name the device already uses', () => {
    expect(
      codes(
        plan(
          '  - { name: n, driver: macvlan, port: eth3, ipv4: { subnet: 198.18.60.0/24 }, hostAccess: { address: 198.18.60.3, interface: eth1 } }\n',
        ),
      ),
    ).toContain('error SHIM_NAME_TAKEN networks[0].hostAccess.interface');
  });

  it('refuses a subnet holding the gateway the session returns through', () => {
    const f = facts({ sshClient: '203.0.113.7' });
    expect(codes(plan('  - { name: n, driver: bridge, ipv4: { subnet: 198.18.0.0/28 } }\n'), f)).toContain(
      'error MANAGEMENT_LOCKOUT networks[0].ipv4.subnet',
    );
  });

  it('allows a second macvlan on a parent from Docker 27 on, but not before', () => {
    const yaml = plan('  - { name: n, driver: macvlan, port: eth1, vlan: 9, ipv4: { subnet: 198.18.60.0/24 } }\n');
    const f = facts({
      kernel: { release: 'x', features: { macvlan: 'yes', ipvlan: 'yes', vlan: 'yes' }, source: 't' },
    });
    f.docker.networks.push(network('m2', 'macvlan', '198.18.61.0/24', { options: { parent: 'eth1.9' } }));
    expect(codes(yaml, f)).not.toContain('error PARENT_IN_USE networks[0].port');
    f.docker.engine.version = '26.1.5';
    expect(codes(yaml, f)).toContain('error PARENT_IN_USE networks[0].port');
  });

  it('checks the containers to attach', () => {
    const nets = '  - { name: n, driver: macvlan, port: eth3, ipv4: { subnet: 198.18.60.0/24 } }\n';
    const found = codes(
      plan(
        nets,
        '  - { container: ghost, network: n }\n  - { container: sniffer, network: n }\n  - { container: plc, network: nowhere }\n  - { container: plc, network: field-a, ipv4: 198.18.10.30 }\n',
      ),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'error CONTAINER_NOT_FOUND attachments[0].container',
        'error CONTAINER_NETWORK_MODE attachments[1].container',
        'error NETWORK_NOT_FOUND attachments[2].network',
        'error ADDRESS_IN_USE attachments[3].ipv4',
      ]),
    );
  });

  it('warns when the kernel does not say what it supports', () => {
    const f = facts({
      kernel: { release: 'x', features: { macvlan: 'unknown', ipvlan: 'unknown', vlan: 'unknown' }, source: '' },
    });
    expect(
      codes(plan('  - { name: n, driver: macvlan, port: eth3, ipv4: { subnet: 198.18.60.0/24 } }\n'), f),
    ).toContain('warning KERNEL_UNKNOWN networks[0].driver');
  });
});

describe('kernel features', () => {
  it('reads a Debian kernel from its modules lists', () => {
    const out = `@@release\n6.1.0-28-amd64\n@@config\nsource /boot/config-6.1.0-28-amd64\nCONFIG_MODULES=y\nCONFIG_MACVLAN=m\nCONFIG_IPVLAN=m\nCONFIG_VLAN_8021Q=m\n@@builtin\nsource\n@@modules\nsource\nkernel/drivers/net/macvlan.ko:\n@@loaded\n8021q\n@@ssh\n::ffff:198.18.0.1 50000 198.18.0.10 22\n@@end\n`;
    expect(parseKernel(out)).toEqual({
      kernel: {
        release: '6.1.0-28-amd64',
        features: { macvlan: 'module', ipvlan: 'module', vlan: 'module' },
        source: '/boot/config-6.1.0-28-amd64',
      },
      sshClient: '198.18.0.1',
    });
  });

  it('says no for what a kernel without modules leaves out, and unknown when nothing is shown', () => {
    const none = parseKernel('@@release\n5.10\n@@config\n@@builtin\n@@modules\n@@loaded\n@@ssh\n\n@@end\n');
    expect(none.kernel.features).toEqual({ macvlan: 'unknown', ipvlan: 'unknown', vlan: 'unknown' });
    const emb = parseKernel(
      '@@release\n5.10\n@@config\nsource /proc/config.gz\n# CONFIG_MODULES is not set\nCONFIG_MACVLAN=y\nCONFIG_IPVLAN=m\n@@builtin\n@@modules\n@@loaded\n@@ssh\n@@end\n',
    );
    expect(emb.kernel.features).toEqual({ macvlan: 'yes', ipvlan: 'no', vlan: 'unknown' });
  });
});
