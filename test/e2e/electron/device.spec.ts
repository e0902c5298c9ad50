// The device flow of ../device.spec.ts in the real Electron app (the core in the main process, over
// IPC): add the lab device, trust its key on an explicit yes, see its ports. Runs only where an
// Electron binary and the lab exist; elsewhere it is skipped with the reason.
import { _electron as electron, expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppPage } from '../pages/app-page';
import { DevicesPage, labDevice } from '../pages/devices-page';

function electronBinary(): string | undefined {
  if (process.env.ELECTRON_PATH) return existsSync(process.env.ELECTRON_PATH) ? process.env.ELECTRON_PATH : undefined;
  const dir = join(process.cwd(), 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const binary = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : undefined;
}

const binary = electronBinary();
const device = labDevice();
test.skip(!binary, 'no Electron binary (it cannot be downloaded here); set ELECTRON_PATH to run these');
test.skip(!device, process.env.PW_E2E_SKIP ?? 'no lab device');

test('adds the lab device in Electron, trusting its key on an explicit yes, and sees its ports', async () => {
  if (!binary || !device) return;
  const main = join(process.cwd(), 'out', 'main', 'index.js');
  test.skip(!existsSync(main), 'run `npm run build` first (out/main/index.js missing)');
  const home = mkdtempSync(join(tmpdir(), 'pw-electron-'));
  const app = await electron.launch({
    executablePath: binary,
    args: [main, '--no-sandbox'],
    env: { ...process.env, PORTWRIGHT_HOME: home, HOME: home, SSH_AUTH_SOCK: '' },
  });
  try {
    const page = await app.firstWindow();
    await expect(new AppPage(page).coreStatus).toContainText('electron');
    const devices = new DevicesPage(page);
    await devices.add({ name: 'line3e', host: device.host, port: device.port, keyFile: device.clientKey });
    const ask = devices.hostKeyDialog();
    await expect(ask.getByTestId('fingerprint')).toHaveText(device.fingerprint);
    await ask.getByRole('button', { name: 'Trust and connect' }).click();
    await expect(devices.row('line3e').getByTestId('state')).toHaveText('connected');
    await devices.row('line3e').getByRole('button', { name: 'Open' }).click();
    await expect(page.getByRole('region', { name: 'Device line3e' }).getByTestId('port')).toHaveCount(3);
  } finally {
    await app.close();
  }
});
