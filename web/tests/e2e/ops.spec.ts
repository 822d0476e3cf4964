import { expect, test } from '@playwright/test';
import { freshContract, login } from './park';

// Vendor ops, through the console only: Today → a new order → dispatch by recommendation →
// publish another to the pool → verify evidence.
test('ops dispatch by recommendation, publish to the pool, verify evidence', async ({ page, request }) => {
  const contract = await freshContract(request);
  const [first, second] = contract.orders;
  await login(page, 'ops@vpark.demo');

  // Today counts what waits, each a link to the list behind it.
  const tile = page.getByRole('link', { name: '待派单订单' });
  await expect(tile).toBeVisible();
  await tile.click();
  await expect(page).toHaveURL(/\/orders\?status=new/);

  // Dispatch the first order to the top recommendation, at a 60% execution share.
  await page.goto(`/orders/${first}`);
  await expect(page.getByText('新建').first()).toBeVisible();
  await page.getByRole('button', { name: '派单' }).click();
  const drawer = page.locator('.ant-drawer');
  const top = drawer.getByTestId('candidate').first();
  await expect(top).toBeVisible();
  await expect(top.getByText('服务质量')).toBeVisible(); // the score's parts as bars
  await expect(drawer.getByText('不符合条件')).toBeVisible(); // and who is excluded, with why
  const name = (await top.locator('strong').first().textContent())?.replace(/^\d+\.\s*/, '') ?? '';
  await drawer.getByLabel('执行分成比例 (%)').fill('60');
  await top.getByRole('button', { name: '派单' }).click();
  await expect(page.getByText(`已派单给 ${name}`)).toBeVisible();
  await expect(page.locator('.ant-descriptions').getByText(name)).toBeVisible();
  await expect(page.getByText('60%')).toBeVisible();

  // Publish the second one to the pool as a tender.
  await page.goto(`/orders/${second}`);
  await page.getByRole('button', { name: '发布到转包池' }).click();
  const modal = page.locator('.ant-modal');
  await modal.getByText('招标').click();
  await modal.getByLabel('执行分成比例 (%)').fill('35');
  await modal.getByRole('button', { name: '发布到转包池' }).click();
  await expect(page.getByText('已发布到转包池')).toBeVisible();
  await expect(page.getByText('转包池中').first()).toBeVisible();

  // Verify one piece of evidence in the review queue.
  await page.goto('/reviews/evidence');
  const verify = page.getByRole('button', { name: '通过' }).first();
  await expect(verify).toBeVisible();
  const before = await page.getByRole('button', { name: '通过' }).count();
  await verify.click();
  await expect(page.getByText('已通过').first()).toBeVisible();
  await expect(page.getByRole('button', { name: '通过' })).toHaveCount(before - 1);
});
