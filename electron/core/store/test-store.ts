// For this folder's tests: a real inventory file in a fresh temp folder, removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PortwrightError } from '../errors.js';
import { openStore, type Store, type StoreOptions } from './db.js';

export interface TempStore {
  store: Store;
  dir: string;
  file: string;
  cleanup: () => void;
}

export function tempStore(options: StoreOptions = {}): TempStore {
  const dir = mkdtempSync(path.join(tmpdir(), 'portwright-store-'));
  const file = path.join(dir, 'inventory', 'portwright.db');
  const store = openStore(file, options);
  return {
    store,
    dir,
    file,
    cleanup: () => {
      try {
        store.close();
      } catch {
        // already closed by the test
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A clock that moves one second per reading, so timestamps differ and order is stable. */
export function steppingClock(start = '2025-01-01T00:00:00.000Z'): () => Date {
  let t = Date.parse(start);
  return () => new Date((t += 1000));
}

/** Runs `fn` and returns the PortwrightError it throws; fails the test if it throws nothing or something else. */
export function thrown(fn: () => unknown): PortwrightError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PortwrightError) return e;
    throw e;
  }
  throw new Error('expected a PortwrightError');
}
