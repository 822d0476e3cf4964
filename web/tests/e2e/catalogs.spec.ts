import { expect, test } from '@playwright/test';
import { login } from './park';

// The platform admin edits a tier threshold and an agreement template's rate; both persist,
// and a rate the park refuses is explained.
test('admin edits tier thresholds and a template rate', async ({ page }) => {
  await login(page, 'admin@vpark.demo');
  await page.goto('/admin/thresholds');
  const revenue = page.locator('#items_0_min_revenue');
  await revenue.fill('123456.00');
  await page.getByRole('button', { name: '保存' }).click();
  await expect(page.getByText('已保存')).toBeVisible();
  await page.reload();
  await expect(page.locator('#items_0_min_revenue')).toHaveValue('123456.00');

  await page.goto('/admin/templates');
  const card = page.locator('.ant-card').first();
  const rate = card.getByLabel(/比例 #\d+/).first();
  await rate.fill('150');
  await card.getByRole('button', { name: '保存' }).click();
  await expect(card.locator('.ant-alert-error')).toBeVisible();
  await rate.fill('38');
  await card.getByRole('button', { name: '保存' }).click();
  await expect(page.getByText('已保存')).toBeVisible();
  await page.reload();
  await expect(page.locator('.ant-card').first().getByLabel(/比例 #\d+/).first()).toHaveValue('38');
});
