// The real Electron app, through Playwright's _electron. Runs only where an Electron binary exists:
// this machine cannot download one, so here it is skipped with the reason.
import { _electron as electron, expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppPage } from '../pages/app-page';

function electronBinary(): { path?: string; why?: string } {
  if (process.env.ELECTRON_PATH) {
    return existsSync(process.env.ELECTRON_PATH)
      ? { path: process.env.ELECTRON_PATH }
      : { why: `ELECTRON_PATH=${process.env.ELECTRON_PATH} does not exist` };
  }
  const dir = join(process.cwd(), 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) {
    return {
      why: 'no Electron binary: node_modules/electron/path.txt is missing (the binary could not be downloaded here); set ELECTRON_PATH to run these',
    };
  }
  const binary = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary)
    ? { path: binary }
    : { why: `no Electron binary at ${binary}; set ELECTRON_PATH to run these` };
}

const binary = electronBinary();
test.skip(!binary.path, binary.why ?? '');

test('opens one secure window whose page reaches the core over IPC', async () => {
  const main = join(process.cwd(), 'out', 'main', 'index.js');
  test.skip(!existsSync(main), 'run `npm run build` first (out/main/index.js missing)');
  const app = await electron.launch({
    executablePath: binary.path,
    args: [main, '--no-sandbox'],
    env: { ...process.env, PORTWRIGHT_HOME: join(process.cwd(), 'test-results', 'electron-home') },
  });
  try {
    const page = await app.firstWindow();
    const ui = new AppPage(page);
    await expect(ui.heading).toHaveText('Portwright');
    await expect(ui.coreStatus).toContainText(/Core \d+\.\d+\.\d+ · electron/);
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
    // Isolated and sandboxed: no Node in the page, and the bridge offers only the contract's methods.
    const page_ = await page.evaluate(() => ({
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      api: Object.keys((window as unknown as { api: object }).api).sort(),
    }));
    expect(page_).toMatchObject({ require: 'undefined', process: 'undefined' });
    // One method per contract method, plus on(): the same table the CLI and serve bind.
    expect(page_.api).toEqual(expect.arrayContaining(['appInfo', 'deviceAdd', 'planCheck', 'planApply', 'on']));
    await ui.screenshot('electron-main');
  } finally {
    await app.close();
  }
});
