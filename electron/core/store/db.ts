// The inventory on disk: one SQLite file holding devices, trusted host keys, the audit log and
// encrypted secret blobs, opened with its schema brought up to date.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PortwrightError } from '../errors.js';
import { fingerprintOf, readHostKey } from './host-keys.js';
import { applyMigrations } from './migrations.js';
import { redactSecrets } from './redact.js';
import {
  auditEntryInputSchema,
  auditQuerySchema,
  deviceInputSchema,
  deviceNameSchema,
  devicePatchSchema,
  hostKeyInputSchema,
  hostSchema,
  parseInput,
  portSchema,
  trustHostKeyInputSchema,
  type AuditEntry,
  type AuditEntryInput,
  type AuditQuery,
  type Device,
  type DeviceInput,
  type DevicePatch,
  type DeviceSettings,
  type HostKeyInput,
  type HostKeySource,
  type TrustedHostKey,
  type TrustHostKeyInput,
} from './schemas.js';
import type { SecretBlobStore } from './secret-store.js';

export interface StoreOptions {
  /** The clock for timestamps; tests pass a fixed one. */
  now?: () => Date;
}

export function openStore(file: string, options: StoreOptions = {}): Store {
  createPrivateFile(file);
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // Deleted rows (a removed device, a replaced secret blob) are zeroed, not left in free pages.
    db.pragma('secure_delete = ON');
    applyMigrations(db, undefined, options.now);
  } catch (e) {
    db.close();
    throw translateOpenError(e, file);
  }
  return new Store(db, options.now ?? (() => new Date()));
}

/** The folder is private (0700) and the file is private (0600); SQLite gives its -wal and -shm files the same mode. */
function createPrivateFile(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  if (process.platform !== 'win32') chmodSync(file, 0o600);
}

function translateOpenError(e: unknown, file: string): unknown {
  if (e instanceof Database.SqliteError && (e.code === 'SQLITE_NOTADB' || e.code === 'SQLITE_CORRUPT')) {
    return new PortwrightError({
      code: 'STORE_UNREADABLE',
      message: `${file} is not a Portwright inventory (${e.message})`,
      hint: 'Move the file aside to start a new inventory, or set PORTWRIGHT_HOME to another folder.',
    });
  }
  return e;
}

interface DeviceRow {
  name: string;
  host: string;
  port: number;
  user: string;
  auth: Device['auth'];
  identity_file: string | null;
  jump: string | null;
  docker_socket: string | null;
  tags: string;
  notes: string;
  created_at: string;
  updated_at: string;
}

interface HostKeyRow {
  host: string;
  port: number;
  key_type: string;
  key_base64: string;
  fingerprint: string;
  added_at: string;
  source: HostKeySource;
}

interface AuditRow {
  id: number;
  at: string;
  device: string | null;
  action: string;
  detail: string;
  result: AuditEntry['result'];
  error: string | null;
}

export class Store implements SecretBlobStore {
  /** Use openStore(); this takes an already migrated connection. */
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date,
  ) {}

  close(): void {
    this.db.close();
  }

  // --- devices ---

  addDevice(input: DeviceInput): Device {
    const settings = parseInput(deviceInputSchema, input);
    const at = this.now().toISOString();
    try {
      this.db
        .prepare(
          `INSERT INTO devices (name, host, port, user, auth, identity_file, jump, docker_socket, tags, notes, created_at, updated_at)
           VALUES (@name, @host, @port, @user, @auth, @identity_file, @jump, @docker_socket, @tags, @notes, @at, @at)`,
        )
        .run({ ...deviceColumns(settings), at });
    } catch (e) {
      if (e instanceof Database.SqliteError && e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new PortwrightError({
          code: 'DEVICE_EXISTS',
          path: 'name',
          message: `a device named "${settings.name}" already exists`,
          hint: `Pick another name, or change it with \`portwright device update ${settings.name}\`.`,
        });
      }
      throw e;
    }
    return this.requireDevice(settings.name);
  }

  getDevice(name: string): Device | undefined {
    const row = this.db
      .prepare<[string], DeviceRow>('SELECT * FROM devices WHERE name = ?')
      .get(parseInput(deviceNameSchema, name));
    return row && deviceFromRow(row);
  }

  listDevices(): Device[] {
    return this.db.prepare<[], DeviceRow>('SELECT * FROM devices ORDER BY name').all().map(deviceFromRow);
  }

  updateDevice(name: string, patch: DevicePatch): Device {
    const changes = parseInput(devicePatchSchema, patch);
    return this.db.transaction(() => {
      const current = this.requireDevice(name);
      // The merged device is checked as a whole, so a patch cannot leave it inconsistent (key auth without a key).
      const merged = parseInput(deviceInputSchema, applyPatch(current, changes));
      this.db
        .prepare(
          `UPDATE devices SET host = @host, port = @port, user = @user, auth = @auth, identity_file = @identity_file,
             jump = @jump, docker_socket = @docker_socket, tags = @tags, notes = @notes, updated_at = @at
           WHERE name = @name`,
        )
        .run({ ...deviceColumns(merged), at: this.now().toISOString() });
      return this.requireDevice(merged.name);
    })();
  }

  /** Removes a device and returns what it was. Its host keys stay: another device may share the host. */
  removeDevice(name: string): Device {
    return this.db.transaction(() => {
      const device = this.requireDevice(name);
      this.db.prepare('DELETE FROM devices WHERE name = ?').run(device.name);
      return device;
    })();
  }

  /** The saved device, or DEVICE_NOT_FOUND with the way to list them. */
  requireDevice(name: string): Device {
    const device = this.getDevice(name);
    if (!device) {
      throw new PortwrightError({
        code: 'DEVICE_NOT_FOUND',
        message: `no device named "${name}"`,
        hint: 'See the known devices with `portwright device list`.',
      });
    }
    return device;
  }

  /** How the device was reached last time: that strategy is tried first next time. */
  getChannel(name: string): { strategy: string; socketPath: string } | undefined {
    return this.db
      .prepare<[string], { strategy: string; socketPath: string }>(
        'SELECT strategy, socket_path AS socketPath FROM device_channels WHERE device = ?',
      )
      .get(name);
  }

  rememberChannel(name: string, strategy: string, socketPath: string): void {
    this.db
      .prepare(
        `INSERT INTO device_channels (device, strategy, socket_path, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (device) DO UPDATE SET strategy = excluded.strategy, socket_path = excluded.socket_path,
           updated_at = excluded.updated_at`,
      )
      .run(this.requireDevice(name).name, strategy, socketPath, this.now().toISOString());
  }

  // --- trusted host keys ---

  /**
   * Trusts a key for host:port on the user's explicit yes (or a pinned fingerprint). Trusting the
   * same key again is harmless; a different key of the same type is refused, never replaced.
   */
  trustHostKey(input: TrustHostKeyInput): TrustedHostKey {
    const { host, port, keyBase64, source, device, keyType: claimed } = parseInput(trustHostKeyInputSchema, input);
    const { keyType } = readHostKey(keyBase64, claimed);
    const offered = fingerprintOf(Buffer.from(keyBase64, 'base64'));
    const existing = this.hostKey(host, port, keyType);
    if (existing?.keyBase64 === keyBase64) return existing;
    if (existing) {
      const error = hostKeyChanged(host, port, keyType, existing.fingerprint, offered);
      // A changed key may be an attack in progress: it goes on the record even though nothing changes.
      this.audit({
        device: device ?? null,
        action: 'host-key.trust',
        detail: { host, port, keyType, trustedFingerprint: existing.fingerprint, offeredFingerprint: offered },
        result: 'failed',
        error: error.toInfo(),
      });
      throw error;
    }
    return this.db.transaction(() => {
      const key = this.writeHostKey({ host, port, keyType, keyBase64, fingerprint: offered, source }, 'insert');
      this.audit({
        device: device ?? null,
        action: 'host-key.trust',
        detail: { host, port, keyType, fingerprint: offered, source },
        result: 'ok',
      });
      return key;
    })();
  }

  /** The explicit replacement of a trusted key (device reinstalled, key regenerated), recorded with both fingerprints. */
  repinHostKey(input: HostKeyInput): TrustedHostKey {
    const { host, port, keyBase64, device, keyType: claimed } = parseInput(hostKeyInputSchema, input);
    const { keyType } = readHostKey(keyBase64, claimed);
    const fingerprint = fingerprintOf(Buffer.from(keyBase64, 'base64'));
    return this.db.transaction(() => {
      const old = this.hostKey(host, port, keyType);
      const key = this.writeHostKey({ host, port, keyType, keyBase64, fingerprint, source: 'repinned' }, 'replace');
      this.audit({
        device: device ?? null,
        action: 'host-key.repin',
        detail: { host, port, keyType, oldFingerprint: old?.fingerprint ?? null, newFingerprint: fingerprint },
        result: 'ok',
      });
      return key;
    })();
  }

  getTrustedHostKeys(host: string, port = 22): TrustedHostKey[] {
    return this.db
      .prepare<[string, number], HostKeyRow>('SELECT * FROM host_keys WHERE host = ? AND port = ? ORDER BY key_type')
      .all(parseInput(hostSchema, host), parseInput(portSchema, port))
      .map(hostKeyFromRow);
  }

  /** Forgets every key of host:port (so the next connection asks again) and returns what was forgotten. */
  forgetHostKeys(host: string, port = 22): TrustedHostKey[] {
    return this.db.transaction(() => {
      const keys = this.getTrustedHostKeys(host, port);
      if (keys.length === 0) return keys;
      this.db.prepare('DELETE FROM host_keys WHERE host = ? AND port = ?').run(keys[0]?.host, keys[0]?.port);
      this.audit({
        device: null,
        action: 'host-key.forget',
        detail: { host: keys[0]?.host, port: keys[0]?.port, fingerprints: keys.map((k) => k.fingerprint) },
        result: 'ok',
      });
      return keys;
    })();
  }

  private hostKey(host: string, port: number, keyType: string): TrustedHostKey | undefined {
    const row = this.db
      .prepare<[string, number, string], HostKeyRow>(
        'SELECT * FROM host_keys WHERE host = ? AND port = ? AND key_type = ?',
      )
      .get(host, port, keyType);
    return row && hostKeyFromRow(row);
  }

  /** Only a re-pin replaces; a plain trust inserts, so a key trusted meanwhile by another process is never overwritten. */
  private writeHostKey(key: Omit<TrustedHostKey, 'addedAt'>, mode: 'insert' | 'replace'): TrustedHostKey {
    const full: TrustedHostKey = { ...key, addedAt: this.now().toISOString() };
    this.db
      .prepare(
        `INSERT ${mode === 'replace' ? 'OR REPLACE ' : ''}INTO host_keys (host, port, key_type, key_base64, fingerprint, added_at, source)
         VALUES (@host, @port, @keyType, @keyBase64, @fingerprint, @addedAt, @source)`,
      )
      .run(full);
    return full;
  }

  // --- audit log ---

  /** Appends one entry; `detail` is scrubbed of secret-named keys before it reaches the file. */
  audit(entry: AuditEntryInput): AuditEntry {
    const { device, action, detail, result, error } = parseInput(auditEntryInputSchema, entry);
    const row = {
      at: this.now().toISOString(),
      device,
      action,
      detail: JSON.stringify(redactSecrets(detail)),
      result,
      error: error ? JSON.stringify(error) : null,
    };
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO audit_log (at, device, action, detail, result, error)
         VALUES (@at, @device, @action, @detail, @result, @error)`,
      )
      .run(row);
    return auditFromRow({ ...row, id: Number(lastInsertRowid) });
  }

  /** Newest first. */
  listAudit(query: AuditQuery = {}): AuditEntry[] {
    const { device, limit, since } = parseInput(auditQuerySchema, query);
    const where = [device !== undefined && 'device = @device', since !== undefined && 'at >= @since'].filter(Boolean);
    return this.db
      .prepare<{ device?: string; since?: string; limit: number }, AuditRow>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY at DESC, id DESC LIMIT @limit`,
      )
      .all({ limit, ...(device !== undefined && { device }), ...(since !== undefined && { since }) })
      .map(auditFromRow);
  }

  // --- encrypted secret blobs (see SecretBlobStore) ---

  getSecretBlob(account: string): Buffer | undefined {
    return this.db.prepare<[string], { blob: Buffer }>('SELECT blob FROM secrets WHERE account = ?').get(account)?.blob;
  }

  setSecretBlob(account: string, blob: Buffer): void {
    this.db
      .prepare(
        `INSERT INTO secrets (account, blob, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (account) DO UPDATE SET blob = excluded.blob, updated_at = excluded.updated_at`,
      )
      .run(account, blob, this.now().toISOString());
  }

  deleteSecretBlob(account: string): void {
    this.db.prepare('DELETE FROM secrets WHERE account = ?').run(account);
  }
}

function hostKeyChanged(host: string, port: number, keyType: string, trusted: string, offered: string) {
  return new PortwrightError({
    code: 'HOST_KEY_CHANGED',
    message: `the ${keyType} host key of ${host}:${port} has changed: trusted ${trusted}, now offered ${offered}`,
    hint:
      'If the device was reinstalled or its key regenerated, check the new fingerprint on the device itself ' +
      'and re-pin it; otherwise someone may be intercepting the connection.',
  });
}

function deviceColumns(d: DeviceSettings) {
  return {
    name: d.name,
    host: d.host,
    port: d.port,
    user: d.user,
    auth: d.auth,
    identity_file: d.identityFile ?? null,
    jump: d.jump ? JSON.stringify(d.jump) : null,
    docker_socket: d.dockerSocket ?? null,
    tags: JSON.stringify(d.tags),
    notes: d.notes,
  };
}

function deviceFromRow(row: DeviceRow): Device {
  const device: Device = {
    name: row.name,
    host: row.host,
    port: row.port,
    user: row.user,
    auth: row.auth,
    tags: JSON.parse(row.tags) as string[],
    notes: row.notes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.identity_file !== null) device.identityFile = row.identity_file;
  if (row.jump !== null) device.jump = JSON.parse(row.jump) as Device['jump'];
  if (row.docker_socket !== null) device.dockerSocket = row.docker_socket;
  return device;
}

/** `null` in a patch clears the field; a missing key leaves it alone. Timestamps are not settings. */
function applyPatch(current: Device, patch: DevicePatch): Record<string, unknown> {
  const given = Object.entries(patch).filter(([, value]) => value !== undefined);
  const merged: Record<string, unknown> = { ...current, ...Object.fromEntries(given) };
  return Object.fromEntries(
    Object.entries(merged).filter(([key, value]) => value != null && key !== 'createdAt' && key !== 'updatedAt'),
  );
}

function hostKeyFromRow(row: HostKeyRow): TrustedHostKey {
  return {
    host: row.host,
    port: row.port,
    keyType: row.key_type,
    keyBase64: row.key_base64,
    fingerprint: row.fingerprint,
    addedAt: row.added_at,
    source: row.source,
  };
}

function auditFromRow(row: AuditRow): AuditEntry {
  const entry: AuditEntry = {
    id: row.id,
    at: row.at,
    device: row.device,
    action: row.action,
    detail: JSON.parse(row.detail) as unknown,
    result: row.result,
  };
  if (row.error !== null) entry.error = JSON.parse(row.error) as NonNullable<AuditEntry['error']>;
  return entry;
}
