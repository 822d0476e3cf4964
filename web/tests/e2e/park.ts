// Helpers of the browser tests: signing in through the login page, the park's API for set-up,
// the e-mails the park wrote as files.
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const PASSWORD = 'vpark-demo';

export async function login(page: Page, email: string, password = PASSWORD) {
  await page.goto('/login');
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  await page.locator('button[type=submit]').click();
  await expect(page).not.toHaveURL(/\/login/);
}

export async function apiToken(request: APIRequestContext, email: string, password = PASSWORD): Promise<string> {
  const r = await request.post('/api/v1/auth/login', { data: { email, password } });
  expect(r.status()).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

/** Today in Asia/Shanghai, as the park counts days. */
export function today(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

/** A new contract signed by the Hangzhou direct team: two new orders to dispatch or publish. */
export async function freshContract(request: APIRequestContext): Promise<{ id: number; orders: number[] }> {
  const token = await apiToken(request, 'ops@vpark.demo');
  const r = await request.post('/api/v1/contracts', {
    headers: { Authorization: `Bearer ${token}` },
    data: {
      client_id: 14,
      signer_id: 2,
      signed_on: today(),
      term_years: 1,
      first_year_amount: '100000.00',
      annual_maintenance_fee: '0.00',
      lines: [
        { service: 'ERP-IMPL', amount: '60000.00' },
        { service: 'TAX-PLAN', amount: '40000.00' },
      ],
    },
  });
  expect(r.status()).toBe(201);
  const c = (await r.json()) as { id: number; lines: { order_id: number }[] };
  return { id: c.id, orders: c.lines.map((l) => l.order_id) };
}

/** The plain-text part of the newest e-mail to `to` that contains `needle`, waiting for the outbox. */
export async function mailTo(to: string, needle: string): Promise<string> {
  const dir = join(process.env.E2E_PARK ?? '', 'var', 'mail');
  for (let i = 0; i < 60; i++) {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .map((f) => join(dir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    for (const f of files) {
      const raw = readFileSync(f, 'utf8');
      if (!raw.includes(`<${to}>`)) continue;
      const m = /Content-Type: text\/plain; charset=utf-8\r?\nContent-Transfer-Encoding: base64\r?\n\r?\n([A-Za-z0-9+/=\r\n]+)/.exec(raw);
      const text = m?.[1] ? Buffer.from(m[1].replace(/\s+/g, ''), 'base64').toString('utf8') : raw;
      if (text.includes(needle)) return text;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no e-mail to ${to} containing ${needle}`);
}

/**
 * Chooses in an antd select as a keyboard user does: type, wait until the wanted option is the
 * active one (remote searches answer late), take it with Enter. Clicking an option that is
 * re-rendering under the pointer is what makes such tests flaky.
 */
export async function choose(page: Page, field: Locator, text: string, shown: string = text) {
  await field.click();
  await field.fill(text);
  await expect(page.locator('.ant-select-item-option-active:visible').last()).toContainText(shown);
  await page.keyboard.press('Enter');
}
