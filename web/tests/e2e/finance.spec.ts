import { expect, test } from '@playwright/test';
import { freshContract, login } from './park';

// Vendor finance: record a payment (a double click records once) and see its split at once.
test('finance records a payment once and sees its split', async ({ page, request }) => {
  const contract = await freshContract(request);
  await login(page, 'finance@vpark.demo');
  await page.goto('/payments');
  await page.getByRole('button', { name: '登记收款' }).first().click();
  const drawer = page.locator('.ant-drawer');
  await drawer.locator('#contract_id').click();
  await drawer.locator('#contract_id').fill('数澜');
  await expect(page.locator('.ant-select-item-option-active:visible').last()).toContainText('杭州数澜');
  await page.keyboard.press('Enter');
  await expect(drawer.locator('.ant-select-content', { hasText: '杭州数澜' }).first()).toBeVisible();
  const note = `e2e ${Date.now()}`;
  await drawer.locator('#amount').fill('12000.00');
  await drawer.locator('#note').fill(note);
  const submit = drawer.getByRole('button', { name: '登记收款' });
  await submit.dblclick();
  await expect(drawer.locator('.ant-card-head-title', { hasText: '本次收款的分配' })).toBeVisible();
  await expect(drawer.getByText('¥12,000.00').first()).toBeVisible();
  await expect(drawer.locator('.ant-table-row').first()).toBeVisible();
  await page.keyboard.press('Escape');
  // The double click recorded one payment.
  await expect(page.getByText(note)).toHaveCount(1);
  expect(contract.id).toBeGreaterThan(0);
});

// Finance reviews the month's payout — approved by two people — and downloads the bank file.
test('finance reviews a payout and downloads its bank file', async ({ page }) => {
  await login(page, 'finance@vpark.demo');
  await page.goto('/payouts');
  await page.locator('.ant-table-row').first().click();
  const drawer = page.locator('.ant-drawer');
  await expect(drawer.getByText('已审批').first()).toBeVisible();
  await expect(drawer.locator('.ant-table-row').first()).toBeVisible();
  const download = page.waitForEvent('download');
  await drawer.getByRole('button', { name: '银行付款文件' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^payout-\d{4}-\d{2}\.csv$/);
  // A second run of a paid period is refused with the park's reason beside the form.
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: '生成付款批次' }).click();
  await expect(page.getByText(/ran already|已/).first()).toBeVisible();
});

// Finance opens this month's statements and downloads one as CSV.
test('finance downloads a statement', async ({ page }) => {
  await login(page, 'finance@vpark.demo');
  await page.goto('/statements');
  await page.locator('.ant-table-row a').first().click();
  await expect(page).toHaveURL(/\/statements\/\d+\/\d{4}-\d{2}$/);
  await expect(page.getByText('期末余额').first()).toBeVisible();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: '下载 CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^statement-\d+-\d{4}-\d{2}\.csv$/);
});
