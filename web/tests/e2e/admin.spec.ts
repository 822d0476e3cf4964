import { expect, test } from '@playwright/test';
import { login, mailTo } from './park';

// Platform admin: a new subcontract partner and its administrator; the invitation e-mail's link
// sets the password; the new administrator signs in.
test('admin creates a partner and its administrator, who accepts the invitation', async ({ page }) => {
  const stamp = Date.now();
  const orgName = `测试合作伙伴${stamp}`;
  const email = `admin.${stamp}@example.com`;
  await login(page, 'admin@vpark.demo');

  await page.goto('/admin/organisations');
  await page.getByRole('button', { name: '新建组织' }).first().click();
  const drawer = page.locator('.ant-drawer');
  await drawer.locator('#name_zh').fill(orgName);
  // Multiple choices: type, then Enter takes the first match.
  const choose = async (id: string, text: string, shown: string) => {
    await drawer.locator(`#${id}`).click();
    await drawer.locator(`#${id}`).fill(text);
    await expect(page.locator('.ant-select-item-option-active:visible').last()).toContainText(shown);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Escape');
    await expect(drawer.locator('.ant-select-selection-item', { hasText: shown })).toBeVisible();
  };
  await choose('regions', '浙江', '浙江省');
  await choose('categories', 'ERP', 'ERP');
  await drawer.locator('#capacity').fill('5');
  await drawer.getByRole('button', { name: '新建组织' }).click();
  await expect(page.getByText(`已创建 ${orgName}`)).toBeVisible();

  await page.goto('/admin/users');
  await page.getByRole('button', { name: '邀请用户' }).first().click();
  const invite = page.locator('.ant-drawer');
  await invite.locator('#org_id').click();
  await invite.locator('#org_id').fill(String(stamp));
  await expect(page.locator('.ant-select-item-option-active:visible').last()).toContainText(orgName);
  await page.keyboard.press('Enter');
  await expect(invite.locator('.ant-select-content', { hasText: orgName })).toBeVisible();
  await invite.locator('#email').fill(email);
  await invite.locator('#display_name').fill('测试管理员');
  await invite.locator('#roles').click();
  await invite.locator('#roles').fill('合作渠道管理员');
  await expect(page.locator('.ant-select-item-option-active:visible').last()).toContainText('合作渠道管理员');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
  await expect(invite.locator('.ant-select-selection-item', { hasText: '合作渠道管理员' })).toBeVisible();
  await invite.getByRole('button', { name: '邀请用户' }).click();
  await expect(page.getByText(`邀请邮件已发送给 ${email}`)).toBeVisible();

  // The invitation e-mail's link opens the console's set-password page.
  const text = await mailTo(email, '/set-password?token=');
  const link = new URL(/https?:\/\/\S+\/set-password\?token=[A-Za-z0-9_-]+/.exec(text)?.[0] ?? 'http://x/');
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(link.pathname + link.search);
  await page.locator('#password').fill('partner-password-1');
  await page.locator('#confirm').fill('partner-password-1');
  await page.getByRole('button', { name: '保存密码' }).click();
  await expect(page.getByText('密码已设置，请登录。')).toBeVisible();
  await login(page, email, 'partner-password-1');
  await page.goto('/profile');
  await expect(page.getByText(orgName)).toBeVisible();
  await expect(page.getByText('合作渠道管理员')).toBeVisible();
});
