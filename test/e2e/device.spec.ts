// A real device through `portwright serve` in Debian's Chromium: add it and trust its key on an explicit
// yes, see its hardware ports and networks; a changed host key blocks with both fingerprints.
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

  // Editing shows the saved settings; saving reconnects with them.
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit device' });
  await expect(edit.getByLabel('Address')).toHaveValue(device.host);
  await expect(edit.getByLabel('Name')).toBeDisabled();
  await edit.getByRole('button', { name: 'Save and connect' }).click();
  await expect(edit).toBeHidden();
  await expect(row.getByTestId('state')).toHaveText('connected');

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
  // Dark, as the system asks.
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveCSS('background-color', 'rgb(21, 24, 29)');
  await app.screenshot('device-overview-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  expect(errors).toEqual([]);
});

test('macvlan wizard on eth1: a static container address that the field peer reaches; a wrong gateway is shown at its field; re-applying changes nothing', async ({
  page,
}) => {
  if (!device) return;
  const peer = device.peers.find((p) => p.port === 'eth1');
  if (!peer) throw new Error('no field peer on eth1');
  const prefix = peer.subnet.split('.').slice(0, 3).join('.');
  onDevice('docker run -d --name plc portwright-lab/busybox:latest sleep 3600 >/dev/null');
  const app = new AppPage(page);
  await page.goto(url);
  await new DevicesPage(page).row('line3').getByRole('button', { name: 'Open' }).click();
  await page.getByRole('button', { name: 'New network on eth1' }).click();
  const wizard = page.getByRole('region', { name: 'New network on line3' });
  await expect(wizard.getByTestId('guide')).toContainText('their own devices on the field network');
  await wizard.getByLabel('Network name').fill('field-a');
  await wizard.getByRole('button', { name: 'Next' }).click();

  await wizard.getByRole('button', { name: /Suggest from eth1/ }).click();
  await expect(wizard.getByLabel('Subnet', { exact: true })).toHaveValue(peer.subnet);
  await expect(wizard.getByLabel('Keep out')).toHaveValue(`${prefix}.1`);
  // A gateway outside the subnet: the checker's message appears at the field.
  await wizard.getByLabel('Gateway', { exact: true }).fill(`${prefix.replace(/\.\d+$/, '.250')}.1`);
  await expect(wizard.getByText(/is outside .*Pick an address inside/)).toBeVisible();
  await app.screenshot('wizard-invalid-gateway');
  await wizard.getByLabel('Gateway', { exact: true }).fill(peer.address);
  await expect(wizard.getByText(/is outside/)).toBeHidden();
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByRole('button', { name: 'Next' }).click();

  await wizard.getByRole('button', { name: 'Attach a container' }).click();
  await wizard.getByLabel('Container 1', { exact: true }).click();
  await page.getByText('plc', { exact: true }).last().click();
  await wizard.getByLabel('Address of container 1').fill(`${prefix}.130`);
  await expect(wizard.getByText('0 error(s)')).toBeVisible();
  await wizard.getByRole('button', { name: 'Review' }).click();

  const review = wizard.getByRole('region', { name: 'Review' });
  await expect(review).toContainText('create network field-a');
  await expect(review).toContainText(`connect plc at ${prefix}.130`);
  await wizard.getByRole('button', { name: 'Apply' }).click();
  await expect(wizard.getByTestId('result')).toContainText('step(s) done');
  await app.screenshot('wizard-applied');
  const ping = execFileSync('nsenter', [
    `--net=/run/netns/${peer.netns}`,
    '--',
    'busybox',
    'ping',
    '-c',
    '2',
    '-W',
    '2',
    `${prefix}.130`,
  ]);
  expect(ping.toString()).toMatch(/2 packets received/);

  // The same plan again: nothing to change.
  await wizard.getByRole('button', { name: 'Back' }).click();
  await wizard.getByRole('button', { name: 'Review' }).click();
  await expect(wizard.getByTestId('no-changes')).toBeVisible();
});

test('shows the topology and the audit log, and a plan exported from the device is no change', async ({ page }) => {
  if (!device) return;
  const app = new AppPage(page);
  await page.goto(url);
  await new DevicesPage(page).row('line3').getByRole('button', { name: 'Open' }).click();
  await page.getByRole('button', { name: 'Topology' }).click();
  const topo = page.getByRole('region', { name: 'Topology of line3' });
  await expect(topo.getByLabel(/^network field-a: macvlan/)).toBeVisible();
  await expect(topo.getByLabel(/^container plc/)).toBeVisible();
  await app.screenshot('topology');

  await page.getByRole('link', { name: 'Back to line3' }).click();
  await page.getByRole('button', { name: 'Audit log' }).click();
  const audit = page.getByRole('region', { name: 'Audit log of line3' });
  await expect(audit.getByRole('cell', { name: 'plan.apply' }).first()).toBeVisible();
  await expect(audit.getByRole('cell', { name: /field-a/ }).first()).toBeVisible();
  await app.screenshot('audit');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Plans' }).click();
  const plans = page.getByRole('region', { name: 'Plans' });
  await plans.getByLabel('Device').click();
  await page.getByText('line3', { exact: true }).last().click();
  await plans.getByRole('button', { name: 'Export from device' }).click();
  await expect(plans.getByRole('textbox', { name: 'Plan', exact: true })).toHaveValue(/name: field-a/);
  await plans.getByRole('button', { name: 'Diff' }).click();
  await expect(plans.getByRole('region', { name: 'Diff' })).toContainText('No changes');
  await app.screenshot('plans');

  // Saved to a file and opened again, the plan still changes nothing.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    plans.getByRole('button', { name: /^Save as/ }).click(),
  ]);
  const saved = await download.path();
  expect(download.suggestedFilename()).toBe('line3.yaml');
  await page.reload();
  const again = page.getByRole('region', { name: 'Plans' });
  await again
    .getByLabel('Plan file')
    .setInputFiles({ name: 'line3.yaml', mimeType: 'application/yaml', buffer: readFileSync(saved) });
  await expect(again.getByRole('textbox', { name: 'Plan', exact: true })).toHaveValue(/name: field-a/);
  await again.getByLabel('Device').click();
  await page.getByText('line3', { exact: true }).last().click();
  await again.getByRole('button', { name: 'Check' }).click();
  await expect(again.getByRole('region', { name: 'Findings' })).toContainText('0 error(s)');
  await again.getByRole('button', { name: 'Diff' }).click();
  await expect(again.getByRole('region', { name: 'Diff' })).toContainText('No changes');
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
