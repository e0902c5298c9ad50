// Page objects for the devices screen, the add-device and host-key dialogs, and a device's overview.
import { expect, type Locator, type Page } from '@playwright/test';
import type { E2eDevice } from '../../e2e-setup/device';

/** The lab device the global set-up started: its description there, one definition for both. */
export type LabDevice = E2eDevice;

export function labDevice(): LabDevice | undefined {
  const json = process.env.PW_E2E_DEVICE;
  return json ? (JSON.parse(json) as LabDevice) : undefined;
}

export class DevicesPage {
  readonly region: Locator;
  readonly addButton: Locator;

  constructor(readonly page: Page) {
    this.region = page.getByRole('region', { name: 'Devices' });
    this.addButton = page.getByRole('button', { name: 'Add device' });
  }

  row(name: string): Locator {
    return this.page.locator(`[data-device="${name}"]`);
  }

  async add(d: { name: string; host: string; port: number; keyFile: string }): Promise<void> {
    await this.addButton.click();
    const dialog = this.page.getByRole('dialog', { name: 'Add a device' });
    await dialog.getByLabel('Name').fill(d.name);
    await dialog.getByLabel('Address').fill(d.host);
    const port = dialog.getByLabel('SSH port');
    await port.fill(String(d.port));
    await port.press('Tab');
    await dialog.getByLabel('Key file').fill(d.keyFile);
    await dialog.getByRole('button', { name: 'Add and connect' }).click();
    await expect(dialog).toBeHidden();
  }

  hostKeyDialog(): Locator {
    return this.page.getByRole('dialog', { name: 'Trust this host key?' });
  }

  changedKeyDialog(): Locator {
    return this.page.getByRole('dialog', { name: 'Host key changed' });
  }
}
