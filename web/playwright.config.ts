import { defineConfig, devices } from '@playwright/test';
import path from 'node:path';

// The browser tests run Debian's chromium (Playwright's own download does not work on these
// machines) against a real `vpark serve` on a fresh demo park.
const port = Number(process.env.E2E_PORT ?? 8191);
process.env.E2E_PORT = String(port);
process.env.E2E_PARK ??= path.resolve('test-results/park');

export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'test-results/out',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' },
  },
  projects: [
    { name: 'desk', testIgnore: /bench\.spec\.ts/, use: { ...devices['Desktop Chrome'], viewport: { width: 1440, height: 900 } } },
    // The ops journey again on a phone (390×844).
    { name: 'phone', testMatch: /ops\.spec\.ts/, use: { ...devices['Desktop Chrome'], viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } },
    // `npm run bench`: the JavaScript each screen loads and the time to a usable Today.
    { name: 'bench', testMatch: /bench\.spec\.ts/, use: { ...devices['Desktop Chrome'], viewport: { width: 1440, height: 900 } } },
  ],
  webServer: {
    command: 'bash tests/e2e/park.sh',
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
