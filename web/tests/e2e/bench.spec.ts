import { expect, test, type Page } from '@playwright/test';
import { login } from './park';

// Prints figures, asserts only that the screens work: the JavaScript (as sent, gzip) the login
// page and Today load, and the time from navigation to a usable Today (median of 10).
async function jsBytes(page: Page, go: () => Promise<void>): Promise<number> {
  let bytes = 0;
  const seen = new Set<string>();
  const onResponse = async (r: import('@playwright/test').Response) => {
    if (!r.url().endsWith('.js') || seen.has(r.url())) return;
    seen.add(r.url());
    const sizes = await r.request().sizes();
    bytes += sizes.responseBodySize;
  };
  page.on('response', onResponse);
  await go();
  await page.waitForLoadState('networkidle');
  page.off('response', onResponse);
  return bytes;
}

test('console bench', async ({ page, browser }) => {
  const loginJs = await jsBytes(page, async () => {
    await page.goto('/login');
    await expect(page.locator('#email')).toBeVisible();
  });
  await login(page, 'ops@vpark.demo');
  const fresh = await browser.newContext();
  const p2 = await fresh.newPage();
  await p2.goto('/login');
  const token = await page.evaluate(() => sessionStorage.getItem('vpark.token'));
  await p2.evaluate((t) => sessionStorage.setItem('vpark.token', t ?? ''), token);
  const todayJs = await jsBytes(p2, async () => {
    await p2.goto('/');
    await expect(p2.locator('.ant-statistic').first()).toBeVisible();
  });
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = Date.now();
    await p2.goto('/');
    await expect(p2.locator('.ant-statistic-content-value')).toHaveCount(9);
    times.push(Date.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = ((times[4] ?? 0) + (times[5] ?? 0)) / 2;
  console.log(`console bench: login page JS ${(loginJs / 1024).toFixed(1)} KB (gzip); Today JS ${(todayJs / 1024).toFixed(1)} KB (gzip); navigation → usable Today median ${median} ms (min ${times[0]}, max ${times[9]}) over 10`);
  await fresh.close();
});
