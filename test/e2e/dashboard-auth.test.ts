import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_COOKIE } from '../../mock-server/routes/admin-auth.js';
import type { RunningServer } from '../../mock-server/server.js';
import { launchTestBrowser } from '../helpers/browser.js';
import { nextOrderId } from '../helpers/sandbox.js';
import { createOverHttp, screenshot, startDashboardSandbox, waitForLive } from './dashboard-helpers.js';

const TOKEN = 'browser-admin-token-42';

/** Issue 8: with ADMIN_TOKEN set, the dashboard asks for the token once and never shows data without it. */
describe('dashboard token prompt in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  let base: string;

  beforeAll(async () => {
    server = await startDashboardSandbox({ admin_token: TOKEN });
    base = server.url;
    browser = await launchTestBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('asks for the token, refuses a wrong one, then signs in once and stays live', async () => {
    const orderId = nextOrderId('HIDDEN');
    await createOverHttp(base, { order_id: orderId });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();

    const first = await page.goto(`${base}/__admin/ui/transactions`);
    expect(first?.status()).toBe(401);
    await page.locator('#token').waitFor();
    expect(await page.content()).not.toContain(orderId);
    await screenshot(page, '10-token-prompt');

    await page.locator('#token').fill('not-the-token');
    await page.locator('#login-submit').click();
    await page.locator('#login-error').waitFor();
    expect(await page.content()).not.toContain(orderId);

    await page.locator('#token').fill(TOKEN);
    await page.locator('#login-submit').click();
    await page.waitForURL(`${base}/__admin/ui/transactions`);
    await page.locator('#tx-table').waitFor();
    expect(await page.locator('#tx-table').textContent()).toContain(orderId);

    // The session lives in an HttpOnly cookie: script on the page cannot read it, and it is not the token.
    const cookies = await context.cookies(`${base}/__admin/ui/transactions`);
    const session = cookies.find((c) => c.name === DASHBOARD_COOKIE);
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/__admin' });
    expect(session?.value).not.toContain(TOKEN);
    expect(await page.evaluate(() => document.cookie)).not.toContain(DASHBOARD_COOKIE);
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))).not.toContain(
      TOKEN,
    );

    // The event stream accepts the session: a new payment appears without a reload.
    await waitForLive(page);
    const hash = await createOverHttp(base, { order_id: nextOrderId('AFTER-LOGIN') });
    await page.locator(`tr[data-hash="${hash}"]`).waitFor({ timeout: 2_000 });

    // Asked once: other pages open directly, and actions (admin API calls on the cookie) work.
    await page.goto(`${base}/__admin/ui/transactions/${hash}`);
    await page.locator('#pay-button').click();
    await expect
      .poll(() => page.locator('#live').getAttribute('data-status'), { timeout: 5_000 })
      .toBe('success');
    await page.goto(`${base}/__admin/ui/merchants`);
    expect(await page.locator('article.merchant').count()).toBeGreaterThan(0);

    // Signing out ends it.
    await page.locator('button', { hasText: 'Sign out' }).click();
    await page.locator('#token').waitFor();
    const again = await page.goto(`${base}/__admin/ui/transactions`);
    expect(again?.status()).toBe(401);
    await context.close();
  });

  it('takes ?token= from a link and removes it from the address bar', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/__admin/ui/journal?show=all&token=${TOKEN}`);
    expect(page.url()).toBe(`${base}/__admin/ui/journal?show=all`);
    await page.locator('h1', { hasText: 'Journal' }).waitFor();
    await context.close();
  });

  it('refuses the event stream without the session', async () => {
    const res = await fetch(`${base}/__admin/ui/events`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(4010121);
  });
});
