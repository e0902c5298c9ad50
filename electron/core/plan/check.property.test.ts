import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { checkPlan, checkPlanText } from './check.js';
import { parsePlanData } from './parse.js';

// Values near the edges of what is valid: real addresses, broken ones, other families, odd types.
const address = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('198.18.110.1', '198.18.110.0', '198.18.110.255', 'fd00::1', '1.2.3', '::', 'x'),
);
const cidr = fc.oneof(
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 33 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 129 })).map(([a, p]) => `${a}/${p}`),
  fc.constantFrom('198.18.110.0/24', '198.18.110.128/25', 'fd00:110::/64', '198.18.0.0/15', 'nope'),
);
const addressing = fc.record(
  { subnet: cidr, gateway: address, range: cidr, exclude: fc.array(address, { maxLength: 3 }) },
  { requiredKeys: ['subnet'] },
);
const name = fc.oneof(fc.constantFrom('a', 'b', 'field-a', 'bridge', ''), fc.string({ maxLength: 20 }));
const network = fc.record(
  {
    name,
    driver: fc.constantFrom('bridge', 'macvlan', 'ipvlan', 'overlay'),
    port: fc.constantFrom('eth0', 'eth1', 'wlan0', 'enx001122334455', 'a b'),
    vlan: fc.oneof(fc.integer({ min: -2, max: 4200 }), fc.constant('7')),
    mode: fc.constantFrom('bridge', 'vepa', 'private', 'passthru', 'l2', 'l3', 'l3s', 'x'),
    ipv4: addressing,
    ipv6: addressing,
    mtu: fc.integer({ min: 0, max: 70000 }),
    internal: fc.boolean(),
    hostAccess: fc.record({ address }),
    extra: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);
const attachment = fc.record(
  {
    container: fc.constantFrom('plc', 'hmi', '/plc', 'a b', ''),
    network: name,
    ipv4: address,
    ipv6: address,
    aliases: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const plan = fc.record(
  {
    version: fc.constantFrom(1, 1, 1, 2, '1'),
    prune: fc.boolean(),
    networks: fc.array(network, { maxLength: 4 }),
    attachments: fc.array(attachment, { maxLength: 4 }),
  },
  { requiredKeys: ['version'] },
);

describe('plan checker properties', () => {
  it('never throws on random plans, and every finding has a code, a message and a severity', () => {
    fc.assert(
      fc.property(plan, (p) => {
        const parsed = parsePlanData(p);
        const findings = [...parsed.findings, ...(parsed.draft ? checkPlan(parsed.draft) : [])];
        for (const f of findings) {
          expect(f.code).toMatch(/^[A-Z0-9_]+$/);
          expect(f.message.length).toBeGreaterThan(0);
          expect(['error', 'warning', 'notice']).toContain(f.severity);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('gives the same findings for the same plan, as data or as YAML text', () => {
    fc.assert(
      fc.property(plan, (p) => {
        const fromData = parsePlanData(p);
        const a = [...fromData.findings, ...(fromData.draft ? checkPlan(fromData.draft) : [])];
        const b = checkPlanText(stringify(p)).findings;
        const key = (f: { code: string; path: string; message: string }): string => `${f.code} ${f.path} ${f.message}`;
        expect(b.map(key)).toEqual(a.map(key));
        expect(checkPlanText(stringify(p)).findings).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        expect(Array.isArray(checkPlanText(text).findings)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
