import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../scenarios/runner/find-chromium.js';
import type { RunReport, ScenarioResult } from '../../scenarios/runner/outcome.js';
import { htmlReport } from '../../scenarios/runner/reporters/html-reporter.js';

/**
 * Acceptance (issue 18): `--reporter html` writes one self-contained page. In Chromium it opens
 * without a console error or any request besides itself, shows each scenario, its steps and the
 * failure with expected/actual/evidence/fix and links into the sandbox, and shows text that came
 * from the shop as text: markup in a shop's answer never runs.
 */
const SANDBOX = 'http://127.0.0.1:8077';
const HASH = 'ab'.repeat(20);
const XSS = [
  '<script>window.__pwned = 1</script>',
  '<img src=x onerror="window.__pwned = 2">',
  '"><svg onload="window.__pwned = 3">',
  "' onmouseover='window.__pwned = 4",
];

const passed: ScenarioResult = {
  name: 'happy-path',
  suite: 'merchant-checks',
  file: 'scenarios/suites/merchant-checks/01-happy-path.yaml',
  description: 'A frictionless card payment.',
  status: 'passed',
  duration_ms: 412,
  order_id: 'ORD-1',
  transaction_hash: 'cd'.repeat(20),
  sandbox_scenario: null,
  steps: [
    {
      index: 1,
      type: 'trigger',
      explain: 'make the shop create a payment',
      status: 'passed',
      duration_ms: 40,
      notes: ['create-payment: journal entry 3'],
    },
  ],
};
const failed: ScenarioResult = {
  name: 'create-5000105',
  suite: 'merchant-checks',
  file: 'scenarios/suites/merchant-checks/14-create-5000105.yaml',
  description: 'Create payment fails with 5000105.',
  status: 'failed',
  duration_ms: 1530,
  order_id: `ORD-${XSS[3]}`,
  transaction_hash: HASH,
  sandbox_scenario: 'create-5000105',
  steps: [
    {
      index: 1,
      type: 'trigger',
      explain: 'make the shop create a payment',
      status: 'passed',
      duration_ms: 30,
      notes: [`POST /checkout → 500 ${XSS[1]}`],
    },
    {
      index: 2,
      type: 'expect_trigger_response',
      explain: 'a handled failure',
      status: 'failed',
      duration_ms: 1,
      notes: [],
    },
    {
      index: 3,
      type: 'verify',
      explain: 'the order is unpaid',
      status: 'not_run',
      duration_ms: 0,
      notes: [],
    },
  ],
  failure: {
    step: 2,
    step_type: 'expect_trigger_response',
    check: 'merchant_5xx',
    message: `the shop answered 500 (a crash, not a handled failure) ${XSS[2]}`,
    expected: 'an answer below 500, or 502/503/504 with a body',
    actual: `500 ${XSS[0]}`,
    evidence: {
      journal_entry: 7,
      delivery: 'dlv_"><b>1',
      attempt: 1,
      request: `POST http://127.0.0.1:3000/checkout?q=${XSS[0]}`,
      response: XSS.join(' '),
      path: ['GET /payment-card?hash=x', `GET http://shop/${XSS[1]}`],
    },
    hint: 'catch the gateway error',
  },
};
const report: RunReport = {
  tool: 'ktpay-mock run',
  version: '0.1.0',
  seed: 7,
  started_at: '2026-12-04T10:00:00.000Z',
  duration_ms: 2300,
  sandbox: { mode: 'external', url: SANDBOX },
  merchant: { app_id: 'e2d3d70d53c67bcd377266f74e98587c', created: true },
  trigger: 'http',
  parallel: 4,
  summary: { total: 3, passed: 1, failed: 1, skipped: 1 },
  scenarios: [
    passed,
    failed,
    { ...passed, name: 'widget-close', status: 'skipped', skip_reason: 'needs a browser trigger', steps: [] },
  ],
};

let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), 'ktpay-html-report-'));
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the HTML report in Chromium', () => {
  it('is self-contained, opens without errors, shows every part of a failure and runs nothing from the shop', async () => {
    const html = htmlReport(report);
    expect(html).not.toMatch(/<script|<link|<img|<svg|@import|url\(/i);
    const file = join(dir, 'ktpay-mock-report.html');
    writeFileSync(file, html);
    const page = await browser.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() !== 'log' && problems.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.locator('.failure dd').first().hover(); // a mouse over shop text triggers nothing
    expect(problems).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.title()).toBe('ktpay-mock run: FAIL — 1 passed, 1 failed, 1 skipped');

    // The shop's text is shown as it was, character for character.
    const failure = page.locator('#s-2 .failure');
    await expect(failure.locator('h3').innerText()).resolves.toContain(XSS[2]);
    const [expected, actual] = await failure.locator('pre').allInnerTexts();
    expect(expected).toBe('an answer below 500, or 502/503/504 with a body');
    expect(actual).toBe(`500 ${XSS[0]}`);
    await expect(failure.innerText()).resolves.toContain('catch the gateway error');
    await expect(page.locator('#s-2 .notes').innerText()).resolves.toContain(XSS[1]);

    // Failed scenarios are open, the others folded; every scenario is listed with its result.
    expect(await page.locator('#s-2').getAttribute('open')).toBe('');
    expect(await page.locator('#s-1').getAttribute('open')).toBeNull();
    await expect(page.locator('tbody tr').allInnerTexts()).resolves.toEqual([
      expect.stringContaining('happy-path'),
      expect.stringContaining('merchant_5xx'),
      expect.stringContaining('needs a browser trigger'),
    ]);

    // Evidence links into the sandbox: the dashboard and the admin API's JSON.
    const hrefs = await failure
      .locator('a')
      .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(hrefs).toEqual([
      `${SANDBOX}/__admin/ui/transactions/${HASH}#journal`,
      `${SANDBOX}/__admin/journal?transaction_hash=${HASH}`,
      `${SANDBOX}/__admin/ui/transactions/${HASH}#callbacks`,
      `${SANDBOX}/__admin/callbacks/dlv_%22%3E%3Cb%3E1`,
    ]);
    await expect(page.locator('#s-2 summary').innerText()).resolves.toContain('create-5000105');
    await page.close();
  });
});
