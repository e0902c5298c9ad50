// The plan format, defined once: this zod schema types the planner, checks files and generates
// docs/plan.schema.json. Only shapes live here; what the values mean is checked in check.ts,
// where every problem gets a stable code and a hint.
import { z } from 'zod';

export const DRIVERS = ['bridge', 'macvlan', 'ipvlan'] as const;
export type Driver = (typeof DRIVERS)[number];

/** Docker's own networks: never created, changed or removed by a plan. */
export const PREDEFINED_NETWORKS: readonly string[] = ['bridge', 'host', 'none'];

export const MODES: Record<Driver, readonly string[]> = {
  bridge: [],
  macvlan: ['bridge', 'vepa', 'private', 'passthru'],
  ipvlan: ['l2', 'l3', 'l3s'],
};

const text = (what: string) => z.string({ error: `${what} must be text` });

export const addressingSchema = z
  .strictObject({
    subnet: text('the subnet').describe('The network in CIDR notation, e.g. 198.18.110.0/24 or fd00:110::/64.'),
    gateway: text('the gateway')
      .optional()
      .describe('The gateway address containers use; inside the subnet. Not for ipvlan l3/l3s.'),
    range: text('the range')
      .optional()
      .describe('A CIDR inside the subnet from which Docker hands out dynamic addresses.'),
    exclude: z
      .array(text('an excluded address'))
      .optional()
      .describe('Addresses in the subnet Docker must never hand out (other hosts on the field network).'),
  })
  .describe('Addressing of one IP family.');

export const hostAccessSchema = z
  .strictObject({
    address: text('the host access address').describe(
      "The device's own address on the network, on a macvlan shim interface (IPv4).",
    ),
    interface: text('the shim interface name')
      .optional()
      .describe('Name of the shim interface; default pw-<network>, at most 15 characters.'),
  })
  .describe('macvlan only: a shim interface on the device so the device itself can reach its macvlan containers.');

export const planNetworkSchema = z
  .strictObject({
    name: text('the network name').describe('The Docker network name.'),
    driver: z.enum(DRIVERS).describe('bridge, macvlan or ipvlan.'),
    port: text('the port')
      .optional()
      .describe('The hardware port (parent interface) for macvlan and ipvlan, e.g. eth1. Not for bridge.'),
    vlan: z
      .int({ error: 'the VLAN id must be a whole number' })
      .optional()
      .describe('802.1Q VLAN id 1-4094: the parent becomes <port>.<vlan>.'),
    mode: text('the mode')
      .optional()
      .describe('macvlan: bridge (default), vepa, private, passthru; ipvlan: l2 (default), l3, l3s.'),
    ipv4: addressingSchema.optional(),
    ipv6: addressingSchema.optional(),
    mtu: z.int({ error: 'the MTU must be a whole number' }).optional().describe('MTU of the network.'),
    internal: z.boolean({ error: 'internal must be true or false' }).optional().describe('No route out.'),
    hostAccess: hostAccessSchema.optional(),
    labels: z
      .record(z.string(), text('a label value'))
      .optional()
      .describe('Extra Docker labels; the dev.portwright.* labels are set by Portwright.'),
  })
  .describe('One Docker network.');

export const attachmentSchema = z
  .strictObject({
    container: text('the container').describe('Container name or id.'),
    network: text('the network').describe('A network of this plan, or one already on the device.'),
    ipv4: text('the IPv4 address').optional().describe('Static IPv4 address.'),
    ipv6: text('the IPv6 address').optional().describe('Static IPv6 address.'),
    aliases: z.array(text('an alias')).optional().describe('DNS aliases on this network.'),
  })
  .describe('A container connected to a network, optionally at a static address.');

export const planSchema = z
  .strictObject({
    version: z.literal(1, { error: 'this Portwright reads plan version 1' }).describe('Always 1.'),
    name: text('the plan name')
      .optional()
      .describe('Names the plan in labels and the audit log; default: the file name.'),
    prune: z
      .boolean({ error: 'prune must be true or false' })
      .optional()
      .describe('Remove networks Portwright created earlier that this plan no longer lists.'),
    networks: z.array(planNetworkSchema).default([]),
    attachments: z.array(attachmentSchema).default([]),
  })
  .describe('A Portwright network plan.');

export type Plan = z.output<typeof planSchema>;
export type PlanNetwork = z.output<typeof planNetworkSchema>;
export type PlanAttachment = z.output<typeof attachmentSchema>;
export type Addressing = z.output<typeof addressingSchema>;

/** Keys allowed in each kind of object, for "did you mean" hints on unknown keys. */
export const KNOWN_KEYS = {
  plan: Object.keys(planSchema.shape),
  network: Object.keys(planNetworkSchema.shape),
  addressing: Object.keys(addressingSchema.shape),
  hostAccess: Object.keys(hostAccessSchema.shape),
  attachment: Object.keys(attachmentSchema.shape),
};

/** The JSON Schema of the plan file (written into docs/ by scripts/gen-plan-schema.ts). */
export function planJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://portwright.dev/schema/plan-v1.json',
    title: 'Portwright plan',
    ...z.toJSONSchema(planSchema, { io: 'input', target: 'draft-2020-12' }),
  };
}
