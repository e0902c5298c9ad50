// Reads a plan file defensively (size, aliases, duplicate keys, one document) and turns every
// shape problem into a finding with its path and line; what parses is handed on to the checker.
import YAML, { isMap, isScalar, LineCounter, type Document } from 'yaml';
import type { z } from 'zod';
import { formatPath } from '../errors.js';
import { Findings, type Finding, type PathKey } from './findings.js';
import { KNOWN_KEYS, attachmentSchema, planNetworkSchema, planSchema, type Plan } from './schema.js';

export const MAX_PLAN_BYTES = 1024 * 1024;
/** A plan has no reason for many aliases; a few thousand expansions is what a YAML bomb needs. */
export const MAX_ALIASES = 50;

/** What the checker works on: a plan whose broken entries are null, so paths keep their indexes. */
export interface PlanDraft {
  name?: string;
  prune?: boolean;
  networks: (Plan['networks'][number] | null)[];
  attachments: (Plan['attachments'][number] | null)[];
}

export interface ParsedPlan {
  /** Set when the whole file matched the schema. */
  plan?: Plan;
  /** The usable parts, also when some entries are broken (null when the file is unusable). */
  draft: PlanDraft | null;
  findings: Finding[];
  /** Line and column of a path in the source text. */
  locate: (path: readonly PathKey[]) => { line: number; column: number } | undefined;
}

/** Edit distance with adjacent transpositions (optimal string alignment): "prot" is one step from "port". */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = v;
    }
  }
  return at(x.length, y.length);
}

function keysAt(path: readonly PathKey[]): readonly string[] {
  const [a, , c] = path;
  if (path.length === 0) return KNOWN_KEYS.plan;
  if (a === 'networks' && path.length === 2) return KNOWN_KEYS.network;
  if (a === 'networks' && (c === 'ipv4' || c === 'ipv6')) return KNOWN_KEYS.addressing;
  if (a === 'networks' && c === 'hostAccess') return KNOWN_KEYS.hostAccess;
  if (a === 'attachments') return KNOWN_KEYS.attachment;
  return [];
}

export function unknownKeyHint(path: readonly PathKey[], key: string): string {
  const known = keysAt(path);
  const close = known
    .map((k) => ({ k, d: editDistance(key, k) }))
    .filter(({ d }) => d <= Math.max(1, Math.floor(key.length / 3)))
    .sort((x, y) => x.d - y.d)[0];
  if (close) return `Did you mean "${close.k}"?`;
  return known.length ? `Allowed here: ${known.join(', ')}.` : 'Remove it.';
}

const typeName = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'a mapping'
        : `${typeof v} ${JSON.stringify(v)}`;

/** Every zod issue as a finding with a stable code. */
export function schemaFindings(error: z.ZodError, out: Findings, base: readonly PathKey[] = []): void {
  for (const issue of error.issues) {
    const path = [...base, ...issue.path.filter((p): p is PathKey => typeof p !== 'symbol')];
    const field = formatPath(path) || 'the plan';
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys)
          out.error([...path, key], 'UNKNOWN_KEY', `"${key}" is not a plan field here`, unknownKeyHint(path, key));
        break;
      case 'invalid_type':
        if (issue.input === undefined)
          out.error(path, 'REQUIRED', `${field} is required`, `Add ${String(path.at(-1) ?? 'it')}.`);
        else
          out.error(
            path,
            'WRONG_TYPE',
            `${issue.message} (found ${typeName(issue.input)})`,
            `Expected ${issue.expected}.`,
          );
        break;
      case 'invalid_value':
        if (issue.input === undefined)
          out.error(path, 'REQUIRED', `${field} is required`, `Add ${String(path.at(-1) ?? 'it')}.`);
        else if (path.length === 1 && path[0] === 'version')
          out.error(
            path,
            'UNSUPPORTED_VERSION',
            `plan version ${JSON.stringify(issue.input)} is not supported`,
            'Write version: 1.',
          );
        else
          out.error(
            path,
            'INVALID_VALUE',
            `${field} is ${JSON.stringify(issue.input)}`,
            `Use one of: ${issue.values.map((v) => String(v)).join(', ')}.`,
          );
        break;
      default:
        out.error(path, 'INVALID_VALUE', `${field}: ${issue.message}`);
    }
  }
}

/** A copy without the keys the schema does not know (already reported), so the rest can still be checked. */
function known(value: unknown, keys: readonly string[], nested: Record<string, readonly string[]> = {}): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => keys.includes(k))
      .map(([k, v]) => [k, nested[k] ? known(v, nested[k]) : v]),
  );
}

function salvage<T>(
  items: unknown,
  schema: z.ZodType<T>,
  keys: readonly string[],
  nested: Record<string, readonly string[]> = {},
): (T | null)[] {
  if (!Array.isArray(items)) return [];
  return items.map((item) => {
    const r = schema.safeParse(known(item, keys, nested));
    return r.success ? r.data : null;
  });
}

function locator(doc: Document | null, lines: LineCounter) {
  return (path: readonly PathKey[]): { line: number; column: number } | undefined => {
    if (!doc || path.length === 0) return undefined;
    // Point an unknown key at the key itself; anything else at its value (or its parent's key).
    const parent = doc.getIn(path.slice(0, -1), true);
    const last = path.at(-1);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
      const node = pair?.value ?? pair?.key;
      const at = (node as { range?: [number, number, number] } | undefined)?.range?.[0];
      if (at !== undefined) {
        const { line, col } = lines.linePos(at);
        return { line, column: col };
      }
    }
    const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const at = node?.range?.[0] ?? (parent as { range?: [number, number, number] } | undefined)?.range?.[0];
    if (at === undefined) return undefined;
    const { line, col } = lines.linePos(at);
    return { line, column: col };
  };
}

function fromData(data: unknown, out: Findings): { plan?: Plan; draft: PlanDraft | null } {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    out.error(
      [],
      'PLAN_NOT_A_MAPPING',
      `the plan is ${typeTextOf(data)}, not a mapping`,
      'A plan starts with "version: 1" and lists networks and attachments.',
    );
    return { draft: null };
  }
  const parsed = planSchema.safeParse(data, { reportInput: true });
  if (parsed.success) return { plan: parsed.data, draft: parsed.data };
  schemaFindings(parsed.error, out);
  const raw = data as Record<string, unknown>;
  return {
    draft: {
      ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
      ...(typeof raw.prune === 'boolean' ? { prune: raw.prune } : {}),
      networks: salvage(raw.networks, planNetworkSchema, KNOWN_KEYS.network, {
        ipv4: KNOWN_KEYS.addressing,
        ipv6: KNOWN_KEYS.addressing,
        hostAccess: KNOWN_KEYS.hostAccess,
      }),
      attachments: salvage(raw.attachments, attachmentSchema, KNOWN_KEYS.attachment),
    },
  };
}

function typeTextOf(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  return Array.isArray(v) ? 'a list' : `a ${typeof v}`;
}

/** Parses YAML or JSON text (JSON is read as YAML: one parser, one set of limits). */
export function parsePlanText(text: string): ParsedPlan {
  const out = new Findings();
  const lines = new LineCounter();
  const noLocation = (): undefined => undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PLAN_BYTES) {
    out.error(
      [],
      'PLAN_TOO_LARGE',
      `the plan is ${bytes} bytes; the limit is ${MAX_PLAN_BYTES}`,
      'A plan lists networks and attachments; split very large ones per device.',
    );
    return { draft: null, findings: out.list, locate: noLocation };
  }
  let doc: Document;
  try {
    doc = YAML.parseDocument(text, {
      lineCounter: lines,
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
      schema: 'core',
    });
  } catch (e) {
    out.error([], 'PLAN_SYNTAX', `the plan cannot be read: ${(e as Error).message}`);
    return { draft: null, findings: out.list, locate: noLocation };
  }
  const locate = locator(doc, lines);
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const code = e.code === 'DUPLICATE_KEY' ? 'DUPLICATE_KEY' : 'PLAN_SYNTAX';
      const message = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? 'syntax error';
      const f: Finding = {
        severity: 'error',
        code,
        path: '',
        message: code === 'DUPLICATE_KEY' ? 'a key appears twice in the same mapping' : message,
        hint: code === 'DUPLICATE_KEY' ? 'Keep one of them.' : 'Check the indentation and quoting around this line.',
      };
      const pos = e.linePos?.[0];
      if (pos) Object.assign(f, { line: pos.line, column: pos.col });
      out.list.push(f);
    }
    return { draft: null, findings: out.list, locate };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    if (e instanceof ReferenceError) {
      out.error(
        [],
        'PLAN_TOO_MANY_ALIASES',
        'the plan expands too many YAML aliases',
        `At most ${MAX_ALIASES} alias expansions; write the values out.`,
      );
      return { draft: null, findings: out.list, locate };
    }
    throw e;
  }
  const result = fromData(data, out);
  return { ...result, findings: withPositions(out.list, locate), locate };
}

/** `networks[1].ipv4.gateway` → ['networks', 1, 'ipv4', 'gateway'] */
export function pathOf(path: string): PathKey[] {
  const keys: PathKey[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) keys.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? ''));
  return keys;
}

/** For plans that arrive as data (the GUI, JSON over IPC): the same findings, without lines. */
export function parsePlanData(data: unknown): ParsedPlan {
  const out = new Findings();
  const result = fromData(data, out);
  return { ...result, findings: out.list, locate: () => undefined };
}

/** Findings with the line and column of their path filled in (for the checker's findings too). */
export function withPositions(findings: Finding[], locate: ParsedPlan['locate']): Finding[] {
  return findings.map((f) => {
    if (f.line !== undefined || !f.path) return f;
    const pos = locate(pathOf(f.path));
    return pos ? { ...f, ...pos } : f;
  });
}
