// Opening the inventory: private files, WAL, schema migrations, and refusing a newer schema.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from './db.js';
import { applyMigrations, currentVersion, latestVersion, type Migration } from './migrations.js';
import { tempStore, thrown, type TempStore } from './test-store.js';

const posixOnly = process.platform === 'win32' ? it.skip : it;

describe('opening the inventory', () => {
  let t: TempStore;
  afterEach(() => t.cleanup());

  posixOnly('creates its folder readable only by the user (0700) and the file 0600', () => {
    t = tempStore();
    expect(statSync(path.dirname(t.file)).mode & 0o777).toBe(0o700);
    expect(statSync(t.file).mode & 0o777).toBe(0o600);
    t.store.audit({ action: 'test.write', result: 'ok' });
    expect(statSync(`${t.file}-wal`).mode & 0o777).toBe(0o600);
  });

  posixOnly('makes an existing, too-open inventory file private again', () => {
    t = tempStore();
    t.store.close();
    const loose = path.join(t.dir, 'loose.db');
    writeFileSync(loose, '', { mode: 0o644 });
    openStore(loose).close();
    expect(statSync(loose).mode & 0o777).toBe(0o600);
  });

  it('keeps the file in WAL mode, so the app and the CLI can use it at the same time', () => {
    t = tempStore();
    t.store.close();
    const db = new Database(t.file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('records every applied migration and applies none twice', () => {
    t = tempStore();
    t.store.close();
    openStore(t.file).close();
    const db = new Database(t.file, { readonly: true });
    const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    db.close();
    expect(rows).toEqual(Array.from({ length: latestVersion() }, (_, i) => ({ version: i + 1 })));
  });

  it('refuses a database written by a newer Portwright, and says to update', () => {
    t = tempStore();
    t.store.close();
    const db = new Database(t.file);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(latestVersion() + 1, 'later');
    db.close();

    const error = thrown(() => openStore(t.file));
    expect(error.code).toBe('STORE_TOO_NEW');
    expect(error.message).toContain(`schema version ${latestVersion() + 1}`);
    expect(error.hint).toMatch(/Update Portwright/);
  });

  it('says a file that is not a database is not an inventory, instead of crashing', () => {
    t = tempStore();
    const junk = path.join(t.dir, 'junk.db');
    writeFileSync(junk, 'this is not sqlite, just some text that is long enough to look like a header'.repeat(20));
    expect(thrown(() => openStore(junk)).code).toBe('STORE_UNREADABLE');
    expect(readFileSync(junk, 'utf8')).toMatch(/^this is not sqlite/);
  });
});

describe('schema migrations', () => {
  const steps: Migration[] = [
    { version: 1, description: 'a', up: 'CREATE TABLE a (x INTEGER)' },
    { version: 2, description: 'b', up: 'CREATE TABLE b (y INTEGER)' },
  ];

  it('applies pending migrations in order and only those', () => {
    const db = new Database(':memory:');
    expect(applyMigrations(db, steps.slice(0, 1))).toEqual([1]);
    expect(applyMigrations(db, steps)).toEqual([2]);
    expect(applyMigrations(db, steps)).toEqual([]);
    expect(currentVersion(db)).toBe(2);
    db.close();
  });

  it('leaves the database untouched when a migration fails', () => {
    const db = new Database(':memory:');
    const broken = [...steps, { version: 3, description: 'bad', up: 'CREATE TABLE c (; nonsense' }];
    expect(() => applyMigrations(db, broken)).toThrow();
    expect(currentVersion(db)).toBe(0);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name IN ('a', 'b')").all()).toEqual([]);
    db.close();
  });

  it('refuses a migration list with gaps, a programming error caught before any change', () => {
    const db = new Database(':memory:');
    expect(() => applyMigrations(db, [steps[1]!])).toThrow(/expected 1/);
    db.close();
  });
});

describe('remembered channel strategy', () => {
  it('keeps how a device was reached, and forgets it with the device', () => {
    const { store, cleanup } = tempStore();
    try {
      store.addDevice({ name: 'cam1', host: '198.18.0.10', auth: 'agent' });
      expect(store.getChannel('cam1')).toBeUndefined();
      store.rememberChannel('cam1', 'dial-stdio', '/var/run/docker.sock');
      store.rememberChannel('CAM1', 'socat', '/var/run/balena-engine.sock');
      expect(store.getChannel('cam1')).toEqual({ strategy: 'socat', socketPath: '/var/run/balena-engine.sock' });
      store.removeDevice('cam1');
      expect(store.getChannel('cam1')).toBeUndefined();
      expect(() => store.rememberChannel('cam1', 'nc', '/x')).toThrow(/no device named/);
    } finally {
      cleanup();
    }
  });
});
