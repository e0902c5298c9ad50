// Where the inventory lives on each platform.
import { describe, expect, it } from 'vitest';
import { appDataDir, storePath } from './paths.js';

describe('inventory location', () => {
  it('uses PORTWRIGHT_HOME on every platform when it is set', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(appDataDir({ PORTWRIGHT_HOME: '/srv/pw' }, platform, '/home/ana')).toBe('/srv/pw');
    }
  });

  it('follows XDG_CONFIG_HOME on Linux and falls back to ~/.config', () => {
    expect(appDataDir({ XDG_CONFIG_HOME: '/cfg' }, 'linux', '/home/ana')).toBe('/cfg/portwright');
    expect(appDataDir({}, 'linux', '/home/ana')).toBe('/home/ana/.config/portwright');
  });

  it('ignores a relative XDG_CONFIG_HOME, as the XDG spec requires', () => {
    expect(appDataDir({ XDG_CONFIG_HOME: 'cfg' }, 'linux', '/home/ana')).toBe('/home/ana/.config/portwright');
  });

  it('uses Application Support on macOS and %APPDATA% on Windows', () => {
    expect(appDataDir({}, 'darwin', '/Users/ana')).toBe('/Users/ana/Library/Application Support/Portwright');
    expect(appDataDir({ APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ana')).toBe(
      'C:\\Users\\ana\\AppData\\Roaming\\Portwright',
    );
  });

  it('names the database file portwright.db inside that folder', () => {
    expect(storePath('/srv/pw')).toBe('/srv/pw/portwright.db');
  });
});
