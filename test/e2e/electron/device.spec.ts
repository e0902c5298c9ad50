// The same device flows as ../device.spec.ts, in the real Electron app (the core in the main process,
// over IPC). Runs only where an Electron binary and the lab exist; elsewhere it is skipped with the reason.
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addTrustAndOverview,
  changedHostKey,
  macvlanWizard,
  topologyAuditPlans,
  type FlowContext,
} from '../flows/device-flows';
import { AppPage } from '../pages/app-page';
import { labDevice } from '../pages/devices-page';

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
const main = join(process.cwd(), 'out', 'main', 'index.js');
test.skip(!binary, 'no Electron binary (it cannot be downloaded here); set ELECTRON_PATH to run these');
test.skip(!device, process.env.PW_E2E_SKIP ?? 'no lab device');
test.describe.configure({ mode: 'serial' });

let app: ElectronApplication | undefined;
let page: Page | undefined;

test.beforeAll(async () => {
  if (!binary || !device) return;
  if (!existsSync(main)) throw new Error('run `npm run build` first (out/main/index.js missing)');
  const home = mkdtempSync(join(tmpdir(), 'pw-electron-'));
  app = await electron.launch({
    executablePath: binary,
    args: [main, '--no-sandbox'],
    env: { ...process.env, PORTWRIGHT_HOME: home, HOME: home, SSH_AUTH_SOCK: '' },
  });
  page = await app.firstWindow();
});
test.afterAll(async () => {
  await app?.close();
});

function context(): FlowContext {
  if (!device || !page) throw new Error('no app');
  const p = page;
  return {
    page: p,
    device,
    // A second inventory on the same lab device: its own name, port, network and container.
    name: 'line3e',
    port: 'eth2',
    network: 'field-e',
    container: 'plce',
    downloads: false,
    open: async () => {
      await p.evaluate(() => {
        location.hash = '#/devices';
      });
      await expect(new AppPage(p).coreStatus).toContainText('electron');
    },
    screenshot: async (name) => {
      await p.screenshot({ path: join('test-results', `electron-${name}.png`), animations: 'disabled' });
    },
  };
}

test('adds the device in Electron, trusts its key on an explicit yes, and sees its ports and networks', async () => {
  await addTrustAndOverview(context());
});

test('macvlan wizard in Electron: the field peer reaches the container; re-applying changes nothing', async () => {
  await macvlanWizard(context());
});

test('topology, audit log and an exported plan in Electron', async () => {
  await topologyAuditPlans(context());
});

test('a changed host key blocks the connection in Electron too', async () => {
  await changedHostKey(context());
});
