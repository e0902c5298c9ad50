// The documentation stays true: the generated JSON Schema is current, every finding code the
// checker can produce is documented, and the examples check clean.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPlanText } from '../electron/core/plan/check.js';
import { SCHEMA_FILE, schemaText } from '../scripts/gen-plan-schema.js';

const read = (p: string): string => readFileSync(new URL(p, import.meta.url), 'utf8');

describe('plan documentation', () => {
  it('ships the JSON Schema generated from the current plan schema', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaText());
  });

  it('documents every code the checker can report', () => {
    const doc = read('../docs/plan-format.md');
    const source = read('../electron/core/plan/check.ts') + read('../electron/core/plan/parse.ts');
    const codes = new Set([...source.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|REQUIRED)'/g)].map((m) => m[1]));
    for (const f of ['MACVLAN', 'IPVLAN', 'VLAN']) codes.add(`KERNEL_NO_${f}`);
    const missing = [...codes].filter((c) => c && !doc.includes(`\`${c}\``));
    expect(missing).toEqual([]);
  });

  it('has examples that check without errors', () => {
    const dir = new URL('../docs/examples/', import.meta.url);
    const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const { findings } = checkPlanText(readFileSync(new URL(f, dir), 'utf8'));
      expect(
        findings.filter((x) => x.severity === 'error'),
        f,
      ).toEqual([]);
    }
  });
});
