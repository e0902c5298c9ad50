// Address and prefix arithmetic for the planner: strict parsing through ipaddr.js, then plain
// bigint ranges so v4 and v6 share one set of comparisons.
import ipaddr from 'ipaddr.js';

export type Family = 4 | 6;

export interface Address {
  family: Family;
  value: bigint;
  /** Canonical text (RFC 5952 for v6). */
  text: string;
}

export interface Cidr {
  family: Family;
  prefix: number;
  /** The first and last address of the block. */
  first: bigint;
  last: bigint;
  /** The address as written had bits set beyond the prefix (`198.18.1.5/24`). */
  hostBitsSet: boolean;
  /** Canonical network text, e.g. `198.18.1.0/24`. */
  text: string;
}

const bitsOf = (family: Family): number => (family === 4 ? 32 : 128);

function toBigInt(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

export function formatAddress(family: Family, value: bigint): string {
  const n = family === 4 ? 4 : 16;
  const bytes: number[] = [];
  for (let i = n - 1; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  const ip = ipaddr.fromByteArray(bytes);
  return ip instanceof ipaddr.IPv6 ? ip.toRFC5952String() : ip.toString();
}

/** A plain address: dotted quad (no octal, hex or short forms) or IPv6 without a zone. */
export function parseAddress(text: string): Address | null {
  const s = text.trim();
  if (s !== text || s === '') return null;
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) {
    const value = toBigInt(ipaddr.IPv4.parse(s).toByteArray());
    return { family: 4, value, text: formatAddress(4, value) };
  }
  if (s.includes(':') && !s.includes('%') && ipaddr.IPv6.isValid(s)) {
    const value = toBigInt(ipaddr.IPv6.parse(s).toByteArray());
    return { family: 6, value, text: formatAddress(6, value) };
  }
  return null;
}

export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const addr = parseAddress(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!addr || !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  const bits = bitsOf(addr.family);
  if (prefix > bits) return null;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const first = addr.value & ~hostMask;
  return {
    family: addr.family,
    prefix,
    first,
    last: first | hostMask,
    hostBitsSet: (addr.value & hostMask) !== 0n,
    text: `${formatAddress(addr.family, first)}/${prefix}`,
  };
}

/** A CIDR from an address and prefix length (an interface's address, a route). */
export function cidrOf(address: string, prefix: number): Cidr | null {
  return parseCidr(`${address}/${prefix}`);
}

export function contains(block: Cidr, addr: Address): boolean {
  return block.family === addr.family && addr.value >= block.first && addr.value <= block.last;
}

export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && inner.first >= outer.first && inner.last <= outer.last;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** IPv4 blocks of /30 and wider reserve their first and last address; /31, /32 and v6 do not. */
export function isReserved(block: Cidr, addr: Address): boolean {
  if (block.family !== 4 || block.prefix >= 31) return false;
  return addr.value === block.first || addr.value === block.last;
}

/** The number of addresses in a block, as a number when it fits (for messages). */
export function sizeOf(block: Cidr): bigint {
  return block.last - block.first + 1n;
}

export function nthAddress(block: Cidr, n: bigint): string {
  return formatAddress(block.family, block.first + n);
}
