import { describe, expect, it } from 'vitest';
import { main } from './index.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('portwright CLI', () => {
  it('prints its version', async () => {
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('lists its commands in --help', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: portwright');
    expect(r.out).toContain('info');
  });

  it('exits 2 with a usage hint on an unknown command', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command 'frobnicate'");
    expect(r.err).toContain('portwright --help');
  });

  it('prints info as JSON for scripts', async () => {
    const r = await cli('info', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ name: 'Portwright', frontEnd: 'cli' });
  });
});
