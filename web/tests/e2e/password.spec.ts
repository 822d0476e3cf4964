import { expect, test } from '@playwright/test';
import { login, mailTo } from './park';

// The e-mail link journey: ask for a reset, open the e-mail's link, choose a password, sign in.
test('a reset e-mail link opens the set-password page, and the new password works', async ({ page }) => {
  await page.goto('/login');
  await page.getByRole('link', { name: '忘记密码？' }).click();
  await page.locator('#email').fill('implementer@vpark.demo');
  await page.getByRole('button', { name: '发送邮件' }).click();
  await expect(page.getByText('重设密码的邮件已发出')).toBeVisible();

  const text = await mailTo('implementer@vpark.demo', '/set-password?token=');
  const link = /https?:\/\/\S+\/set-password\?token=[A-Za-z0-9_-]+/.exec(text)?.[0];
  expect(link, text).toBeTruthy();
  await page.goto(new URL(link ?? '').pathname + new URL(link ?? '').search);
  await expect(page.getByRole('heading', { name: '设置密码' })).toBeVisible();
  await page.locator('#password').fill('a-new-password-1');
  await page.locator('#confirm').fill('a-new-password-1');
  await page.getByRole('button', { name: '保存密码' }).click();
  await expect(page.getByText('密码已设置，请登录。')).toBeVisible();

  await login(page, 'implementer@vpark.demo', 'a-new-password-1');
  await expect(page.getByRole('heading', { name: /^(订单|Orders)$/ })).toBeVisible();
});
