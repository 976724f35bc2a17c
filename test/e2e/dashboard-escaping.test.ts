import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../mock-server/server.js';
import { answers, startReceiver, type Receiver } from '../callbacks/receiver.js';
import { launchTestBrowser } from '../helpers/browser.js';
import { screenshot, startDashboardSandbox } from './dashboard-helpers.js';
import { seal } from '../helpers/sandbox.js';

/**
 * Issue 8 §5: every merchant- and shopper-supplied string is escaped. Each field carries a payload
 * that, if it ever reached the page as markup, would run script (set `window.__xss`, open an
 * alert) or add an element. Every dashboard page and every hosted page is rendered in Chromium.
 */
const evil = (tag: string) =>
  `${tag}<script>window.__xss='${tag}'</script>"><img src=x onerror="window.__xss='${tag}';alert(1)">`;

const NAME = evil('NAME');
const ORDER = evil('ORDER');
const DESC = evil('DESC');
const HOLDER = evil('HOLDER');
const EMAIL_TEXT = evil('USER');

describe('escaping: payloads in merchant and shopper strings never run', () => {
  let browser: Browser;
  let server: RunningServer;
  let receiver: Receiver;
  let base: string;
  let appId: string;
  let appKey: string;
  let paidHash: string;
  let pendingHash: string;
  const dialogs: string[] = [];

  async function create(orderId: string, extra: Record<string, unknown> = {}) {
    const res = await fetch(`${base}/api/v1/merchant-widget/payment`, {
      method: 'POST',
      headers: { 'auth-identifier': appId, 'content-type': 'text/plain' },
      body: await seal(
        {
          order: {
            amount: 777,
            order_id: orderId,
            description: DESC,
            callback_post_url: receiver.url,
            ...extra,
          },
          user: { merchant_user_id: EMAIL_TEXT, phone: '+77001112233' },
        },
        appKey,
      ),
    });
    const body = (await res.json()) as { payload?: { transaction_hash: string } };
    if (!body.payload) throw new Error(`create failed: ${JSON.stringify(body)}`);
    return body.payload.transaction_hash;
  }

  /** Loads a page and proves nothing from the payloads ran or became markup. */
  async function assertInert(page: Page, url: string, mustShow: string[], shotName?: string) {
    const res = await page.goto(url);
    expect(res?.ok() || res?.status() === 404, `${url} → ${res?.status()}`).toBe(true);
    await page.waitForLoadState('load');
    await page.waitForTimeout(150); // let any stray onerror fire
    const probe = await page.evaluate(() => ({
      flag: (window as unknown as { __xss?: unknown }).__xss ?? null,
      imgs: document.querySelectorAll('img[src="x"]').length,
      scripts: Array.from(document.querySelectorAll('script')).filter((s) =>
        (s.textContent ?? '').includes('__xss'),
      ).length,
      handlers: Array.from(document.querySelectorAll('*')).filter((el) =>
        Array.from(el.attributes).some((a) => a.name.startsWith('on')),
      ).length,
      text: document.body.innerText,
    }));
    expect(probe.flag, url).toBeNull();
    expect(probe.imgs, url).toBe(0);
    expect(probe.scripts, url).toBe(0);
    expect(probe.handlers, url).toBe(0);
    for (const s of mustShow)
      expect(probe.text, `${url} should show ${s.slice(0, 12)}… as text`).toContain(s);
    if (shotName) await screenshot(page, shotName);
  }

  beforeAll(async () => {
    receiver = await startReceiver(answers.ok);
    server = await startDashboardSandbox({ clearing_delay_ms: 100 });
    base = server.url;
    const res = await fetch(`${base}/__admin/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: NAME,
        domains: ['localhost', '127.0.0.1'],
        public_key: randomBytes(32).toString('base64'),
      }),
    });
    const merchant = (await res.json()) as { app_id: string; app_key: string };
    appId = merchant.app_id;
    appKey = merchant.app_key;
    paidHash = await create(ORDER);
    pendingHash = await create(`${ORDER}-2`);
    const paid = await fetch(`${base}/__admin/transactions/${paidHash}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        pan: '4405639704015096',
        exp_month: '12',
        exp_year: '2031',
        cvc: '123',
        cardholder: HOLDER,
      }),
    });
    expect(paid.status).toBe(200);
    await receiver.waitFor(1);
    // A failed request whose journal entry carries the payloads too (duplicate order_id).
    await fetch(`${base}/api/v1/merchant-widget/payment`, {
      method: 'POST',
      headers: { 'auth-identifier': appId, 'content-type': 'text/plain' },
      body: await seal(
        { order: { amount: 1, order_id: ORDER, description: DESC, [evil('FIELD')]: 1 } },
        appKey,
      ),
    });
    browser = await launchTestBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.close();
  });

  it('renders every dashboard page inert, with the payloads shown as text', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const ui = `${base}/__admin/ui`;
    await assertInert(page, `${ui}/transactions`, [ORDER, NAME], '30-escaping-transactions');
    await assertInert(page, `${ui}/transactions?q=${encodeURIComponent(ORDER.slice(0, 20))}`, [ORDER]);
    await assertInert(
      page,
      `${ui}/transactions/${paidHash}`,
      [ORDER, DESC, HOLDER, NAME],
      '31-escaping-detail',
    );
    await assertInert(page, `${ui}/transactions/${pendingHash}`, [DESC]);
    await assertInert(page, `${ui}/merchants`, [NAME], '32-escaping-merchants');
    await page.goto(`${ui}/journal?show=all`);
    for (const d of await page.locator('details').all())
      await d.evaluate((el) => el.setAttribute('open', ''));
    await assertInert(page, `${ui}/journal?show=all`, [ORDER]);
    await assertInert(page, `${ui}/journal`, [ORDER]);
    await assertInert(page, `${ui}/transactions/${encodeURIComponent(evil('PATH'))}`, []);
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('renders every hosted page inert: widget, bank card form (with the payload echoed back), 3-D Secure, receipt, result', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // Widget page → bank card form for a pending payment (merchant name, description, order id).
    await assertInert(
      page,
      `${base}/payment-card?hash=${pendingHash}&show_close_button=true`,
      [NAME, DESC, `${ORDER}-2`],
      '33-escaping-payform',
    );
    // The form re-shown with an inline error keeps the typed cardholder in a value attribute.
    await page.locator('#pan').fill('4111111111111112'); // Luhn-invalid
    await page.locator('#exp_month').fill('12');
    await page.locator('#exp_year').fill('31');
    await page.locator('#cvc').fill('123');
    await page.locator('#cardholder').fill(HOLDER.slice(0, 128));
    await page.locator('#pay').click();
    await page.waitForLoadState('load');
    expect(await page.locator('#cardholder').inputValue()).toBe(HOLDER.slice(0, 128));
    expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss ?? null)).toBeNull();
    expect(await page.locator('img[src="x"]').count()).toBe(0);

    // 3-D Secure challenge page for the same payment.
    await page.goto(`${base}/payment-card?hash=${pendingHash}`);
    await page.locator('#pan').fill('5522042705066736');
    await page.locator('#exp_month').fill('12');
    await page.locator('#exp_year').fill('31');
    await page.locator('#cvc').fill('123');
    await page.locator('#cardholder').fill(HOLDER.slice(0, 128));
    await page.locator('#pay').click();
    await page.locator('#otp').waitFor();
    await assertInert(page, page.url(), [NAME], '34-escaping-3ds');

    // Receipt, default result page and the demo result page of the paid one.
    await assertInert(
      page,
      `${base}/payment-card/receipt?hash=${paidHash}`,
      [NAME, DESC, ORDER],
      '35-escaping-receipt',
    );
    await assertInert(page, `${base}/payment-card/done?hash=${paidHash}`, [NAME]);
    await assertInert(page, `${base}/demo/result?outcome=success&order_id=${encodeURIComponent(ORDER)}`, []);
    await assertInert(page, `${base}/payment-card?hash=${encodeURIComponent(evil('Q'))}`, []);
    expect(dialogs).toEqual([]);
    await page.close();
  });
});
