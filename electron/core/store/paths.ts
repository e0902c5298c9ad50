// Where Portwright keeps its inventory on this computer, per platform convention.
import os from 'node:os';
import path from 'node:path';

export function appDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  // An explicit home wins everywhere: tests, portable installs, and one inventory per customer.
  if (env.PORTWRIGHT_HOME) return env.PORTWRIGHT_HOME;
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'Portwright');
  if (platform === 'win32') {
    const appData = env.APPDATA || path.win32.join(home, 'AppData', 'Roaming');
    return path.win32.join(appData, 'Portwright');
  }
  // XDG says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  const configHome = xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(home, '.config');
  return path.posix.join(configHome, 'portwright');
}

export function storePath(dir: string = appDataDir()): string {
  return path.join(dir, 'portwright.db');
}
