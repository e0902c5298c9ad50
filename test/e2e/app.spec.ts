// The renderer in Chromium: it starts, explains itself when no core is attached, and is usable by keyboard.
import { expect, test } from '@playwright/test';
import { AppPage } from './pages/app-page';

test('shows Portwright, and says plainly that no core is attached and how to get one', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto('/');
  const app = new AppPage(page);
  await expect(app.heading).toHaveText('Portwright');
  await expect(app.coreStatus).toHaveText('No core');
  await expect(app.alert).toContainText('not connected to a Portwright core');
  await expect(app.alert).toContainText('portwright serve');
  await expect(app.devices).toContainText('No devices yet');
  await app.screenshot('no-core');
  expect(errors).toEqual([]);
});

test('reaches "Try again" with the keyboard', async ({ page }) => {
  await page.goto('/');
  const app = new AppPage(page);
  await expect(app.alert).toBeVisible();
  const button = app.alert.getByRole('button', { name: 'Try again' });
  // Past the main navigation, the next stop is the notice's button.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await page.keyboard.press('Tab');
  await expect(nav.getByRole('link', { name: 'Devices' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(nav.getByRole('link', { name: 'Plans' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(button).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(app.alert).toContainText('not connected');
});

test('refuses inline scripts: the page carries a strict Content-Security-Policy', async ({ page }) => {
  await page.goto('/');
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("script-src 'self'");
  const ran = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.body.appendChild(s);
    return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
  });
  expect(ran).toBe(false);
});
