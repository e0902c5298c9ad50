import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from './store/db.js';
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

describe('inventory through the service', () => {
  it('records adding and removing a device in the audit log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-service-'));
    const file = join(dir, 'portwright.db');
    const service = new Service({ frontEnd: 'cli', storeFile: file, knownHostsPaths: [] });
    try {
      const added = await service.invoke('deviceAdd', {
        device: { name: 'press-7', host: '198.18.0.10', auth: 'agent', tags: ['hall-b'] },
      });
      expect(added).toMatchObject({ ok: true, data: { name: 'press-7', port: 22, user: 'root', trustedHostKeys: [] } });
      expect(await service.invoke('deviceList', {})).toMatchObject({ ok: true, data: [{ name: 'press-7' }] });
      expect(await service.invoke('deviceRemove', { name: 'press-7' })).toMatchObject({ ok: true });
      expect(await service.invoke('deviceShow', { name: 'press-7' })).toMatchObject({
        ok: false,
        error: { code: 'DEVICE_NOT_FOUND' },
      });
      service.dispose();
      const store = openStore(file);
      try {
        expect(store.listAudit({ device: 'press-7' }).map((e) => e.action)).toEqual(['device.remove', 'device.add']);
      } finally {
        store.close();
      }
    } finally {
      service.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a device with a password field, naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-service-'));
    const service = new Service({ frontEnd: 'cli', storeFile: join(dir, 'portwright.db'), knownHostsPaths: [] });
    try {
      const r = await service.invoke('deviceAdd', {
        device: { name: 'x', host: '198.18.0.10', auth: 'password', password: 'hunter2' },
      });
      expect(r).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', path: 'device.password' } });
    } finally {
      service.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
