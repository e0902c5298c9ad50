// The layer rules of ARCHITECTURE.md are enforced by lint: these probes must be refused (or allowed).
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

// Probe files do not exist on disk, so type-aware rules are off; the import rules need no types.
const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: [tseslint.configs.disableTypeChecked] });

async function importErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports' || m.ruleId === 'no-restricted-globals')
    .map((m) => m.message);
}

describe('layer rules', () => {
  it('keeps Electron out of electron/core', async () => {
    const errors = await importErrors(
      'electron/core/probe.ts',
      "import { app } from 'electron';\nexport const a = app;\n",
    );
    expect(errors.join('\n')).toMatch(/electron\/core is pure Node/);
  });

  it('keeps the DOM out of electron/core', async () => {
    const errors = await importErrors('electron/core/probe.ts', 'export const t = document.title;\n');
    expect(errors.join('\n')).toMatch(/No DOM in electron\/core/);
  });

  it('keeps Node modules and core runtime code out of the renderer, but allows core types', async () => {
    const errors = await importErrors(
      'renderer/src/probe.ts',
      [
        "import { readFileSync } from 'node:fs';",
        "import { Service } from '../../electron/core/service';",
        "import type { Api } from '../../electron/core/contract';",
        'export const x = [readFileSync, Service];',
        'export type A = Api;',
      ].join('\n'),
    );
    expect(errors).toHaveLength(2);
    expect(errors.join('\n')).toMatch(/No Node modules in the renderer/);
    expect(errors.join('\n')).toMatch(/never runtime code/);
  });

  it('keeps electron out of the renderer', async () => {
    const errors = await importErrors(
      'renderer/src/probe.ts',
      "import { ipcRenderer } from 'electron';\nexport const i = ipcRenderer;\n",
    );
    expect(errors.join('\n')).toMatch(/through src\/api.ts only/);
  });
});
