// Electron main: lifecycle, the single window, and the core service bound to IPC.
import { app, type BrowserWindow, ipcMain, Menu, safeStorage } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Service } from '../core/service.js';
import { bindService, forwardEvents } from './ipc.js';
import { SafeStorageSecretStore } from './secret-store.js';
import { createMainWindow, hardenSession, isOwnPage } from './window.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..');

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  if (process.env.PORTWRIGHT_HOME) app.setPath('userData', process.env.PORTWRIGHT_HOME);
  // Passwords the user asks to keep go to the OS keyring through safeStorage, never into the inventory.
  const service = new Service({
    frontEnd: 'electron',
    secrets: (store) => new SafeStorageSecretStore(safeStorage, store),
  });
  let win: BrowserWindow | undefined;

  app.on('second-instance', () => {
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isOwnPage(url, outDir)) event.preventDefault();
    });
  });
  app.on('window-all-closed', () => app.quit());

  void app.whenReady().then(() => {
    hardenSession();
    Menu.setApplicationMenu(
      Menu.buildFromTemplate([
        { role: 'fileMenu' },
        { role: 'editMenu' },
        { role: 'viewMenu' },
        { role: 'windowMenu' },
        { role: 'help', submenu: [{ label: `Portwright ${app.getVersion()}`, enabled: false }] },
      ]),
    );
    bindService(ipcMain, service, (event) => {
      const frame = event.senderFrame;
      return !!frame && !!win && event.sender === win.webContents && isOwnPage(frame.url, outDir);
    });
    win = createMainWindow(outDir);
    forwardEvents(service, () => win?.webContents, ['log', 'connection', 'progress']);
  });
}
