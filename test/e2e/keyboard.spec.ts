// The app works with the keyboard alone: reaching "Add device", filling the dialog field by field,
// and leaving it with Escape, against the real core behind `portwright serve`.
import { expect, test } from '@playwright/test';
import { AppPage } from './pages/app-page';
import { DevicesPage, labDevice } from './pages/devices-page';

const url = process.env.PW_E2E_SERVE_URL ?? '';
test.skip(!labDevice(), process.env.PW_E2E_SKIP ?? 'no lab device (see test/e2e-setup/global-setup.ts)');

test('adds nothing, but goes through the add-device dialog by keyboard alone', async ({ page }) => {
  await page.goto(url);
  await expect(new AppPage(page).coreStatus).toContainText('serve');
  const devices = new DevicesPage(page);
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    if (await devices.addButton.evaluate((el) => el === document.activeElement)) break;
  }
  await expect(devices.addButton).toBeFocused();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Add a device' });
  await expect(dialog).toBeVisible();
  // Focus moves into the dialog and stays there; the fields come in reading order.
  const name = dialog.getByLabel('Name');
  for (let i = 0; i < 5; i++) {
    if (await name.evaluate((el) => el === document.activeElement)) break;
    await page.keyboard.press('Tab');
  }
  await expect(name).toBeFocused();
  await page.keyboard.type('kbd-only');
  await page.keyboard.press('Tab');
  await expect(dialog.getByLabel('Address')).toBeFocused();
  await page.keyboard.type('192.0.2.1');
  await expect(dialog.getByRole('button', { name: 'Add and connect' })).toBeEnabled();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(devices.row('kbd-only')).toHaveCount(0);
});
