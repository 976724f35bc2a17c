import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../mock-server/server.js';
import { launchTestBrowser } from '../helpers/browser.js';
import { DASHBOARD_ARTIFACTS, screenshot, startDashboardSandbox } from './dashboard-helpers.js';

/** Issue 8: `/docs` renders the generated OpenAPI document in Chromium, offline. */
describe('/docs in Chromium', () => {
  let browser: Browser;
  let server: RunningServer;

  beforeAll(async () => {
    server = await startDashboardSandbox({ admin_token: 'docs-stay-open' });
    browser = await launchTestBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('renders every operation of /openapi.json with assets from this sandbox only', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    page.on('pageerror', (e) => errors.push(e.message));

    const res = await page.goto(`${server.url}/docs`);
    expect(res?.status()).toBe(200);
    // Swagger UI renders ~30 operations in script: seconds of CPU, many more on a busy shared machine.
    await page.locator('.opblock').first().waitFor({ timeout: 60_000 });
    expect(await page.locator('.opblock').count()).toBe(operations);
    const title = await page.locator('.info .title').textContent();
    expect(title).toContain('ktpay merchant widget API');
    for (const tag of ['Merchant API', 'Admin: callbacks'])
      expect(await page.locator('.opblock-tag', { hasText: tag }).count()).toBeGreaterThan(0);
    await expect(
      page
        .locator('.opblock-summary-path', { hasText: '/api/v1/merchant-widget/payment' })
        .first()
        .isVisible(),
    ).resolves.toBe(true);

    // Open "Create a payment": its error examples are there, per dialect.
    await page.locator('.opblock-post .opblock-summary', { hasText: 'Create a payment' }).first().click();
    await page.locator('.opblock.is-open .responses-table').waitFor();
    expect(await page.locator('.opblock.is-open').textContent()).toContain('422');
    await page.screenshot({ path: join(DASHBOARD_ARTIFACTS, '20-docs-top.png') });
    await screenshot(page, '20-docs');
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
  }, 120_000);
});
