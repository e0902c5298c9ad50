// The device flows end to end, written once and run twice: in Debian's Chromium through
// `portwright serve` (../device.spec.ts) and in the real Electron app (../electron/device.spec.ts).
// Each takes a context that knows how to reach the app and where screenshots go.
import { expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DevicesPage, type LabDevice } from '../pages/devices-page';

export interface FlowContext {
  page: Page;
  device: LabDevice;
  /** The device's name in this app's inventory. */
  name: string;
  /** Where the network wizard puts its network (each run uses its own port, Docker < 27 allows one macvlan per parent). */
  port: string;
  network: string;
  container: string;
  /** Opens the app on its devices screen. */
  open: () => Promise<void>;
  screenshot: (name: string) => Promise<void>;
  /** The browser can save downloads (a desktop window asks where instead). */
  downloads: boolean;
}

/** Runs a shell command inside the lab device (its namespaces), as the lab itself does. */
export function onDevice(device: LabDevice, command: string): string {
  return execFileSync('nsenter', [
    '-t',
    String(device.initPid),
    '-n',
    '-m',
    '-p',
    '-u',
    '--',
    'sh',
    '-c',
    command,
  ]).toString();
}

/** The host key the device presents now (an earlier run may have re-keyed it). */
export function currentFingerprint(device: LabDevice): string {
  return onDevice(device, `ssh-keygen -lf ${device.dir}/ssh_host_ed25519_key.pub`).split(' ')[1] ?? '';
}

export async function addTrustAndOverview(ctx: FlowContext): Promise<void> {
  const { page, device, name } = ctx;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const fingerprint = currentFingerprint(device);
  await ctx.open();
  const devices = new DevicesPage(page);
  await expect(devices.region).toContainText('No devices yet');

  await devices.add({ name, host: device.host, port: device.port, keyFile: device.clientKey });
  const ask = devices.hostKeyDialog();
  await expect(ask).toBeVisible();
  await expect(ask.getByTestId('fingerprint')).toHaveText(fingerprint);
  await ctx.screenshot('host-key');
  await ask.getByRole('button', { name: 'Trust and connect' }).click();

  const row = devices.row(name);
  await expect(row.getByTestId('state')).toHaveText('connected');
  await expect(row).toContainText('via stream-local');
  await ctx.screenshot('devices');

  // Editing shows the saved settings; saving reconnects with them.
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit device' });
  await expect(edit.getByLabel('Address')).toHaveValue(device.host);
  await expect(edit.getByLabel('Name')).toBeDisabled();
  await edit.getByRole('button', { name: 'Save and connect' }).click();
  await expect(edit).toBeHidden();
  await expect(row.getByTestId('state')).toHaveText('connected');

  await row.getByRole('button', { name: 'Open' }).click();
  const overview = page.getByRole('region', { name: `Device ${name}` });
  await expect(overview.getByTestId('port')).toHaveCount(3);
  await expect(overview.getByLabel('Port eth0')).toContainText('management');
  await expect(overview.getByLabel('Port eth1')).toContainText('up');
  await expect(overview.getByRole('heading', { name: /^Networks \(\d+\)$/ })).toBeVisible();
  for (const n of ['bridge', 'host', 'none']) {
    await expect(overview.getByRole('cell', { name: n, exact: true }).first()).toBeVisible();
  }
  await ctx.screenshot('device-overview');
  // Dark, as the system asks.
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveCSS('background-color', 'rgb(21, 24, 29)');
  await ctx.screenshot('device-overview-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  expect(errors).toEqual([]);
}

export async function macvlanWizard(ctx: FlowContext): Promise<void> {
  const { page, device, name, port, network, container } = ctx;
  const peer = device.peers.find((p) => p.port === port);
  if (!peer) throw new Error(`no field peer on ${port}`);
  const prefix = peer.subnet.split('.').slice(0, 3).join('.');
  onDevice(device, `docker run -d --name ${container} portwright-lab/busybox:latest sleep 3600 >/dev/null`);
  await ctx.open();
  await new DevicesPage(page).row(name).getByRole('button', { name: 'Open' }).click();
  await page.getByRole('button', { name: `New network on ${port}` }).click();
  const wizard = page.getByRole('region', { name: `New network on ${name}` });
  await expect(wizard.getByTestId('guide')).toContainText('their own devices on the field network');
  await wizard.getByLabel('Network name').fill(network);
  await wizard.getByRole('button', { name: 'Next' }).click();

  await wizard.getByRole('button', { name: new RegExp(`Suggest from ${port}`) }).click();
  await expect(wizard.getByLabel('Subnet', { exact: true })).toHaveValue(peer.subnet);
  await expect(wizard.getByLabel('Keep out')).toHaveValue(`${prefix}.1`);
  // A gateway outside the subnet: the checker's message appears at the field.
  await wizard.getByLabel('Gateway', { exact: true }).fill(`${prefix.replace(/\.\d+$/, '.250')}.1`);
  await expect(wizard.getByText(/is outside .*Pick an address inside/)).toBeVisible();
  await ctx.screenshot('wizard-invalid-gateway');
  await wizard.getByLabel('Gateway', { exact: true }).fill(peer.address);
  await expect(wizard.getByText(/is outside/)).toBeHidden();
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByRole('button', { name: 'Next' }).click();

  await wizard.getByRole('button', { name: 'Attach a container' }).click();
  await wizard.getByLabel('Container 1', { exact: true }).click();
  await page.getByText(container, { exact: true }).last().click();
  await wizard.getByLabel('Address of container 1').fill(`${prefix}.130`);
  await expect(wizard.getByText('0 error(s)')).toBeVisible();
  await wizard.getByRole('button', { name: 'Review' }).click();

  const review = wizard.getByRole('region', { name: 'Review' });
  await expect(review).toContainText(`create network ${network}`);
  await expect(review).toContainText(`connect ${container} at ${prefix}.130`);
  await wizard.getByRole('button', { name: 'Apply' }).click();
  await expect(wizard.getByTestId('result')).toContainText('step(s) done');
  await ctx.screenshot('wizard-applied');
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
}

export async function topologyAuditPlans(ctx: FlowContext): Promise<void> {
  const { page, name, network, container } = ctx;
  await ctx.open();
  await new DevicesPage(page).row(name).getByRole('button', { name: 'Open' }).click();
  await page.getByRole('button', { name: 'Topology' }).click();
  const topo = page.getByRole('region', { name: `Topology of ${name}` });
  await expect(topo.getByLabel(new RegExp(`^network ${network}: macvlan`))).toBeVisible();
  await expect(topo.getByLabel(new RegExp(`^container ${container}`))).toBeVisible();
  await ctx.screenshot('topology');

  await page.getByRole('link', { name: `Back to ${name}` }).click();
  await page.getByRole('button', { name: 'Audit log' }).click();
  const audit = page.getByRole('region', { name: `Audit log of ${name}` });
  await expect(audit.getByRole('cell', { name: 'plan.apply' }).first()).toBeVisible();
  await expect(audit.getByRole('cell', { name: new RegExp(network) }).first()).toBeVisible();
  await ctx.screenshot('audit');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Plans' }).click();
  const plans = page.getByRole('region', { name: 'Plans' });
  await plans.getByLabel('Device').click();
  await page.getByText(name, { exact: true }).last().click();
  await plans.getByRole('button', { name: 'Export from device' }).click();
  await expect(plans.getByRole('textbox', { name: 'Plan', exact: true })).toHaveValue(new RegExp(`name: ${network}`));
  await plans.getByRole('button', { name: 'Diff' }).click();
  await expect(plans.getByRole('region', { name: 'Diff' })).toContainText('No changes');
  await ctx.screenshot('plans');
  if (!ctx.downloads) return;

  // Saved to a file and opened again, the plan still changes nothing.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    plans.getByRole('button', { name: /^Save as/ }).click(),
  ]);
  const saved = await download.path();
  expect(download.suggestedFilename()).toBe(`${name}.yaml`);
  await page.reload();
  const again = page.getByRole('region', { name: 'Plans' });
  await again
    .getByLabel('Plan file')
    .setInputFiles({ name: `${name}.yaml`, mimeType: 'application/yaml', buffer: readFileSync(saved) });
  await expect(again.getByRole('textbox', { name: 'Plan', exact: true })).toHaveValue(new RegExp(`name: ${network}`));
  await again.getByLabel('Device').click();
  await page.getByText(name, { exact: true }).last().click();
  await again.getByRole('button', { name: 'Check' }).click();
  await expect(again.getByRole('region', { name: 'Findings' })).toContainText('0 error(s)');
  await again.getByRole('button', { name: 'Diff' }).click();
  await expect(again.getByRole('region', { name: 'Diff' })).toContainText('No changes');
}

export async function changedHostKey(ctx: FlowContext): Promise<void> {
  const { page, device, name } = ctx;
  const trusted = currentFingerprint(device);
  const dir = device.dir;
  // The device is "reinstalled": new host key, sshd restarted.
  onDevice(
    device,
    `rm -f ${dir}/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N '' -f ${dir}/ssh_host_ed25519_key && ` +
      `kill $(cat /run/sshd.pid) && sleep 0.3 && /usr/sbin/sshd -f ${dir}/sshd_config -E ${dir}/sshd.log`,
  );
  const fresh = currentFingerprint(device);
  await ctx.open();
  const devices = new DevicesPage(page);
  await devices.row(name).getByRole('button', { name: 'Test connection' }).click();
  const blocked = devices.changedKeyDialog();
  await expect(blocked).toBeVisible();
  await expect(blocked.getByTestId('trusted-fingerprint')).toHaveText(trusted);
  await expect(blocked.getByTestId('presented-fingerprint')).toHaveText(fresh);
  await expect(blocked).toContainText('nothing was sent to the device');
  await expect(blocked.getByRole('button', { name: 'Re-pin the new key' })).toBeDisabled();
  await ctx.screenshot('host-key-changed');
  await blocked.getByRole('button', { name: 'Keep refusing' }).click();
  await expect(devices.row(name).getByTestId('state')).toHaveText('host key changed');
}
