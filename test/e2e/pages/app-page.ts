// Page object for the app frame: header, core status, notices, devices view.
import type { Locator, Page } from '@playwright/test';

export class AppPage {
  readonly heading: Locator;
  readonly coreStatus: Locator;
  readonly alert: Locator;
  readonly devices: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1 });
    this.coreStatus = page.getByRole('status');
    this.alert = page.getByRole('alert');
    this.devices = page.getByRole('region', { name: 'Devices' });
  }

  async screenshot(name: string): Promise<void> {
    await this.page.screenshot({ path: `docs/screenshots/${name}.png`, animations: 'disabled' });
  }
}
