import { describe, expect, it } from 'vitest';
import { formatErrorLine, formatPath, PortwrightError } from './errors.js';
import { Service } from './service.js';

describe('core service', () => {
  const service = new Service({ frontEnd: 'cli' });

  it('answers appInfo with the package version and the front end', async () => {
    const result = await service.invoke('appInfo', {});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.data).toMatchObject({ name: 'Portwright', frontEnd: 'cli' });
    expect((result.data as { version: string }).version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses input the schema does not allow, saying where', async () => {
    const result = await service.invoke('appInfo', { surprise: 1 });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('refuses a method that does not exist instead of throwing', async () => {
    const result = await service.invoke('dropDatabase', {});
    expect(result).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
  });

  it('does not treat Object.prototype names as methods', async () => {
    const result = await service.invoke('toString', {});
    expect(result).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
  });
});

describe('error formatting', () => {
  it('writes a one-line error with code, path and hint', () => {
    const line = formatErrorLine(
      new PortwrightError({
        code: 'SUBNET_OVERLAP',
        message: 'overlaps bridge',
        hint: 'pick another',
        path: 'networks[1].ipv4',
      }).toInfo(),
    );
    expect(line).toBe('error SUBNET_OVERLAP at networks[1].ipv4: overlaps bridge. Hint: pick another');
    expect(line).not.toContain('\n');
  });

  it('formats zod paths like the plan documents them', () => {
    expect(formatPath(['networks', 1, 'ipv4', 'gateway'])).toBe('networks[1].ipv4.gateway');
  });
});
