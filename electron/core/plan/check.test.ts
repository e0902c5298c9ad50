import { describe, expect, it } from 'vitest';
import { checkPlan } from './check.js';
import { hasErrors } from './findings.js';
import { parsePlanText, withPositions } from './parse.js';

function check(yaml: string) {
  const parsed = parsePlanText(yaml);
  return parsed.draft
    ? [...parsed.findings, ...withPositions(checkPlan(parsed.draft), parsed.locate)]
    : parsed.findings;
}

const VALID = `version: 1
networks:
  - name: field-a
    driver: macvlan
    port: eth1
    vlan: 100
    mode: bridge
    ipv4: { subnet: 198.18.110.0/24, gateway: 198.18.110.1, range: 198.18.110.128/25, exclude: [198.18.110.2] }
    ipv6: { subnet: "fd00:110::/64", gateway: "fd00:110::1" }
    mtu: 1500
    internal: false
    hostAccess: { address: 198.18.110.3 }
  - name: cells
    driver: bridge
    ipv4: { subnet: 198.19.200.0/24 }
attachments:
  - container: plc-gateway
    network: field-a
    ipv4: 198.18.110.20
    aliases: [gw]
`;

/** A one-network plan around the given network body (indented by the caller's YAML). */
const net = (body: string, extra = ''): string => `version: 1\nnetworks:\n  - name: n1\n${body}${extra}`;
const mv = (lines: string): string => net(`    driver: macvlan\n    port: eth1\n${lines}`);
const v4 = (fields: string): string => mv(`    ipv4: { subnet: 198.18.110.0/24, ${fields} }\n`);
const attach = (lines: string): string =>
  `${mv('    ipv4: { subnet: 198.18.110.0/24, gateway: 198.18.110.1, exclude: [198.18.110.9] }\n    hostAccess: { address: 198.18.110.3 }\n')}attachments:\n${lines}`;

const INVALID: [string, string, string, string][] = [
  ['unknown top-level key', `version: 1\nnetwork: []\n`, 'UNKNOWN_KEY', 'network'],
  ['unknown network key', mv('    subnet: 198.18.1.0/24\n'), 'UNKNOWN_KEY', 'networks[0].subnet'],
  ['unknown addressing key', v4('gw: 198.18.110.1'), 'UNKNOWN_KEY', 'networks[0].ipv4.gw'],
  ['missing version', `networks: []\n`, 'REQUIRED', 'version'],
  ['version 2', `version: 2\n`, 'UNSUPPORTED_VERSION', 'version'],
  ['missing network name', `version: 1\nnetworks:\n  - driver: bridge\n`, 'REQUIRED', 'networks[0].name'],
  ['unknown driver', net('    driver: overlay\n'), 'INVALID_VALUE', 'networks[0].driver'],
  ['vlan as text', mv('    vlan: ten\n'), 'WRONG_TYPE', 'networks[0].vlan'],
  ['networks not a list', `version: 1\nnetworks: { name: x }\n`, 'WRONG_TYPE', 'networks'],
  ['plan is a list', `- 1\n- 2\n`, 'PLAN_NOT_A_MAPPING', ''],
  ['duplicate key', `version: 1\nversion: 1\n`, 'DUPLICATE_KEY', ''],
  ['broken YAML', `version: 1\nnetworks: [\n`, 'PLAN_SYNTAX', ''],
  ['bad subnet', mv('    ipv4: { subnet: 198.18.300.0/24 }\n'), 'CIDR_INVALID', 'networks[0].ipv4.subnet'],
  ['v6 subnet under ipv4', mv('    ipv4: { subnet: "fd00::/64" }\n'), 'FAMILY_MISMATCH', 'networks[0].ipv4.subnet'],
  ['host bits set', mv('    ipv4: { subnet: 198.18.110.5/24 }\n'), 'SUBNET_HOST_BITS', 'networks[0].ipv4.subnet'],
  ['/32 subnet', mv('    ipv4: { subnet: 198.18.110.5/32 }\n'), 'SUBNET_TOO_SMALL', 'networks[0].ipv4.subnet'],
  ['gateway outside', v4('gateway: 198.18.111.1'), 'GATEWAY_OUTSIDE_SUBNET', 'networks[0].ipv4.gateway'],
  ['gateway is network address', v4('gateway: 198.18.110.0'), 'GATEWAY_RESERVED', 'networks[0].ipv4.gateway'],
  ['gateway is broadcast', v4('gateway: 198.18.110.255'), 'GATEWAY_RESERVED', 'networks[0].ipv4.gateway'],
  ['gateway not an address', v4('gateway: router'), 'ADDRESS_INVALID', 'networks[0].ipv4.gateway'],
  ['range outside', v4('range: 198.18.0.0/16'), 'RANGE_OUTSIDE_SUBNET', 'networks[0].ipv4.range'],
  ['range host bits', v4('range: 198.18.110.130/25'), 'RANGE_HOST_BITS', 'networks[0].ipv4.range'],
  [
    'exclude outside',
    v4('exclude: [198.18.110.2, 198.18.9.9]'),
    'EXCLUDE_OUTSIDE_SUBNET',
    'networks[0].ipv4.exclude[1]',
  ],
  ['vlan 0', mv('    vlan: 0\n'), 'VLAN_RANGE', 'networks[0].vlan'],
  ['vlan 4095', mv('    vlan: 4095\n'), 'VLAN_RANGE', 'networks[0].vlan'],
  [
    'vlan name too long',
    net('    driver: macvlan\n    port: enx001122334455\n    vlan: 100\n'),
    'IFNAME_TOO_LONG',
    'networks[0].vlan',
  ],
  ['macvlan mode l2', mv('    mode: l2\n'), 'MODE_INVALID', 'networks[0].mode'],
  [
    'ipvlan mode bridge',
    net('    driver: ipvlan\n    port: eth1\n    mode: bridge\n'),
    'MODE_INVALID',
    'networks[0].mode',
  ],
  ['bridge with a port', net('    driver: bridge\n    port: eth1\n'), 'BRIDGE_OPTION', 'networks[0].port'],
  ['bridge with a vlan', net('    driver: bridge\n    vlan: 5\n'), 'BRIDGE_OPTION', 'networks[0].vlan'],
  ['macvlan without port', net('    driver: macvlan\n'), 'PORT_REQUIRED', 'networks[0]'],
  [
    'ipvlan l3 with gateway',
    net(
      '    driver: ipvlan\n    port: eth1\n    mode: l3\n    ipv4: { subnet: 198.18.110.0/24, gateway: 198.18.110.1 }\n',
    ),
    'IPVLAN_L3_GATEWAY',
    'networks[0].ipv4.gateway',
  ],
  ['bad name', net('    driver: bridge\n').replace('n1', '-bad name'), 'NAME_INVALID', 'networks[0].name'],
  ['predefined name', net('    driver: bridge\n').replace('n1', 'host'), 'NAME_RESERVED', 'networks[0].name'],
  [
    'duplicate names',
    `version: 1\nnetworks:\n  - { name: a, driver: bridge }\n  - { name: a, driver: bridge }\n`,
    'NAME_DUPLICATE',
    'networks[1].name',
  ],
  [
    'overlapping subnets',
    `version: 1\nnetworks:\n  - { name: a, driver: bridge, ipv4: { subnet: 198.18.0.0/16 } }\n  - { name: b, driver: bridge, ipv4: { subnet: 198.18.5.0/24 } }\n`,
    'SUBNET_OVERLAP',
    'networks[1].ipv4.subnet',
  ],
  [
    'two ipvlan on one parent',
    `version: 1\nnetworks:\n  - { name: a, driver: ipvlan, port: eth1 }\n  - { name: b, driver: ipvlan, port: eth1 }\n`,
    'PARENT_IN_USE',
    'networks[1].port',
  ],
  [
    'macvlan and ipvlan on one parent',
    `version: 1\nnetworks:\n  - { name: a, driver: macvlan, port: eth1 }\n  - { name: b, driver: ipvlan, port: eth1 }\n`,
    'PARENT_DRIVER_CONFLICT',
    'networks[1].port',
  ],
  ['MTU too small', mv('    mtu: 40\n'), 'MTU_RANGE', 'networks[0].mtu'],
  [
    'host access on ipvlan',
    net('    driver: ipvlan\n    port: eth1\n    hostAccess: { address: 198.18.1.1 }\n'),
    'HOST_ACCESS_DRIVER',
    'networks[0].hostAccess',
  ],
  [
    'host access outside',
    mv('    ipv4: { subnet: 198.18.110.0/24 }\n    hostAccess: { address: 198.18.9.3 }\n'),
    'ADDRESS_OUTSIDE_SUBNET',
    'networks[0].hostAccess.address',
  ],
  [
    'static outside subnet',
    attach('  - { container: plc, network: n1, ipv4: 198.18.120.20 }\n'),
    'ADDRESS_OUTSIDE_SUBNET',
    'attachments[0].ipv4',
  ],
  [
    'static is gateway',
    attach('  - { container: plc, network: n1, ipv4: 198.18.110.1 }\n'),
    'ADDRESS_IS_GATEWAY',
    'attachments[0].ipv4',
  ],
  [
    'static is broadcast',
    attach('  - { container: plc, network: n1, ipv4: 198.18.110.255 }\n'),
    'ADDRESS_RESERVED',
    'attachments[0].ipv4',
  ],
  [
    'static is excluded',
    attach('  - { container: plc, network: n1, ipv4: 198.18.110.9 }\n'),
    'ADDRESS_EXCLUDED',
    'attachments[0].ipv4',
  ],
  [
    'static is host access',
    attach('  - { container: plc, network: n1, ipv4: 198.18.110.3 }\n'),
    'ADDRESS_CONFLICT',
    'attachments[0].ipv4',
  ],
  [
    'static twice',
    attach(
      '  - { container: a, network: n1, ipv4: 198.18.110.20 }\n  - { container: b, network: n1, ipv4: 198.18.110.20 }\n',
    ),
    'ADDRESS_DUPLICATE',
    'attachments[1].ipv4',
  ],
  [
    'same attachment twice',
    attach('  - { container: a, network: n1 }\n  - { container: a, network: n1 }\n'),
    'ATTACH_DUPLICATE',
    'attachments[1]',
  ],
  [
    'static v6 without v6 subnet',
    attach('  - { container: a, network: n1, ipv6: "fd00::5" }\n'),
    'ATTACH_NO_SUBNET',
    'attachments[0].ipv6',
  ],
  [
    'bad static address',
    attach('  - { container: a, network: n1, ipv4: 198.18.110 }\n'),
    'ADDRESS_INVALID',
    'attachments[0].ipv4',
  ],
  [
    'bad alias',
    attach('  - { container: a, network: n1, aliases: ["no spaces"] }\n'),
    'ALIAS_INVALID',
    'attachments[0].aliases[0]',
  ],
  [
    'bad container name',
    attach('  - { container: "a b", network: n1 }\n'),
    'CONTAINER_NAME_INVALID',
    'attachments[0].container',
  ],
  [
    'static on default bridge',
    attach('  - { container: a, network: bridge, ipv4: 172.17.0.9 }\n'),
    'STATIC_ADDRESS_PREDEFINED',
    'attachments[0].ipv4',
  ],
  [
    'static address the host access shim cannot reach',
    mv('    ipv4: { subnet: 198.18.110.0/24, range: 198.18.110.128/25 }\n    hostAccess: { address: 198.18.110.3 }\n') +
      'attachments:\n  - { container: a, network: n1, ipv4: 198.18.110.20 }\n',
    'HOST_ACCESS_UNREACHABLE',
    'attachments[0].ipv4',
  ],
  [
    'passthru with two containers',
    net('    driver: macvlan\n    port: eth1\n    mode: passthru\n    ipv4: { subnet: 198.18.110.0/24 }\n') +
      'attachments:\n  - { container: a, network: n1 }\n  - { container: b, network: n1 }\n',
    'PASSTHRU_SINGLE',
    'networks[0].mode',
  ],
];

describe('plan check without a device', () => {
  it('accepts the documented example with no errors', () => {
    const findings = check(VALID);
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('has a table of at least 30 invalid plans', () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(30);
  });

  it.each(INVALID)('refuses %s', (_name, yaml, code, path) => {
    const findings = check(yaml);
    expect(hasErrors(findings) || findings.some((f) => f.severity === 'warning')).toBe(true);
    expect(findings.map((f) => `${f.code} ${f.path}`)).toContain(`${code} ${path}`);
    const hit = findings.find((f) => f.code === code && f.path === path);
    expect(hit?.message.length).toBeGreaterThan(5);
    expect(hit?.hint).toBeTruthy();
  });

  it('reports every problem at once, with lines', () => {
    const findings = check(`version: 1
networks:
  - name: a
    driver: macvlan
    port: eth1
    vlan: 5000
    ipv4: { subnet: 198.18.110.0/24, gateway: 198.18.111.1 }
  - name: b
    driver: bridge
    colour: blue
`);
    expect(findings.map((f) => f.code).sort()).toEqual(['GATEWAY_OUTSIDE_SUBNET', 'UNKNOWN_KEY', 'VLAN_RANGE']);
    const unknown = findings.find((f) => f.code === 'UNKNOWN_KEY');
    expect(unknown).toMatchObject({ path: 'networks[1].colour', line: 10 });
    expect(findings.find((f) => f.code === 'VLAN_RANGE')).toMatchObject({ line: 6, column: 11 });
  });

  it('suggests the key that was meant', () => {
    const f = check(mv('    prot: eth1\n')).find((x) => x.code === 'UNKNOWN_KEY');
    expect(f?.hint).toBe('Did you mean "port"?');
  });

  it('warns, without an error, about an attachment to a network that is not in the plan', () => {
    const findings = check(`version: 1\nattachments:\n  - { container: a, network: existing-net }\n`);
    expect(hasErrors(findings)).toBe(false);
    expect(findings[0]).toMatchObject({ severity: 'warning', code: 'NETWORK_NOT_IN_PLAN' });
  });

  it('refuses a YAML bomb without expanding it', () => {
    let bomb = 'a: &a [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 0; i < 8; i++)
      bomb += `l${i}: &l${i} [${Array(9)
        .fill(i ? `*l${i - 1}` : '*a')
        .join(', ')}]\n`;
    expect(check(bomb).map((f) => f.code)).toEqual(['PLAN_TOO_MANY_ALIASES']);
  });

  it('refuses a file over the size limit', () => {
    expect(check(`version: 1\n# ${'x'.repeat(1024 * 1024)}\n`).map((f) => f.code)).toEqual(['PLAN_TOO_LARGE']);
  });

  it('reads the same plan written as JSON', () => {
    const parsed = parsePlanText(VALID);
    const json = JSON.stringify(parsed.plan);
    expect(check(json).filter((f) => f.severity === 'error')).toEqual([]);
    expect(parsePlanText(json).plan).toEqual(parsed.plan);
  });
});
