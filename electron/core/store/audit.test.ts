// The audit log: what was done to which device, append-only, and never holding a secret.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { redactSecrets } from './redact.js';
import { steppingClock, tempStore, thrown, type TempStore } from './test-store.js';

describe('secret scrubbing', () => {
  it('replaces values under secret-sounding keys at any depth, in objects and arrays', () => {
    expect(
      redactSecrets({
        host: 'gw',
        auth: { Password: 'p1', keyPassphrase: 'p2', list: [{ apiToken: 't' }, { private_key: 'k' }] },
        clientSecret: { nested: 'whole value goes' },
        dbCredentials: ['a'],
        port: 22,
      }),
    ).toEqual({
      host: 'gw',
      auth: {
        Password: '[redacted]',
        keyPassphrase: '[redacted]',
        list: [{ apiToken: '[redacted]' }, { private_key: '[redacted]' }],
      },
      clientSecret: '[redacted]',
      dbCredentials: '[redacted]',
      port: 22,
    });
  });
});

describe('audit log', () => {
  let t: TempStore;
  afterEach(() => t.cleanup());

  it('lists entries newest first, by device, since a time, and up to a limit', () => {
    t = tempStore({ now: steppingClock('2025-01-01T00:00:00.000Z') });
    t.store.audit({ device: 'gw-01', action: 'network.create', detail: { name: 'fieldbus' }, result: 'ok' });
    const second = t.store.audit({
      device: 'cam-1',
      action: 'network.create',
      result: 'failed',
      error: { code: 'X', message: 'm' },
    });
    const third = t.store.audit({ device: 'gw-01', action: 'plan.apply', result: 'rolled-back' });

    expect(t.store.listAudit().map((e) => e.action)).toEqual(['plan.apply', 'network.create', 'network.create']);
    expect(t.store.listAudit({ device: 'gw-01' }).map((e) => e.result)).toEqual(['rolled-back', 'ok']);
    expect(t.store.listAudit({ since: second.at.replace('.000Z', '+00:00') })).toEqual([third, second]);
    expect(t.store.listAudit({ limit: 1 })).toEqual([third]);
    expect(third).toMatchObject({ id: 3, detail: {} });
    expect(t.store.listAudit({ device: 'cam-1' })[0]?.error).toEqual({ code: 'X', message: 'm' });
  });

  it('cannot be edited or deleted, even with plain SQL on the file', () => {
    t = tempStore();
    t.store.audit({ device: 'gw-01', action: 'network.create', result: 'ok' });
    t.store.close();
    const db = new Database(t.file);
    try {
      expect(() => db.prepare("UPDATE audit_log SET result = 'failed'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
      expect(db.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('never writes a nested password to the database file', () => {
    t = tempStore();
    const secret = 'correct-horse-battery-staple-4711';
    t.store.audit({
      device: 'gw-01',
      action: 'device.connect',
      detail: { host: 'gw', options: { auth: [{ password: secret }], sudo: { passphrase: secret } } },
      result: 'ok',
    });
    expect(JSON.stringify(t.store.listAudit())).not.toContain(secret);
    t.store.close();
    // Every file SQLite may have written (main file, -wal, -shm), byte for byte.
    const dir = path.dirname(t.file);
    for (const name of readdirSync(dir)) {
      expect(readFileSync(path.join(dir, name)).includes(secret), name).toBe(false);
    }
    expect(readFileSync(t.file).includes('[redacted]')).toBe(true);
  });

  it('refuses an entry with an unknown result or a malformed action', () => {
    t = tempStore();
    expect(thrown(() => t.store.audit({ action: 'x', result: 'maybe' as 'ok' })).path).toBe('result');
    expect(thrown(() => t.store.audit({ action: 'Drop Table', result: 'ok' })).path).toBe('action');
  });
});
