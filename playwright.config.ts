// End-to-end: the renderer in Debian's Chromium (never a downloaded browser), and the same app in
// real Electron where an Electron binary exists.
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './test/chromium';

const PORT = Number(process.env.PORTWRIGHT_E2E_PORT ?? 4173);

export default defineConfig({
  testDir: 'test/e2e',
  // A lab device and `portwright serve` for the specs that drive a real core (skipped without a lab).
  globalSetup: './test/e2e-setup/global-setup.ts',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  timeout: 120_000,
  use: { trace: 'retain-on-failure', viewport: { width: 1280, height: 800 } },
  projects: [
    {
      name: 'chromium',
      testIgnore: /electron\//,
      use: {
        browserName: 'chromium',
        baseURL: `http://127.0.0.1:${PORT}`,
        launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
      },
    },
    { name: 'electron', testMatch: /electron\/.*\.spec\.ts/ },
  ],
  webServer: {
    command: `npx vite build --config renderer/vite.config.ts --logLevel warn && npx vite preview --config renderer/vite.config.ts --port ${PORT}`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: false,
    timeout: 120_000,
  },
});
