// The shapes the inventory accepts (devices, host keys, audit entries), checked with zod at its door.
import { z } from 'zod';

export const deviceNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a device name is 1-64 letters, digits, ".", "_" or "-"');

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}\\.?$)${LABEL}(?:\\.${LABEL})*\\.?$`);

/** A DNS name; an all-digit last label is refused so a mistyped IPv4 like 10.0.0.256 is not read as a name. */
export function isHostname(value: string): boolean {
  return HOSTNAME.test(value) && !/(?:^|\.)\d+\.?$/.test(value);
}

/** IPv6, optionally with a zone (`fe80::1%eth0`): link-local is how many devices are first reached. */
export function isIpv6(value: string): boolean {
  const [address = '', zone, extra] = value.split('%');
  if (extra !== undefined || (zone !== undefined && !/^[A-Za-z0-9._-]{1,32}$/.test(zone))) return false;
  return z.ipv6().safeParse(address).success;
}

export const hostSchema = z
  .string()
  .min(1, 'the host is empty')
  .refine(
    (h) => z.ipv4().safeParse(h).success || isIpv6(h) || isHostname(h),
    'the host must be a hostname, an IPv4 or an IPv6 address, without spaces',
  )
  // DNS names are case-insensitive; one spelling keeps host keys from being asked for twice.
  .transform((h) => (h.includes('%') ? h.replace(/^[^%]*/, (a) => a.toLowerCase()) : h.toLowerCase()));

export const portSchema = z.int('the port must be a whole number').min(1).max(65535);

export const userSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/, 'a user name is 1-32 letters, digits, "_", "." or "-"');

export const authMethodSchema = z.enum(['key', 'agent', 'password', 'keyboard-interactive']);

const filePathSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path cannot contain a NUL byte');

export const jumpHostSchema = z.strictObject({
  user: userSchema.default('root'),
  host: hostSchema,
  port: portSchema.default(22),
});

export const tagSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,31}$/, 'a tag is 1-32 letters, digits, ".", "_", ":", "/" or "-"');

const tagsSchema = z
  .array(tagSchema)
  .max(32)
  .transform((tags) => [...new Set(tags)]);

const notesSchema = z.string().max(4000);
const dockerSocketSchema = filePathSchema.refine((p) => p.startsWith('/'), 'the Docker socket is an absolute path');

// No field holds a password: secrets live in a SecretStore, and strictness refuses keys we do not know.
const deviceFields = {
  host: hostSchema,
  port: portSchema,
  user: userSchema,
  auth: authMethodSchema,
  identityFile: filePathSchema,
  jump: jumpHostSchema,
  dockerSocket: dockerSocketSchema,
  tags: tagsSchema,
  notes: notesSchema,
};

function requireIdentityForKeyAuth(d: { auth: string; identityFile?: string | undefined }, ctx: z.RefinementCtx): void {
  if (d.auth === 'key' && !d.identityFile) {
    ctx.addIssue({ code: 'custom', path: ['identityFile'], message: 'auth "key" needs an identityFile' });
  }
}

export const deviceInputSchema = z
  .strictObject({
    name: deviceNameSchema,
    host: deviceFields.host,
    port: deviceFields.port.default(22),
    user: deviceFields.user.default('root'),
    auth: deviceFields.auth,
    identityFile: deviceFields.identityFile.optional(),
    jump: deviceFields.jump.optional(),
    dockerSocket: deviceFields.dockerSocket.optional(),
    tags: deviceFields.tags.default([]),
    notes: deviceFields.notes.default(''),
  })
  .superRefine(requireIdentityForKeyAuth);

/** A change to a device; `null` clears an optional field. The name is the key and is not patched. */
export const devicePatchSchema = z.strictObject({
  host: deviceFields.host.optional(),
  port: deviceFields.port.optional(),
  user: deviceFields.user.optional(),
  auth: deviceFields.auth.optional(),
  identityFile: deviceFields.identityFile.nullable().optional(),
  jump: deviceFields.jump.nullable().optional(),
  dockerSocket: deviceFields.dockerSocket.nullable().optional(),
  tags: deviceFields.tags.optional(),
  notes: deviceFields.notes.optional(),
});

export type DeviceInput = z.input<typeof deviceInputSchema>;
export type DevicePatch = z.input<typeof devicePatchSchema>;
export type DeviceSettings = z.output<typeof deviceInputSchema>;
export type AuthMethod = z.output<typeof authMethodSchema>;
export type JumpHost = z.output<typeof jumpHostSchema>;

export interface Device extends DeviceSettings {
  createdAt: string;
  updatedAt: string;
}

export const hostKeyTypeSchema = z.string().regex(/^[a-z0-9][a-z0-9@.-]{0,63}$/, 'not an SSH key type');

export const hostKeyInputSchema = z.strictObject({
  host: hostSchema,
  port: portSchema.default(22),
  /** Checked against the type inside the key blob; taken from it when left out. */
  keyType: hostKeyTypeSchema.optional(),
  keyBase64: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'the key must be base64 without spaces'),
  /** The device this trust decision was made for, for the audit log. */
  device: deviceNameSchema.optional(),
});

export const hostKeySourceSchema = z.enum(['accepted', 'pinned', 'repinned']);

export const trustHostKeyInputSchema = hostKeyInputSchema.extend({
  source: hostKeySourceSchema.exclude(['repinned']).default('accepted'),
});

export type HostKeyInput = z.input<typeof hostKeyInputSchema>;
export type TrustHostKeyInput = z.input<typeof trustHostKeyInputSchema>;
export type HostKeySource = z.output<typeof hostKeySourceSchema>;

export interface TrustedHostKey {
  host: string;
  port: number;
  keyType: string;
  keyBase64: string;
  /** `SHA256:` + unpadded base64 of the key blob's digest, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  addedAt: string;
  source: HostKeySource;
}

export const auditResultSchema = z.enum(['ok', 'failed', 'rolled-back']);

const errorInfoSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  path: z.string().optional(),
  detail: z.string().optional(),
});

export const auditEntryInputSchema = z.strictObject({
  /** Null for actions not about one device (e.g. trusting a jump host's key). */
  device: deviceNameSchema.nullable().default(null),
  action: z.string().regex(/^[a-z][a-z0-9.-]{0,63}$/, 'an action is dotted lower-case, e.g. "network.create"'),
  detail: z.unknown().default({}),
  result: auditResultSchema,
  error: errorInfoSchema.optional(),
});

export const auditQuerySchema = z.strictObject({
  device: deviceNameSchema.optional(),
  limit: z.int().min(1).max(10_000).default(100),
  /** Entries at or after this instant. */
  since: z.iso
    .datetime({ offset: true })
    .transform((s) => new Date(s).toISOString())
    .optional(),
});

export type AuditEntryInput = z.input<typeof auditEntryInputSchema>;
export type AuditQuery = z.input<typeof auditQuerySchema>;
export type AuditResult = z.output<typeof auditResultSchema>;

export interface AuditEntry {
  id: number;
  at: string;
  device: string | null;
  action: string;
  detail: unknown;
  result: AuditResult;
  error?: z.output<typeof errorInfoSchema>;
}

export { parseInput } from '../errors.js';
