// Writes docs/plan.schema.json from the plan's zod schema (run: npx tsx scripts/gen-plan-schema.ts).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { planJsonSchema } from '../electron/core/plan/schema.js';

export const SCHEMA_FILE = fileURLToPath(new URL('../docs/plan.schema.json', import.meta.url));

export function schemaText(): string {
  return `${JSON.stringify(planJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_FILE, schemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
