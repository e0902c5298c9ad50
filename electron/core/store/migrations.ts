// The inventory's schema as an ordered list of migrations, and the one way to bring a database up to date.
import type Database from 'better-sqlite3';
import { PortwrightError } from '../errors.js';

export interface Migration {
  /** 1, 2, 3... in order; a released migration is never edited, only followed by a new one. */
  version: number;
  description: string;
  up: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'devices, trusted host keys, append-only audit log, encrypted secrets',
    up: `
      CREATE TABLE devices (
        -- NOCASE: "Cam1" and "cam1" would be one device to a person, so they are one here too.
        name TEXT PRIMARY KEY COLLATE NOCASE,
        host TEXT NOT NULL,
        port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
        user TEXT NOT NULL,
        auth TEXT NOT NULL CHECK (auth IN ('key', 'agent', 'password', 'keyboard-interactive')),
        identity_file TEXT,
        jump TEXT,
        docker_socket TEXT,
        tags TEXT NOT NULL,
        notes TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE host_keys (
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        key_type TEXT NOT NULL,
        key_base64 TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        added_at TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('accepted', 'pinned', 'repinned')),
        PRIMARY KEY (host, port, key_type)
      ) STRICT;

      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        device TEXT COLLATE NOCASE,
        action TEXT NOT NULL,
        detail TEXT NOT NULL,
        result TEXT NOT NULL CHECK (result IN ('ok', 'failed', 'rolled-back')),
        error TEXT
      ) STRICT;
      CREATE INDEX audit_log_device_at ON audit_log (device, at);
      CREATE INDEX audit_log_at ON audit_log (at);

      -- The log is evidence of what was done to a device; the database itself refuses to rewrite it.
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

      CREATE TABLE secrets (
        account TEXT PRIMARY KEY,
        blob BLOB NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'how each device was reached last time (channel strategy and Docker socket)',
    up: `
      CREATE TABLE device_channels (
        device TEXT PRIMARY KEY COLLATE NOCASE REFERENCES devices (name) ON DELETE CASCADE ON UPDATE CASCADE,
        strategy TEXT NOT NULL CHECK (strategy IN ('stream-local', 'dial-stdio', 'socat', 'nc')),
        socket_path TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
    `,
  },
];

export function latestVersion(list: readonly Migration[] = migrations): number {
  return list.at(-1)?.version ?? 0;
}

export function currentVersion(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const row = db.prepare<[], { v: number | null }>('SELECT max(version) AS v FROM schema_migrations').get();
  return row?.v ?? 0;
}

/**
 * Applies the pending migrations in one immediate transaction, so two processes opening the same
 * file (app and CLI) cannot both migrate, and a failing migration leaves the file as it was.
 */
export function applyMigrations(
  db: Database.Database,
  list: readonly Migration[] = migrations,
  now: () => Date = () => new Date(),
): number[] {
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}, expected ${i + 1}`);
  });
  const run = db.transaction((): number[] => {
    const from = currentVersion(db);
    const known = latestVersion(list);
    if (from > known) throw tooNew(from, known);
    const pending = list.filter((m) => m.version > from);
    const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    for (const m of pending) {
      db.exec(m.up);
      record.run(m.version, now().toISOString());
    }
    return pending.map((m) => m.version);
  });
  return run.immediate();
}

function tooNew(found: number, known: number): PortwrightError {
  return new PortwrightError({
    code: 'STORE_TOO_NEW',
    message: `the inventory was written by a newer Portwright (schema version ${found}; this version knows up to ${known})`,
    hint: 'Update Portwright to open it, or set PORTWRIGHT_HOME to another folder to start a separate inventory.',
  });
}
