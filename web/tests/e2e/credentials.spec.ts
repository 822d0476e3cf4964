import { expect, test } from '@playwright/test';
import { choose, login } from './park';

// Vendor ops record a credential for an implementer, then revoke one with its reason.
test('ops record and revoke a credential', async ({ page }) => {
  await login(page, 'ops@vpark.demo');
  await page.goto('/credentials');
  await page.getByRole('button', { name: '登记证书' }).first().click();
  const drawer = page.locator('.ant-drawer');
  await choose(page, drawer.locator('#user_id'), '何静');
  await choose(page, drawer.locator('#certification'), 'PMP');
  await drawer.getByRole('button', { name: '登记证书' }).click();
  await expect(page.getByText('证书已登记')).toBeVisible();

  await page.getByText('有效', { exact: true }).click();
  const row = page.locator('.ant-table-row').first();
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: '吊销' }).click();
  await page.getByLabel('吊销原因').fill('证书信息与发证机构记录不符');
  await page.locator('.ant-modal').getByRole('button', { name: '吊销' }).click();
  await expect(page.getByText('已吊销').first()).toBeVisible();
});
