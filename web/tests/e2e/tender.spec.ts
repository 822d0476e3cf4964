import { expect, test } from '@playwright/test';
import { login } from './park';

// Vendor ops award a tender from its bids side by side.
test('ops award a tender', async ({ page }) => {
  await login(page, 'ops@vpark.demo');
  await page.goto('/pool');
  await page.getByText('招标', { exact: true }).first().click();
  const rows = page.locator('.ant-table-row');
  await expect(rows.first()).toBeVisible();
  // The first tender with bids.
  const count = await rows.count();
  let opened = false;
  for (let i = 0; i < count && !opened; i++) {
    const bids = Number((await rows.nth(i).locator('td').nth(6).textContent()) ?? '0');
    if (bids > 0) {
      await rows.nth(i).click();
      opened = true;
    }
  }
  expect(opened, 'the demo park has a tender with bids').toBe(true);
  const drawer = page.locator('.ant-drawer');
  await expect(drawer.getByText('质量分')).toBeVisible();
  const bid = drawer.locator('.ant-table-row').first();
  const name = (await bid.locator('td').first().textContent()) ?? '';
  await bid.getByRole('button', { name: '中标' }).click();
  await expect(page.getByText(`已授予 ${name}`)).toBeVisible();
  await expect(drawer.getByRole('button', { name: '中标' })).toHaveCount(0);
});
