import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import type { RunningServer } from '../../mock-server/server.js';
import { startReceiver, type Receiver } from '../callbacks/receiver.js';
import { registeredRoutes } from '../helpers/registered-routes.js';
import { launchTestBrowser } from '../helpers/browser.js';
import { seal } from '../helpers/sandbox.js';
import { createOrder, startSandbox, waitForStatus } from './browser.js';

/**
 * Issue 11 §6: every page that shows merchant- or shopper-supplied text — the bank's card page
 * (also re-shown with the shopper's own input after an error), the 3-D Secure page, the widget's
 * receipt, default and exit pages, the demo shop and its result page, the HTML error pages that
 * echo a diagnostic, the dashboard's transaction list, detail, merchants and journal, and the
 * dashboard sign-in — is rendered in Chromium with hostile payloads in every field a merchant or
 * shopper controls. A payload that ran would set `window.__xss` or open a dialog; neither may
 * happen, in any frame. Each page must also really show the payload (as text), so the test cannot
 * pass by rendering something else. The list of page routes comes from Fastify's route table, so a
 * page added later fails the last test until it is covered here or exempted with a reason.
 *
 * test/e2e/dashboard-escaping.test.ts (issue 8) renders the dashboard and the main hosted pages
 * with payloads in names, order ids, descriptions and the cardholder. This file adds the rest:
 * the exit page and its force URL, the demo shop and its no-JS checkout, the HTML error pages that
 * echo input, the card form's other fields, a declined payment's receipt, and in the dashboard the
 * merchant's own callback answer, hostile request headers and paths, hostile field names, the
 * filters and the sign-in page.
 */

/** Page routes that show no merchant or shopper text, each with the reason. */
const NO_USER_TEXT: Record<string, string> = {
  'GET /__admin/ui': 'redirects to /__admin/ui/transactions',
  'GET /__admin/ui/': 'redirects to /__admin/ui/transactions',
  'GET /__admin/ui/assets/:name': 'static dashboard CSS/JS',
  'GET /__admin/ui/events': 'server-sent events: kinds and transaction hashes as JSON, not HTML',
  'POST /__admin/ui/logout': 'clears the cookie and redirects',
  'GET /static/ktpay-mock/:name': 'static page CSS/JS',
  'POST /acquirer/3ds': 'answers with a redirect only',
  'GET /payment-card/close': 'answers with a redirect only',
  'GET /docs': 'static API docs built from the contracts',
  'GET /docs/assets/:name': 'static API docs assets',
  'GET /openapi.json': 'the OpenAPI document (JSON)',
};

/** Each payload, if it ever ran, would set window.__xss (or parent's) or call alert. */
const P = {
  script: `<script>window.__xss='script'</script>`,
  img: `"><img src=x onerror="window.__xss='img'">`,
  svg: `'><svg onload="window.__xss='svg'">`,
  title: `</title><script>window.__xss='title'</script>`,
  json: `</script><script>alert('json')</script>`,
  srcdoc: `<iframe srcdoc="<script>parent.__xss='srcdoc'</script>">`,
  tmpl: "${alert('tmpl')}{{constructor.constructor('alert(1)')()}}",
};
const ALL = Object.values(P).join(' ');
/** Fields limited to 255 characters (order_id, merchant name). */
const SHORT = `${P.script} ${P.img} ${P.svg} ${P.json}`;
/** Fields limited to 128 characters (the card form's cardholder). */
const TINY = `${P.img}${P.script}`;
/** A valid http URL (the schema refuses anything else) that still tries to break out of href and meta refresh. */
const HOSTILE_URL =
  "http://127.0.0.1:9/ok?x='-alert('u')-'&y=;url=javascript:alert('refresh')#'onmouseover='alert(1)";

interface PageVisit {
  label: string;
  route: string;
}

let server: RunningServer;
let tokenServer: RunningServer;
let browser: Browser;
let context: BrowserContext;
let receiver: Receiver;
const visited: PageVisit[] = [];
const dialogs: string[] = [];

let merchant: { app_id: string; app_key: string };
let pendingHash: string;
let declinedHash: string;
let paidHash: string;

async function adminPost(base: string, path: string, body: unknown) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function freshPage(): Promise<Page> {
  const page = await context.newPage();
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()} on ${page.url()}`);
    void d.dismiss();
  });
  return page;
}

/**
 * Judges the page now in `page`: no payload ran in any frame, no dialog opened, and the visible
 * text holds `shows` (proof that the hostile text really reached this page).
 */
async function judge(page: Page, visit: PageVisit, shows: string[]) {
  await page.waitForLoadState('load');
  // Give onerror/onload handlers and any injected frame time to run, were they ever injected.
  await page.waitForTimeout(200);
  for (const frame of page.frames()) {
    const flag = await frame
      .evaluate(() => (window as unknown as { __xss?: unknown }).__xss ?? null)
      .catch(() => null);
    expect(flag, `${visit.label}: a payload ran in ${frame.url()}`).toBeNull();
  }
  expect(dialogs, visit.label).toEqual([]);
  const text = await page.locator('body').innerText();
  for (const s of shows) expect(text, `${visit.label} shows the hostile text`).toContain(s);
  visited.push(visit);
}

async function open(visit: PageVisit, url: string, shows: string[]) {
  const page = await freshPage();
  try {
    await page.goto(url);
    await judge(page, visit, shows);
  } finally {
    await page.close();
  }
}

/** Submits a POST form from a page of the sandbox's own origin, as a browser would. */
async function submitForm(page: Page, action: string, fields: Record<string, string>) {
  await page.evaluate(
    ({ action, fields }) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = action;
      for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    },
    { action, fields },
  );
  await page.waitForLoadState('load');
}

beforeAll(async () => {
  await cryptoReady();
  // The merchant's callback endpoint answers with markup: the dashboard shows that answer.
  receiver = await startReceiver((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>${P.script}${P.img}</html>`);
  });
  server = await startSandbox({ clearing_delay_ms: 'manual', callbacks: { schedule_ms: [] } });
  tokenServer = await startSandbox({ admin_token: 'xss-test-token' });
  browser = await launchTestBrowser();
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const base = server.url;

  merchant = (await adminPost(base, '/__admin/merchants', {
    name: SHORT,
    domains: ['127.0.0.1', 'localhost'],
    public_key: generateKeypair().publicKey,
    callback_post_url: receiver.url,
    callback_success_url: HOSTILE_URL,
    callback_failed_url: HOSTILE_URL,
    callback_back_url: HOSTILE_URL,
  })) as { app_id: string; app_key: string };

  const hostileOrder = (suffix: string, extra: Record<string, unknown> = {}) => ({
    order_id: `${SHORT.slice(0, 240)}#${suffix}`,
    description: ALL,
    // An unknown field whose *name* is hostile: accepted with a contract warning, marked in the dashboard.
    [`${P.img}`]: P.script,
    ...extra,
  });
  pendingHash = await createOrder(base, hostileOrder('pending'), merchant.app_id, merchant.app_key);
  declinedHash = await createOrder(base, hostileOrder('declined'), merchant.app_id, merchant.app_key);
  paidHash = await createOrder(
    base,
    hostileOrder('paid', { callback_force_success_url: HOSTILE_URL }),
    merchant.app_id,
    merchant.app_key,
  );
  // Paid headlessly with a hostile cardholder, cleared, so a callback goes out (and is answered with markup).
  await adminPost(base, `/__admin/transactions/${paidHash}/pay`, {
    pan: '4405639704015096',
    exp_month: '12',
    exp_year: '30',
    cvc: '123',
    cardholder: TINY,
  });
  await adminPost(base, `/__admin/transactions/${paidHash}/clear`, {});
  await receiver.waitFor(1);
  // Journal entries whose headers and path are hostile.
  await fetch(`${base}/api/v1/merchant-widget/payment`, {
    method: 'POST',
    headers: { 'auth-identifier': SHORT, 'x-shop': ALL },
    body: ALL,
  });
  await fetch(`${base}/api/v1/merchant-widget/payment/${encodeURIComponent(P.script)}`, {
    headers: { 'auth-identifier': merchant.app_id },
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
  await tokenServer?.close();
  await receiver?.close();
});

describe('hostile merchant and shopper text never runs as script (Chromium)', () => {
  it('the bank card page, and the same page re-shown with the shopper’s hostile input', async () => {
    const page = await freshPage();
    try {
      await page.goto(`${server.url}/acquirer/payform?params=${pendingHash}`);
      await judge(page, { label: 'card page', route: 'GET /acquirer/payform' }, [P.script, P.svg, P.srcdoc]);
      // The shopper types markup into every field; a Luhn-invalid PAN makes the bank show the form again.
      await page.locator('#pan').fill(`4111${P.img}`.slice(0, 23));
      await page.locator('#exp_month').fill('1"');
      await page.locator('#exp_year').fill('"><b');
      await page.locator('#cvc').fill('12');
      await page.locator('#cardholder').fill(TINY);
      await page.locator('#email').fill(`${P.img}@x.kz`);
      await page.locator('#pay').click();
      await page.waitForLoadState('load');
      await judge(page, { label: 'card page with inline errors', route: 'POST /acquirer/payform' }, [
        P.script,
      ]);
      expect(await page.locator('#cardholder').inputValue()).toBe(TINY);
      expect(await page.locator('#email').inputValue()).toBe(`${P.img}@x.kz`);
    } finally {
      await page.close();
    }
  });

  it('the 3-D Secure page, then the receipt of the refused payment', async () => {
    const page = await freshPage();
    try {
      await page.goto(`${server.url}/payment-card?hash=${declinedHash}&show_close_button=true`);
      await page.locator('#pan').fill('5522 0427 0506 6736');
      await page.locator('#exp_month').fill('12');
      await page.locator('#exp_year').fill('30');
      await page.locator('#cvc').fill('123');
      await page.locator('#cardholder').fill(TINY);
      await page.locator('#pay').click();
      await page.locator('#otp').waitFor();
      await judge(page, { label: '3-D Secure page', route: 'GET /acquirer/3ds' }, [P.script, P.svg]);
      await page.locator('#otp').fill('0000');
      await page.locator('#confirm').click();
      await page.locator('[data-testid="status"]').waitFor();
      await judge(page, { label: 'receipt (refused)', route: 'GET /payment-card/receipt' }, [
        P.script,
        P.img,
      ]);
    } finally {
      await page.close();
    }
    const tx = await waitForStatus(server.url, declinedHash, 'error');
    expect(tx.status).toBe('error');
  });

  it('the widget pages of a paid payment: receipt, default page, exit page with a hostile force URL', async () => {
    await open(
      { label: 'receipt (paid)', route: 'GET /payment-card/receipt' },
      `${server.url}/payment-card/receipt?hash=${paidHash}`,
      [P.script, P.json],
    );
    await open(
      { label: 'default result page', route: 'GET /payment-card/done' },
      `${server.url}/payment-card/done?hash=${paidHash}`,
      [P.script, P.tmpl],
    );
    const exit = await freshPage();
    try {
      // Outside an iframe, frame.js replaces the exit page with the force URL: the browser must
      // *navigate* to it as an http URL (answered here by a stub), never evaluate any part of it.
      await exit.route(/^http:\/\/127\.0\.0\.1:9\//, (route) =>
        route.fulfill({ status: 200, contentType: 'text/html', body: '<p id="landed">merchant page</p>' }),
      );
      await exit.goto(`${server.url}/payment-card/redirect?hash=${paidHash}`);
      await exit.locator('#landed').waitFor();
      expect(exit.url()).toMatch(/^http:\/\/127\.0\.0\.1:9\/ok\?x=/);
      await judge(exit, { label: 'exit page (force URL)', route: 'GET /payment-card/redirect' }, [
        'merchant page',
      ]);
    } finally {
      await exit.close();
    }
    await open(
      { label: 'default page of a pending payment', route: 'GET /payment-card/done' },
      `${server.url}/payment-card/done?hash=${pendingHash}`,
      [P.script],
    );
  });

  it('the demo shop: its result page echoing order_id, and a hostile description through the no-JS checkout', async () => {
    await open(
      { label: 'demo result page', route: 'GET /demo/result' },
      `${server.url}/demo/result?outcome=success&order_id=${encodeURIComponent(SHORT)}`,
      [P.script, P.img],
    );
    const page = await freshPage();
    try {
      await page.goto(`${server.url}/demo`);
      await judge(page, { label: 'demo shop', route: 'GET /demo' }, ['app_id']);
      // The no-JavaScript checkout, as a browser without scripts would post it.
      await submitForm(page, '/demo/checkout', {
        amount: '100',
        description: ALL.slice(0, 1024),
        show_close_button: 'true',
      });
      await judge(page, { label: 'card page after the no-JS demo checkout', route: 'POST /demo/checkout' }, [
        P.script,
        P.srcdoc,
      ]);
    } finally {
      await page.close();
    }
  });

  it('HTML error pages that echo what was sent (v1 form, bad query strings)', async () => {
    const page = await freshPage();
    try {
      await page.goto(`${server.url}/demo`);
      await submitForm(page, '/acquirer/epay/logon', {
        PostLink: SHORT,
        BackLink: HOSTILE_URL,
        Signed_Order_B64: P.img,
        Language: P.svg,
        template: P.json,
      });
      await judge(page, { label: 'v1 form refused (error page)', route: 'POST /acquirer/epay/logon' }, [
        P.script,
      ]);
    } finally {
      await page.close();
    }
    await open(
      { label: 'card page with a hostile params', route: 'GET /acquirer/payform' },
      `${server.url}/acquirer/payform?params=${encodeURIComponent(SHORT)}`,
      ['4040108'],
    );
    await open(
      { label: 'widget page with a hostile hash', route: 'GET /payment-card' },
      `${server.url}/payment-card?hash=${encodeURIComponent(SHORT)}&${encodeURIComponent(P.img)}`,
      ['4040108'],
    );
  });

  it('the dashboard: transaction list and search, each transaction, merchants, journal', async () => {
    const ui = `${server.url}/__admin/ui`;
    await open(
      { label: 'dashboard transactions', route: 'GET /__admin/ui/transactions' },
      `${ui}/transactions`,
      [P.script],
    );
    await open(
      { label: 'dashboard search', route: 'GET /__admin/ui/transactions' },
      `${ui}/transactions?q=${encodeURIComponent(P.img)}&app_id=${encodeURIComponent(P.svg)}`,
      [],
    );
    for (const [label, hash] of [
      ['pending', pendingHash],
      ['declined', declinedHash],
      ['paid, with the callback answer', paidHash],
    ] as const) {
      await open(
        { label: `dashboard transaction (${label})`, route: 'GET /__admin/ui/transactions/:hash' },
        `${ui}/transactions/${hash}`,
        [P.script],
      );
    }
    await open({ label: 'dashboard merchants', route: 'GET /__admin/ui/merchants' }, `${ui}/merchants`, [
      P.script,
    ]);
    await open({ label: 'dashboard journal', route: 'GET /__admin/ui/journal' }, `${ui}/journal?show=all`, [
      P.script,
    ]);
    await open(
      { label: 'dashboard journal, hostile filter', route: 'GET /__admin/ui/journal' },
      `${ui}/journal?app_id=${encodeURIComponent(P.img)}`,
      [],
    );
  });

  it('the dashboard sign-in, with a hostile next and a wrong token', async () => {
    const ui = `${tokenServer.url}/__admin/ui`;
    await open(
      { label: 'dashboard sign-in', route: 'GET /__admin/ui/login' },
      `${ui}/login?next=${encodeURIComponent(`/__admin/ui/${P.img}`)}`,
      [],
    );
    await open(
      { label: 'dashboard sign-in (wrong token)', route: 'GET /__admin/ui/transactions' },
      `${ui}/transactions?token=${encodeURIComponent(P.svg)}`,
      [],
    );
    const page = await freshPage();
    try {
      await page.goto(`${ui}/login`);
      await submitForm(page, '/__admin/ui/login', { token: P.script, next: `/__admin/ui/${P.img}` });
      await judge(page, { label: 'dashboard sign-in refused', route: 'POST /__admin/ui/login' }, []);
    } finally {
      await page.close();
    }
  });

  it('a javascript: or data: URL never reaches a page: create refuses it', async () => {
    for (const url of [
      "javascript:alert('href')//http://127.0.0.1/",
      'data:text/html,<script>alert(1)</script>',
      'JaVaScRiPt:alert(1)',
    ]) {
      const res = await fetch(`${server.url}/api/v1/merchant-widget/payment`, {
        method: 'POST',
        headers: { 'auth-identifier': merchant.app_id },
        body: await seal(
          {
            order: {
              amount: 10,
              order_id: `js-${Math.random()}`,
              callback_force_success_url: url,
              callback_success_url: url,
            },
          },
          merchant.app_key,
        ),
      });
      expect(res.status, url).toBe(422);
    }
  });

  it('covered every page route of the route table that can show merchant or shopper text', () => {
    const routes = [...new Set(visited.map((v) => v.route))].sort();
    // Every route outside the JSON APIs (the merchant API and the admin JSON routes) is a page.
    const pages = registeredRoutes(server.app)
      .filter(
        (r) =>
          !r.path.startsWith('/api/') &&
          !(r.path.startsWith('/__admin') && !r.path.startsWith('/__admin/ui')),
      )
      .map((r) => `${r.method} ${r.path}`);
    for (const exempt of Object.keys(NO_USER_TEXT))
      expect(pages, `exempted route ${exempt} exists`).toContain(exempt);
    expect(routes).toEqual(pages.filter((p) => !NO_USER_TEXT[p]).sort());
    expect(dialogs).toEqual([]);
    console.info(
      `xss: ${visited.length} page renders over ${routes.length} page routes, ${Object.keys(P).length} payload kinds, 0 scripts ran`,
    );
  });
});
