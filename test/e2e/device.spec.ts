// A real device through `portwright serve` in Debian's Chromium, driven like a user (the flows are
// shared with the Electron run): add it and trust its key, its overview, the macvlan wizard, topology,
// audit log and plans, and a changed host key. The screenshots go to docs/screenshots/.
import { expect, test, type Page } from '@playwright/test';
import {
  addTrustAndOverview,
  changedHostKey,
  macvlanWizard,
  topologyAuditPlans,
  type FlowContext,
} from './flows/device-flows';
import { AppPage } from './pages/app-page';
import { labDevice } from './pages/devices-page';

const device = labDevice();
const url = process.env.PW_E2E_SERVE_URL ?? '';
test.skip(!device, process.env.PW_E2E_SKIP ?? 'no lab device (see test/e2e-setup/global-setup.ts)');
test.describe.configure({ mode: 'serial' });

function context(page: Page): FlowContext {
  if (!device) throw new Error('no lab device');
  return {
    page,
    device,
    name: 'line3',
    port: 'eth1',
    network: 'field-a',
    container: 'plc',
    downloads: true,
    open: async () => {
      await page.goto(url);
      await expect(new AppPage(page).coreStatus).toContainText('serve');
    },
    screenshot: (name) => new AppPage(page).screenshot(name),
  };
}

test('adds a device, trusts its host key on an explicit yes, and sees its ports and networks', async ({ page }) => {
  await addTrustAndOverview(context(page));
});

test('macvlan wizard on eth1: a static container address that the field peer reaches; a wrong gateway is shown at its field; re-applying changes nothing', async ({
  page,
}) => {
  await macvlanWizard(context(page));
});

test('shows the topology and the audit log, and a plan exported from the device, saved and opened again, is no change', async ({
  page,
}) => {
  await topologyAuditPlans(context(page));
});

test('a changed host key blocks the connection and shows both fingerprints', async ({ page }) => {
  await changedHostKey(context(page));
});
