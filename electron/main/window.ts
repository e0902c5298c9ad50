// The one window, locked down per Electron's security checklist.
import { BrowserWindow, session, shell, type WebContents } from 'electron';
import { join } from 'node:path';

/** Links the app may open in the user's browser; everything else is refused. */
const EXTERNAL_ALLOW = [/^https:\/\/docs\.docker\.com\//];

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function rendererUrl(outDir: string): string {
  return `file://${join(outDir, 'renderer', 'index.html')}`;
}

export function isOwnPage(url: string, outDir: string): boolean {
  return url.split('#')[0] === rendererUrl(outDir);
}

export function hardenSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
}

function lockNavigation(wc: WebContents, outDir: string): void {
  wc.on('will-navigate', (event, url) => {
    if (!isOwnPage(url, outDir)) event.preventDefault();
  });
  wc.on('will-attach-webview', (event) => event.preventDefault());
  wc.setWindowOpenHandler(({ url }) => {
    if (EXTERNAL_ALLOW.some((re) => re.test(url))) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

export function createMainWindow(outDir: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Portwright',
    webPreferences: {
      preload: join(outDir, 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  lockNavigation(win.webContents, outDir);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(rendererUrl(outDir));
  return win;
}
