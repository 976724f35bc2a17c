import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { APP_ID, orderPayload, seal, testConfig } from '../helpers/sandbox.js';

/**
 * The shopper journey over a real socket with plain HTTP: no browser, no JavaScript, just GETs,
 * form POSTs and Location headers, as a scenario runner or curl would do it.
 */
let server: RunningServer;
let base: string;
beforeAll(async () => {
  server = await startServer(testConfig({ port: 0, clearing_delay_ms: 300 }), { logger: false });
  base = server.url;
});
afterAll(async () => {
  await server.close();
});

const get = (url: string, headers: Record<string, string> = {}) =>
  fetch(new URL(url, base), { redirect: 'manual', headers });
const postForm = (url: string, fields: Record<string, string>) =>
  fetch(new URL(url, base), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });

async function create(order: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${base}/api/v1/merchant-widget/payment`, {
    method: 'POST',
    headers: { 'auth-identifier': APP_ID, 'content-type': 'text/plain' },
    body: await seal(orderPayload(order)),
  });
  const body = (await res.json()) as { payload: { transaction_hash: string } };
  return body.payload.transaction_hash;
}

async function statusOf(hash: string) {
  const res = await get(`/api/v1/merchant-widget/payment/${hash}`, { 'auth-identifier': APP_ID });
  return ((await res.json()) as { payload: { status: { status: string } } }).payload.status.status;
}

/** Reads `<form … action="X">` and its hidden inputs from a page, as a form-posting client does. */
function formOf(html: string) {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const hidden: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    hidden[m[1]!] = m[2]!;
  return { action: action!, hidden };
}

describe('plain HTTP walk on a real socket', () => {
  it('5522 0427 0506 6736 + OTP 1111: widget → bank → ACS → receipt, then pending → authorized → success → completed', async () => {
    const hash = await create({ callback_success_url: 'http://shop.example.kz/thanks' });
    const widget = await get(`/payment-card?hash=${hash}&show_close_buttonfalse`);
    expect(widget.status).toBe(303);
    const bank = await get(widget.headers.get('location')!);
    expect(bank.status).toBe(200);
    const cardForm = formOf(await bank.text());
    expect(cardForm.action).toBe('/acquirer/payform');
    const afterCard = await postForm(cardForm.action, {
      ...cardForm.hidden,
      pan: '5522 0427 0506 6736',
      exp_month: '12',
      exp_year: '30',
      cvc: '123',
      cardholder: 'IVAN IVANOV',
      email: 'ivan@example.kz',
    });
    expect(afterCard.status).toBe(303);
    const acs = await get(afterCard.headers.get('location')!);
    const acsHtml = await acs.text();
    expect(acsHtml).toContain('name="otp"');
    const otpForm = formOf(acsHtml);
    const afterOtp = await postForm(otpForm.action, { ...otpForm.hidden, otp: '1111', action: 'confirm' });
    expect(afterOtp.status).toBe(303);
    const backLink = afterOtp.headers.get('location')!;
    expect(backLink).toBe(`${base}/api/v1/merchant-widget/payment/${hash}/back-link`);
    const toReceipt = await get(backLink);
    expect(toReceipt.headers.get('location')).toBe(`/payment-card/receipt?hash=${hash}`);
    const receipt = await (await get(toReceipt.headers.get('location')!)).text();
    expect(receipt).toContain('552204******6736');
    const continueUrl = /id="continue" href="([^"]+)"/.exec(receipt)?.[1];
    expect(continueUrl).toBe('http://shop.example.kz/thanks');
    expect(await statusOf(hash)).toBe('success');

    const deadline = Date.now() + 5000;
    while ((await statusOf(hash)) !== 'completed' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const tx = (await (await get(`/__admin/transactions/${hash}`)).json()) as {
      history: { status: string; at: string }[];
    };
    expect(tx.history.map((h) => h.status)).toEqual(['pending', 'authorized', 'success', 'completed']);
    for (const h of tx.history) expect(h.at).toMatch(/\+06:00$/);
  });

  it('the same walk headlessly through POST /__admin/transactions/{hash}/pay', async () => {
    const hash = await create();
    const res = await fetch(`${base}/__admin/transactions/${hash}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        pan: '5522042705066736',
        exp_month: '12',
        exp_year: '2030',
        cvc: '123',
        cardholder: 'IVAN IVANOV',
        otp: '1111',
      }),
    });
    expect(res.status).toBe(200);
    expect(await statusOf(hash)).toBe('success');
    const deadline = Date.now() + 5000;
    while ((await statusOf(hash)) !== 'completed' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(await statusOf(hash)).toBe('completed');
  });

  it('the demo shop works without JavaScript: its form is sealed by the server and lands on the widget', async () => {
    const demo = await (await get('/demo')).text();
    expect(demo).toContain('<title>Демо-магазин — ktpay-mock</title>');
    expect(demo).toContain('action="/demo/checkout"');
    const checkout = await postForm('/demo/checkout', {
      amount: '2500',
      description: 'Без JS',
      show_close_button: 'true',
    });
    expect(checkout.status).toBe(303);
    const widgetUrl = checkout.headers.get('location')!;
    expect(widgetUrl).toMatch(/^\/payment-card\?hash=[0-9a-f]{40}&show_close_button=true$/);
    const bank = await get((await get(widgetUrl)).headers.get('location')!);
    const html = await bank.text();
    expect(html).toContain('2\u00a0500\u00a0₸');
    expect(html).toContain('Без JS');
  });
});

describe('CORS on a real socket', () => {
  it('a preflight from http://localhost:<port> for the default merchant succeeds and allows Auth-Identifier and Content-Type', async () => {
    const origin = `http://localhost:${new URL(base).port}`;
    const res = await fetch(`${base}/api/v1/merchant-widget/payment`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'auth-identifier,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    const allowed = res.headers.get('access-control-allow-headers')!.toLowerCase();
    expect(allowed).toContain('auth-identifier');
    expect(allowed).toContain('content-type');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('an unregistered origin gets no Access-Control-Allow-Origin, on preflight or real requests', async () => {
    const pre = await fetch(`${base}/api/v1/merchant-widget/payment`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const hash = await create();
    const real = await get(`/api/v1/merchant-widget/payment/${hash}`, {
      origin: 'http://evil.example.com',
      'auth-identifier': APP_ID,
    });
    expect(real.status).toBe(200);
    expect(real.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('real requests are checked against their own merchant, for the API and the widget page alike', async () => {
    const hash = await create();
    const origin = 'https://shop.example.kz';
    const api = await get(`/api/v1/merchant-widget/payment/${hash}`, { origin, 'auth-identifier': APP_ID });
    expect(api.headers.get('access-control-allow-origin')).toBe(origin);
    expect(api.headers.get('vary')).toContain('Origin');
    const widget = await get(`/payment-card?hash=${hash}`, { origin: 'http://sub.shop.example.kz:9000' });
    expect(widget.headers.get('access-control-allow-origin')).toBe('http://sub.shop.example.kz:9000');
    const options = await get(`/api/v1/merchant-widget/payment/${hash}/acquirer-options`, {
      origin: 'http://127.0.0.1:1234',
    });
    expect(options.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:1234');

    // Another merchant's domain: the preflight passes (some merchant registered it), the real request does not.
    const other = await fetch(`${base}/__admin/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Other',
        domains: ['other-shop.kz'],
        public_key: '0X/Tkqu9KnZDgKEJb7LUgoIFOrZgvk2Z4XPYoLvVC3Y=',
      }),
    });
    expect(other.status).toBe(201);
    const pre = await fetch(`${base}/api/v1/merchant-widget/payment/${hash}`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://other-shop.kz',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'auth-identifier',
      },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://other-shop.kz');
    const real = await get(`/api/v1/merchant-widget/payment/${hash}`, {
      origin: 'https://other-shop.kz',
      'auth-identifier': APP_ID,
    });
    expect(real.headers.get('access-control-allow-origin')).toBeNull();
  });
});
