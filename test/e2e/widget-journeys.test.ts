import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../mock-server/server.js';
import { launchTestBrowser } from '../helpers/browser.js';
import { createOrder, fillCard, shot, startSandbox, txOf, waitForStatus } from './browser.js';

/**
 * The browser journeys of spec §8 in Chromium (found by test/helpers/browser.ts), on a real
 * socket: a shop page (the demo, opened on an existing payment with `/demo?hash=`) embeds
 * `/payment-card` in `#iframe_widget` and follows the iframe's postMessage protocol.
 */
let server: RunningServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;

beforeAll(async () => {
  server = await startSandbox({ clearing_delay_ms: 'manual' });
  base = server.url;
  browser = await launchTestBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});
let posted: unknown[] = [];
beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 900, height: 860 } });
  page = await context.newPage();
  // Records what the parent page receives, across its navigations (the demo's own log dies with it).
  posted = [];
  await page.exposeFunction('recordKtpayMessage', (data: unknown) => posted.push(data));
  await page.addInitScript(() => {
    if (window.parent !== window) return;
    window.addEventListener('message', (e) =>
      (window as unknown as { recordKtpayMessage: (d: unknown) => void }).recordKtpayMessage(e.data),
    );
  });
});
afterEach(async () => {
  await context.close();
});

const result = (outcome: string) => `${base}/demo/result?outcome=${outcome}&order_id=x`;

async function openInShop(hash: string, showClose = true): Promise<FrameLocator> {
  await page.goto(`${base}/demo?hash=${hash}&show_close_button=${showClose}`);
  await page.waitForSelector('#iframe_widget');
  const frame = page.frameLocator('#iframe_widget');
  await frame.locator('#pan').waitFor();
  return frame;
}

const messages = async () => posted;

describe('widget journeys in chromium', () => {
  it('frictionless success: receipt in the iframe, then "Продолжить" moves the parent to the success URL', async () => {
    const hash = await createOrder(base, {
      callback_success_url: result('success'),
      description: 'Frictionless',
    });
    const frame = await openInShop(hash);
    await shot(page, 'widget-card-page');
    await fillCard(frame, { pan: '4405 6397 0401 5096' });
    await frame.locator('#continue').waitFor();
    await expect(frame.locator('[data-testid="masked-card"]').textContent()).resolves.toBe(
      '440563******5096',
    );
    await shot(page, 'widget-receipt-success');
    await frame.locator('#continue').click();
    await page.waitForURL(result('success'));
    expect(await messages()).toEqual([result('success')]);
    expect((await txOf(base, hash)).status).toBe('success');
  });

  it('3DS success: OTP 1111 on the ACS page approves', async () => {
    const hash = await createOrder(base, { callback_success_url: result('success') });
    const frame = await openInShop(hash);
    await fillCard(frame, { pan: '5522 0427 0506 6736' });
    await frame.locator('#otp').waitFor();
    await shot(page, 'widget-3ds-page');
    await frame.locator('#otp').fill('1111');
    await frame.locator('#confirm').click();
    await frame.locator('#continue').click();
    await page.waitForURL(result('success'));
    expect((await txOf(base, hash)).status).toBe('success');
  });

  it('3DS failure: a wrong OTP ends in 191 and "Продолжить" leads to the failed URL', async () => {
    const hash = await createOrder(base, {
      callback_success_url: result('success'),
      callback_failed_url: result('failed'),
    });
    const frame = await openInShop(hash);
    await fillCard(frame, { pan: '5522 0427 0506 6736' });
    await frame.locator('#otp').fill('0000');
    await frame.locator('#confirm').click();
    await expect(frame.locator('[data-testid="error-message"]').textContent()).resolves.toContain(
      '(код 191)',
    );
    await frame.locator('#continue').click();
    await page.waitForURL(result('failed'));
    expect(await txOf(base, hash)).toMatchObject({
      status: 'error',
      error: { error_type: 'ERROR_INPUT', code: '191' },
    });
  });

  it('a decline with code 51 shows the reason on the receipt and leads to the failed URL', async () => {
    const hash = await createOrder(base, { callback_failed_url: result('failed') });
    const frame = await openInShop(hash);
    await fillCard(frame, { pan: '4000 0000 0000 9995' });
    await expect(frame.locator('[data-testid="error-message"]').textContent()).resolves.toContain(
      'Недостаточно средств на карте.',
    );
    await shot(page, 'widget-receipt-declined');
    await frame.locator('#continue').click();
    await page.waitForURL(result('failed'));
    expect(await txOf(base, hash)).toMatchObject({
      status: 'error',
      error: { error_type: 'ERROR_PAYMENT', code: '51' },
    });
  });

  it('an input error shows the form again inline; the retry succeeds', async () => {
    const hash = await createOrder(base, { callback_success_url: result('success') });
    const frame = await openInShop(hash);
    await fillCard(frame, { pan: '4405 6397 0401 5097', exp_month: '01', exp_year: '20' });
    await frame.locator('#err-pan').waitFor();
    await expect(frame.locator('#err-pan').textContent()).resolves.toContain('(код 14)');
    await expect(frame.locator('#err-exp_month').textContent()).resolves.toContain(
      'Некорректно введен срок действия карты.',
    );
    await expect(frame.locator('#pan').inputValue()).resolves.toBe('4405 6397 0401 5097');
    await shot(page, 'widget-card-inline-errors');
    expect((await txOf(base, hash)).status).toBe('pending');
    await fillCard(frame, { pan: '4405 6397 0401 5096' });
    await frame.locator('#continue').click();
    await page.waitForURL(result('success'));
  });

  it('the close button posts "close" and the parent removes #iframe_widget; without the flag there is no button', async () => {
    const hash = await createOrder(base);
    const frame = await openInShop(hash, true);
    await frame.locator('a.close').click();
    await page.waitForSelector('#iframe_widget', { state: 'detached' });
    expect(await messages()).toEqual(['close']);
    expect(page.url()).toContain('/demo?hash=');
    expect((await txOf(base, hash)).status).toBe('pending');

    const noClose = await createOrder(base, { show_close_button: false });
    const frame2 = await openInShop(noClose, false);
    await expect(frame2.locator('a.close').count()).resolves.toBe(0);
  });

  it('a force URL skips the receipt: the parent goes straight to it', async () => {
    const force = `${base}/demo/result?outcome=success&order_id=forced`;
    const hash = await createOrder(base, {
      callback_force_success_url: force,
      callback_success_url: result('success'),
    });
    const frame = await openInShop(hash);
    await fillCard(frame, { pan: '3775 1450 0004 820', cvc: '1234' });
    await page.waitForURL(force);
    expect(await messages()).toEqual([force]);
    expect((await txOf(base, hash)).status).toBe('success');
  });

  it('the v1 form flow: an app posts the acquirer-options fields to action, pays, and comes back through BackLink', async () => {
    const created = await fetch(`${base}/__admin/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Legacy app',
        domains: ['127.0.0.1', 'localhost'],
        public_key: '0X/Tkqu9KnZDgKEJb7LUgoIFOrZgvk2Z4XPYoLvVC3Y=',
        acquirer_options_version: 1,
      }),
    });
    const merchant = (await created.json()) as { app_id: string; app_key: string };
    const hash = await createOrder(
      base,
      { callback_success_url: result('success') },
      merchant.app_id,
      merchant.app_key,
    );
    const optionsRes = await fetch(`${base}/api/v1/merchant-widget/payment/${hash}/acquirer-options`);
    const o = ((await optionsRes.json()) as { payload: Record<string, string> }).payload;
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
    // The form from the iOS|Android guide, as an app's WebView would load it.
    await page.setContent(`<!doctype html><html><body>
<form name="SendOrder" method="post" enctype="multipart/form-data" action="${esc(o.action!)}">
  <input type="text" name="Signed_Order_B64" value="${esc(o.signed_order!)}">
  <input type="text" id="em" name="email" value="info@ktpay.kz">
  <input type="text" name="Language" value="${esc(o.language!)}">
  <input type="text" name="BackLink" value="${esc(o.back_link!)}">
  <input type="text" name="PostLink" value="${esc(o.post_link!)}">
  <input type="text" name="template" value="${esc(o.template!)}">
  <input type="submit" id="submit1" name="submit1" value="Pay">
</form></body></html>`);
    await page.click('#submit1');
    await page.waitForURL(/\/acquirer\/payform\?params=/);
    await fillCard(page, { pan: '4405 6397 0401 5096' });
    await page.waitForURL(/\/payment-card\/receipt\?hash=/);
    await shot(page, 'v1-receipt');
    await page.click('#continue');
    await page.waitForURL(result('success'));
    const tx = await waitForStatus(base, hash, 'success');
    expect(tx.status).toBe('success');
  });
});
