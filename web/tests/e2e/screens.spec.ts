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
  // Text as people read it; machine codes shown on purpose (audit actions, templates) are in <code>.
  const text = await page.evaluate(() => {
    const copy = document.body.cloneNode(true) as HTMLElement;
    copy.querySelectorAll('code').forEach((c) => c.remove());
    return copy.innerText;
  });
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
    test.setTimeout(240_000);
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
      ['/reviews/outcomes', 'outcomes'],
      ['/overdue', 'overdue'],
      ['/pool', 'pool'],
      ['/credentials', 'credentials'],
      ['/audit', 'audit'],
      ['/outbox', 'outbox'],
      ['/credentials/1', 'credential'],
      ['/outcomes/1', 'outcome'],
      ['/scorecard', 'scorecard'],
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
    for (const path of ['/payments', '/payouts', '/balances', '/statements', '/cash-flow', '/contracts/1']) {
      await page.goto(path);
      await check(page, `${locale} ${path}`);
    }
    if (locale === 'zh-CN') await page.screenshot({ path: `${SHOTS}/contract-money.png`, fullPage: true });
    await page.goto('/cash-flow');
    await expect(page.locator('[role=img] svg').first()).toBeVisible();
    if (locale === 'zh-CN') await page.screenshot({ path: `${SHOTS}/cash-flow.png`, fullPage: true });

    await page.evaluate(() => sessionStorage.clear());
    await login(page, 'admin@vpark.demo');
    await setLanguage(page, locale);
    for (const path of ['/admin/organisations', '/admin/users', '/admin/services', '/admin/certifications', '/admin/outcome-kinds', '/admin/templates', '/admin/thresholds']) {
      await page.goto(path);
      await check(page, `${locale} ${path}`);
    }
  });
}
