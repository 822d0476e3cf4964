import { expect, test } from '@playwright/test';
import { apiToken, login } from './park';

// Vendor ops, through the console only: register a contract → dispatch one of its orders by
// recommendation → publish the other to the pool → verify evidence.
test('ops register a contract, dispatch by recommendation, publish to the pool, verify evidence', async ({ page, request }) => {
  // An implementer's training hours waiting for review (the queue this journey ends on).
  const token = await apiToken(request, 'ops@vpark.demo');
  const headers = { Authorization: `Bearer ${token}` };
  const creds = await (await request.get('/api/v1/credentials?status=in_progress&limit=1', { headers })).json();
  const credential = (creds as { items: { id: number }[] }).items[0]?.id;
  expect(credential, 'the demo park has a credential in progress').toBeTruthy();
  const submitted = await request.post(`/api/v1/credentials/${credential}/evidence`, {
    headers,
    data: { kind: 'training', title: '实施方法论培训', taken_on: new Date().toISOString().slice(0, 10), training_hours: 8 },
  });
  expect(submitted.status(), await submitted.text()).toBe(201);
  await login(page, 'ops@vpark.demo');

  // Register a contract with two lines: two new orders.
  await page.goto('/contracts');
  await page.getByRole('button', { name: '登记合同' }).first().click();
  const form = page.locator('.ant-drawer');
  // Type into a search select, wait until the park's answer is the active option, take it with Enter.
  const pick = async (id: string, text: string, option: string) => {
    await form.locator(`#${id}`).click();
    await form.locator(`#${id}`).fill(text);
    await expect(page.locator('.ant-select-item-option-active:visible').last()).toContainText(option);
    await page.keyboard.press('Enter');
    await expect(form.locator('.ant-select-content', { hasText: option }).first()).toBeVisible();
  };
  await pick('signer_id', '杭州直营', '云栖企服·杭州直营团队');
  await pick('client_id', '数澜', '杭州数澜信息技术有限公司');
  await form.locator('#first_year_amount').fill('100000.00');
  const service = async (i: number, text: string) => {
    const field = form.getByLabel('服务', { exact: true }).nth(i);
    await field.click();
    await field.fill(text);
    await expect(page.locator('.ant-select-item-option-active:visible').last()).toContainText(text);
    await page.keyboard.press('Enter');
    await expect(form.locator('.ant-select-content', { hasText: text }).first()).toBeVisible();
  };
  await service(0, 'ERP 系统实施');
  await form.getByLabel('金额', { exact: true }).first().fill('60000.00');
  await form.getByRole('button', { name: '添加一行' }).click();
  await service(1, '税务筹划');
  await form.getByLabel('金额', { exact: true }).nth(1).fill('40000.00');
  await form.getByRole('button', { name: '登记合同' }).click();
  await expect(page.getByText(/合同 HT\d+ 已登记/)).toBeVisible();
  const orderLinks = page.locator('.ant-table-row a[href^="/orders/"]');
  await expect(orderLinks).toHaveCount(2);
  const [first, second] = await orderLinks.evaluateAll((as) => as.map((a) => Number(a.getAttribute('href')?.split('/').pop())));

  // Today counts what waits, each a link to the list behind it.
  await page.goto('/');
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
