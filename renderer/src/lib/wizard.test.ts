import { describe, expect, it } from 'vitest';
import type { Port } from '../../../electron/core/ports/types';
import { byField, emptyState, fieldOf, planOf, suggestFreeSubnet, suggestFromPort } from './wizard';

const port = (address?: string, prefix = 24): Port =>
  ({
    name: 'eth1',
    addresses: address ? [{ family: 4, address, prefix, scope: 'global' }] : [],
  }) as unknown as Port;

describe('network wizard logic', () => {
  it("suggests the field LAN from the port's own address, keeping that address out of Docker's pool", () => {
    expect(suggestFromPort(port('192.0.2.10'))).toEqual({
      subnet: '192.0.2.0/24',
      gateway: '192.0.2.1',
      range: '192.0.2.128/25',
      exclude: '192.0.2.10',
    });
    // When the device itself is .1, the gateway suggestion is the top of the block instead.
    expect(suggestFromPort(port('198.18.11.1'))).toMatchObject({ gateway: '198.18.11.254', exclude: '198.18.11.1' });
    expect(suggestFromPort(port('10.1.2.3', 30))).toEqual({});
    expect(suggestFromPort(port())).toEqual({});
  });

  it('makes a one-network plan with its attachments', () => {
    const s = {
      ...emptyState('macvlan', 'eth1'),
      name: 'field-a',
      subnet: '198.18.11.0/24',
      gateway: '198.18.11.2',
      exclude: '198.18.11.1, 198.18.11.5',
      hostAccess: '198.18.11.3',
    };
    s.attachments = [
      { container: 'plc', ipv4: '198.18.11.130' },
      { container: '', ipv4: '' },
    ];
    expect(planOf(s)).toEqual({
      version: 1,
      name: 'field-a',
      networks: [
        {
          name: 'field-a',
          driver: 'macvlan',
          port: 'eth1',
          mode: 'bridge',
          ipv4: { subnet: '198.18.11.0/24', gateway: '198.18.11.2', exclude: ['198.18.11.1', '198.18.11.5'] },
          hostAccess: { address: '198.18.11.3' },
        },
      ],
      attachments: [{ container: 'plc', network: 'field-a', ipv4: '198.18.11.130' }],
    });
    expect(
      planOf({ ...emptyState('ipvlan', 'wlan0'), name: 'v6', ipv6Subnet: 'fd00:1::/64', ipv6Gateway: 'fd00:1::1' })
        .networks[0],
    ).toEqual({
      name: 'v6',
      driver: 'ipvlan',
      port: 'wlan0',
      mode: 'l2',
      ipv6: { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' },
    });
    expect(planOf({ ...emptyState('bridge'), name: 'cells', port: 'eth1' }).networks[0]).toEqual({
      name: 'cells',
      driver: 'bridge',
    });
  });

  it("places the checker's findings at the wizard's fields", () => {
    expect(fieldOf('networks[0].ipv4.gateway')).toBe('gateway');
    expect(fieldOf('networks[0].ipv4.exclude[1]')).toBe('exclude');
    expect(fieldOf('networks[0].port')).toBe('port');
    expect(fieldOf('networks[0].ipv6.gateway')).toBe('ipv6Gateway');
    expect(fieldOf('networks[0].ipv6.subnet')).toBe('ipv6Subnet');
    expect(fieldOf('networks[0]')).toBe('name');
    expect(fieldOf('attachments[2].ipv4')).toBe('attachments.2.ipv4');
    const f = byField([
      { severity: 'warning', code: 'PORT_NO_CARRIER', path: 'networks[0].port', message: 'w' },
      { severity: 'error', code: 'PORT_NOT_FOUND', path: 'networks[0].port', message: 'e' },
    ]);
    expect(f.port?.map((x) => x.code)).toEqual(['PORT_NOT_FOUND', 'PORT_NO_CARRIER']);
  });
});

describe('free subnet suggestion', () => {
  it('skips blocks that overlap what the device already uses', () => {
    expect(suggestFreeSubnet([])).toBe('172.30.0.0/24');
    expect(suggestFreeSubnet(['172.30.0.0/23', '172.30.2.5/32', '10.0.0.0/8'])).toBe('172.30.3.0/24');
    expect(suggestFreeSubnet(['172.16.0.0/12'])).toBeUndefined();
    expect(suggestFreeSubnet([], '198.18.200.0/23', 24)).toBe('198.18.200.0/24');
  });
});
