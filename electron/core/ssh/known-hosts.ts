// Reads the user's OpenSSH known_hosts (never writes it) so devices already trusted in ssh are trusted here.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodePublicKey, fingerprintSha256 } from './fingerprint.js';

export type HostPatterns =
  { kind: 'hashed'; salt: Buffer; hash: Buffer } | { kind: 'patterns'; patterns: { glob: string; negated: boolean }[] };

export interface KnownHostsEntry {
  source: string;
  /** 1-based, as an editor shows it. */
  line: number;
  marker: 'revoked' | 'cert-authority' | undefined;
  hosts: HostPatterns;
  type: string;
  blob: Buffer;
  fingerprint: string;
}

export interface KnownHostsProblem {
  source: string;
  /** 1-based; 0 when the whole file could not be read. */
  line: number;
  reason: string;
}

export interface ParsedKnownHosts {
  entries: KnownHostsEntry[];
  /** Lines skipped: one bad line must not hide the good ones, nor pass silently. */
  problems: KnownHostsProblem[];
}

export interface KnownKey {
  type: string;
  blob: Buffer;
  fingerprint: string;
  line: number;
  source: string;
}

export interface LookupResult {
  keys: KnownKey[];
  revoked: KnownKey[];
}

export const DEFAULT_KNOWN_HOSTS = ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];

const SHA1_LENGTH = 20;

export function parseKnownHosts(text: string, source = 'known_hosts'): ParsedKnownHosts {
  const result: ParsedKnownHosts = { entries: [], problems: [] };
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const parsed = parseLine(trimmed);
    if ('reason' in parsed) result.problems.push({ source, line: index + 1, reason: parsed.reason });
    else result.entries.push({ source, line: index + 1, ...parsed });
  });
  return result;
}

type ParsedLine = Omit<KnownHostsEntry, 'source' | 'line'>;

function parseLine(text: string): ParsedLine | { reason: string } {
  const fields = text.split(/\s+/);
  let marker: KnownHostsEntry['marker'];
  if (fields[0]?.startsWith('@')) {
    const name = fields.shift();
    if (name === '@revoked') marker = 'revoked';
    else if (name === '@cert-authority') marker = 'cert-authority';
    else return { reason: `unknown marker ${name}` };
  }
  const [hostField, type, base64] = fields;
  if (!hostField || !type || !base64) return { reason: 'expected "hosts keytype base64-key [comment]"' };
  const hosts = parseHosts(hostField);
  if ('reason' in hosts) return hosts;
  const key = decodePublicKey(type, base64);
  if ('reason' in key) return key;
  return { marker, hosts, type: key.type, blob: key.blob, fingerprint: fingerprintSha256(key.blob) };
}

function parseHosts(field: string): HostPatterns | { reason: string } {
  if (field.startsWith('|')) {
    const [, magic, salt64, hash64, ...rest] = field.split('|');
    const salt = Buffer.from(salt64 ?? '', 'base64');
    const hash = Buffer.from(hash64 ?? '', 'base64');
    if (magic !== '1' || rest.length > 0 || salt.length !== SHA1_LENGTH || hash.length !== SHA1_LENGTH) {
      return { reason: 'hashed host name is not "|1|salt|hash"' };
    }
    return { kind: 'hashed', salt, hash };
  }
  const patterns = field
    .split(',')
    .filter((p) => p !== '')
    .map((p) => (p.startsWith('!') ? { glob: p.slice(1), negated: true } : { glob: p, negated: false }));
  if (patterns.length === 0) return { reason: 'no host names' };
  return { kind: 'patterns', patterns };
}

/** How ssh names a host in known_hosts: bare on port 22, `[host]:port` elsewhere. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

export function hostMatches(hosts: HostPatterns, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (hosts.kind === 'hashed') {
    const digest = createHmac('sha1', hosts.salt).update(name).digest();
    return timingSafeEqual(digest, hosts.hash);
  }
  let matched = false;
  for (const { glob, negated } of hosts.patterns) {
    if (!globToRegExp(glob).test(name)) continue;
    // As in OpenSSH, one matching negation vetoes the whole line whatever else matches.
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.+()[\]{}|/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}

export function lookupKnownHosts(entries: KnownHostsEntry[], host: string, port: number): LookupResult {
  const result: LookupResult = { keys: [], revoked: [] };
  for (const entry of entries) {
    // A @cert-authority line trusts a CA to sign host certificates; the key it holds is not the
    // host's own key, and ssh2 does not do host certificates, so it must never match a plain key.
    if (entry.marker === 'cert-authority') continue;
    if (!hostMatches(entry.hosts, host, port)) continue;
    const { type, blob, fingerprint, line, source } = entry;
    (entry.marker === 'revoked' ? result.revoked : result.keys).push({ type, blob, fingerprint, line, source });
  }
  return result;
}

/** Reads the user's known_hosts files; a missing file is normal, an unreadable one is reported. */
export async function loadUserKnownHosts(paths: string[] = DEFAULT_KNOWN_HOSTS): Promise<ParsedKnownHosts> {
  const result: ParsedKnownHosts = { entries: [], problems: [] };
  for (const path of paths) {
    const source = path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
    let text: string;
    try {
      text = await readFile(source, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      result.problems.push({ source, line: 0, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    const parsed = parseKnownHosts(text, source);
    result.entries.push(...parsed.entries);
    result.problems.push(...parsed.problems);
  }
  return result;
}
