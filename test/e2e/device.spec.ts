// A real device through `portwright serve` in Debian's Chromium: add it and trust its key on an explicit
// yes, see its hardware ports and networks; a changed host key blocks with both fingerprints.
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { AppPage } from './pages/app-page';
import { DevicesPage, labDevice } from './pages/devices-page';

const device = labDevice();
const url = process.env.PW_E2E_SERVE_URL ?? '';
test.skip(!device, process.env.PW_E2E_SKIP ?? 'no lab device (see test/e2e-setup/global-setup.ts)');
test.describe.configure({ mode: 'serial' });

/** Runs a shell command inside the lab device (its namespaces), as the lab itself does. */
function onDevice(command: string): string {
  const pid = String(device?.initPid ?? 0);
  return execFileSync('nsenter', ['-t', pid, '-n', '-m', '-p', '-u', '--', 'sh', '-c', command]).toString();
}

test('adds a device, trusts its host key on an explicit yes, and sees its ports and networks', async ({ page }) => {
  if (!device) return;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  const app = new AppPage(page);
  await expect(app.coreStatus).toContainText('serve');
  const devices = new DevicesPage(page);
  await expect(devices.region).toContainText('No devices yet');

  await devices.add({ name: 'line3', host: device.host, port: device.port, keyFile: device.clientKey });
  const ask = devices.hostKeyDialog();
  await expect(ask).toBeVisible();
  await expect(ask.getByTestId('fingerprint')).toHaveText(device.fingerprint);
  await app.screenshot('host-key');
  await ask.getByRole('button', { name: 'Trust and connect' }).click();

  const row = devices.row('line3');
  await expect(row.getByTestId('state')).toHaveText('connected');
  await expect(row).toContainText('via stream-local');
  await app.screenshot('devices');

  await row.getByRole('button', { name: 'Open' }).click();
  const overview = page.getByRole('region', { name: 'Device line3' });
  const jacks = overview.getByTestId('port');
  await expect(jacks).toHaveCount(3);
  await expect(overview.getByLabel('Port eth0')).toContainText('management');
  await expect(overview.getByLabel('Port eth1')).toContainText('up');
  await expect(overview.getByRole('heading', { name: 'Networks (3)' })).toBeVisible();
  for (const name of ['bridge', 'host', 'none']) {
    await expect(overview.getByRole('cell', { name, exact: true }).first()).toBeVisible();
  }
  await app.screenshot('device-overview');
  expect(errors).toEqual([]);
});

test('a changed host key blocks the connection and shows both fingerprints', async ({ page }) => {
  if (!device) return;
  const dir = device.dir;
  // The device is "reinstalled": new host key, sshd restarted.
  onDevice(
    `rm -f ${dir}/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N '' -f ${dir}/ssh_host_ed25519_key && ` +
      `kill $(cat /run/sshd.pid) && sleep 0.3 && /usr/sbin/sshd -f ${dir}/sshd_config -E ${dir}/sshd.log`,
  );
  const fresh = onDevice(`ssh-keygen -lf ${dir}/ssh_host_ed25519_key.pub`).split(' ')[1] ?? '';
  await page.goto(url);
  const devices = new DevicesPage(page);
  await devices.row('line3').getByRole('button', { name: 'Test connection' }).click();
  const blocked = devices.changedKeyDialog();
  await expect(blocked).toBeVisible();
  await expect(blocked.getByTestId('trusted-fingerprint')).toHaveText(device.fingerprint);
  await expect(blocked.getByTestId('presented-fingerprint')).toHaveText(fresh);
  await expect(blocked).toContainText('nothing was sent to the device');
  await expect(blocked.getByRole('button', { name: 'Re-pin the new key' })).toBeDisabled();
  await new AppPage(page).screenshot('host-key-changed');
  await blocked.getByRole('button', { name: 'Keep refusing' }).click();
  await expect(devices.row('line3').getByTestId('state')).toHaveText('host key changed');
});
