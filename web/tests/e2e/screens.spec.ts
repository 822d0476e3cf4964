import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { login } from './park';

// Every screen of the vendor's desk, in both languages: no raw i18n key on it, and no serious
// or critical accessibility violation. With UPDATE_SCREENSHOTS=1 the README's pictures are
// taken again into docs/screenshots/.
const RAW_KEY = /\b(app|nav|auth|profile|common|error|role|orderStatus|mode|reason|stream|today|orders|contracts|money|reviews|credential|ineligibleReason)\.[a-z][A-Za-z_]+\b/;
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? '../docs/screenshots' : 'test-results/shots';

async function check(page: Page, what: string) {
  await page.waitForLoadState('networkidle');
  await expect(page.locator('.ant-skeleton')).toHaveCount(0);
  const text = await page.locator('body').innerText();
  expect(RAW_KEY.exec(text)?.[0], `${what}: a raw i18n key`).toBeUndefined();
  const axe = await new AxeBuilder({ page }).analyze();
  const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), what).toEqual([]);
}

async function setLanguage(page: Page, locale: 'zh-CN' | 'en') {
  await page.evaluate((l) => localStorage.setItem('vpark.locale', l), locale);
}

for (const locale of ['zh-CN', 'en'] as const) {
  test(`the desk's screens in ${locale}`, async ({ page }) => {
    await page.goto('/login');
    await setLanguage(page, locale);
    await page.reload();
    await check(page, `${locale} login`);

    await login(page, 'ops@vpark.demo');
    await setLanguage(page, locale);
    const screens: [string, string][] = [
      ['/', 'today'],
      ['/orders', 'orders'],
      ['/orders/2', 'order'],
      ['/contracts', 'contracts'],
      ['/contracts/1', 'contract'],
      ['/reviews/evidence', 'evidence'],
      ['/credentials/1', 'credential'],
      ['/profile', 'profile'],
      ['/no-such-page', 'not-found'],
    ];
    for (const [path, name] of screens) {
      await page.goto(path);
      await check(page, `${locale} ${name}`);
      if (locale === 'zh-CN' && name === 'today') await page.screenshot({ path: `${SHOTS}/today.png` });
    }
    // The dispatch drawer with its recommendations.
    await page.goto('/orders?status=new');
    await page.locator('.ant-table-row').first().click();
    await page.getByRole('button', { name: locale === 'en' ? 'Dispatch' : '派单' }).click();
    await expect(page.getByTestId('candidate').first()).toBeVisible();
    await check(page, `${locale} dispatch`);
    if (locale === 'zh-CN') await page.screenshot({ path: `${SHOTS}/dispatch.png` });

    await page.getByRole('button', { name: locale === 'en' ? 'Close' : '关闭' }).click();
    await page.locator('.ant-dropdown-trigger').last().hover();
    await page.getByText(locale === 'en' ? 'Log out' : '退出登录').click();
    await expect(page).toHaveURL(/\/login/);

    await login(page, 'finance@vpark.demo');
    await setLanguage(page, locale);
    await page.goto('/payments');
    await check(page, `${locale} payments`);
  });
}
