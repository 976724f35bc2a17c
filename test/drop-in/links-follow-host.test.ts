/**
 * Every URL the sandbox generates follows the host and scheme of the request it answers
 * (issue 23): payment_page, the v1 fields, the widget's redirects and receipt, the default result
 * page, the admin view. Over the real HTTPS listener with certificate checks on, addressed as the
 * ktpay test hosts, and over HTTP with PUBLIC_URL set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { API, orderPayload, seal } from '../helpers/sandbox.js';
import { card, urlencoded } from '../shopper-journey/journey.js';
import {
  httpsRequest,
  startTlsSandbox,
  testTlsFolder,
  type HttpsAnswer,
  type TlsSandbox,
} from './tls-sandbox.js';

const FINTECH = 'fintech.test.nplus.tech';
const WIDGET = 'widget.test.nplus.tech';
const V1_APP_ID = 'b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1';
const PUBLIC_URL = 'http://public.example:8077';

let folder: Awaited<ReturnType<typeof testTlsFolder>>;
let sandbox: TlsSandbox;
let at: { host: string; port: number };

/** An HTTPS request as a client of `host` makes it. */
const https = (host: string, path: string, opts: Parameters<typeof httpsRequest>[4] = {}) =>
  httpsRequest(folder.ca, at, host, path, opts);

async function createOver(
  host: string,
  order: Record<string, unknown> = {},
  appId: string = DEFAULT_MERCHANT.app_id,
) {
  const res = await https(host, `${API}/payment`, {
    method: 'POST',
    headers: { 'auth-identifier': appId, 'content-type': 'text/plain' },
    body: await seal(orderPayload(order)),
  });
  expect(res.status, res.body).toBe(200);
  return (JSON.parse(res.body) as { payload: { transaction_hash: string } }).payload.transaction_hash;
}

const locationOf = (res: HttpsAnswer) => String(res.headers.location);
const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: urlencoded(fields),
});

beforeAll(async () => {
  folder = await testTlsFolder();
  sandbox = await startTlsSandbox(folder.dir, {
    public_url: PUBLIC_URL,
    merchants: [
      {
        app_id: V1_APP_ID,
        name: 'Legacy v1 shop',
        domains: ['shop.example.kz'],
        public_key: DEFAULT_MERCHANT.app_key,
        server_keys: [
          { public_key: DEFAULT_MERCHANT.app_key, secret_key: DEFAULT_MERCHANT.server_secret_key },
        ],
        acquirer_options_version: 1,
      },
    ],
  });
  at = { host: '127.0.0.1', port: sandbox.httpsPort };
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  folder?.remove();
});

describe('links in answers on the HTTPS listener', () => {
  it('payment_page follows the host the request named, on either ktpay host, with its port when it had one', async () => {
    const hash = await createOver(FINTECH);
    for (const host of [FINTECH, WIDGET, `localhost:${at.port}`]) {
      const res = await https(host, `${API}/payment/${hash}/acquirer-options`);
      expect(JSON.parse(res.body).payload.payment_page).toBe(
        `https://${host}/acquirer/payform?params=${hash}`,
      );
    }
  });

  it('ignores PUBLIC_URL there, while an answer over plain HTTP still uses it', async () => {
    const hash = await createOver(FINTECH);
    const overHttp = await fetch(`${sandbox.url}${API}/payment/${hash}/acquirer-options`);
    expect(((await overHttp.json()) as { payload: { payment_page: string } }).payload.payment_page).toBe(
      `${PUBLIC_URL}/acquirer/payform?params=${hash}`,
    );
  });

  it('v1 acquirer-options: action, post_link, back_link and the callback_*_url defaults follow the host', async () => {
    const hash = await createOver(WIDGET, {}, V1_APP_ID);
    const o = JSON.parse((await https(WIDGET, `${API}/payment/${hash}/acquirer-options`)).body).payload;
    const base = `https://${WIDGET}`;
    expect(o).toMatchObject({
      action: `${base}/acquirer/epay/logon`,
      post_link: `${base}${API}/payment/${hash}/post-link`,
      back_link: `${base}${API}/payment/${hash}/back-link`,
      callback_back_url: `${base}/payment-card/done?hash=${hash}`,
      callback_success_url: `${base}/payment-card/done?hash=${hash}`,
      callback_failed_url: `${base}/payment-card/done?hash=${hash}`,
    });
  });

  it('a shopper who came to widget.test.nplus.tech stays there: bank, 3-D Secure, back-link, receipt, PDF, default page', async () => {
    const hash = await createOver(FINTECH);
    const open = await https(WIDGET, `/payment-card?hash=${hash}&show_close_buttonfalse`);
    expect(open.status).toBe(303);
    // Relative redirects keep the shopper on the host they are on.
    expect(locationOf(open)).toBe(`/acquirer/payform?params=${hash}`);
    const page = await https(WIDGET, locationOf(open));
    expect(page.status).toBe(200);
    const submitted = await https(
      WIDGET,
      '/acquirer/payform',
      form({ params: hash, ...card({ pan: '5522042705066736' }) }),
    );
    expect(locationOf(submitted)).toBe(`/acquirer/3ds?params=${hash}`);
    const otp = await https(WIDGET, '/acquirer/3ds', form({ params: hash, otp: '1111' }));
    expect(locationOf(otp)).toBe(`https://${WIDGET}${API}/payment/${hash}/back-link`);
    const back = await https(WIDGET, `${API}/payment/${hash}/back-link`);
    expect(locationOf(back)).toBe(`/payment-card/receipt?hash=${hash}`);
    const receipt = await https(WIDGET, `/payment-card/receipt?hash=${hash}`);
    // "Продолжить" leads to the default result page on the same origin; the PDF link is relative.
    expect(receipt.body).toContain(`href="https://${WIDGET}/payment-card/done?hash=${hash}"`);
    expect(receipt.body).toContain(`href="${API}/payment/${hash}/pdf"`);
    const pdf = await https(WIDGET, `${API}/payment/${hash}/pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
  });

  it('the bank sends the shopper to the back link of the request that paid, not of the one that opened the session', async () => {
    const hash = await createOver(FINTECH);
    // Someone opens the widget with a Host of their choosing over plain HTTP first …
    const opened = await fetch(`${sandbox.url}/payment-card?hash=${hash}`, {
      headers: { 'x-forwarded-host': 'evil.example' },
      redirect: 'manual',
    });
    expect(opened.status).toBe(303);
    // … the shopper then pays on the widget host: the redirect stays there.
    const paid = await https(WIDGET, '/acquirer/payform', form({ params: hash, ...card() }));
    expect(locationOf(paid)).toBe(`https://${WIDGET}${API}/payment/${hash}/back-link`);
  });

  it('the admin view and the API docs name the host they were asked on', async () => {
    const hash = await createOver(FINTECH);
    const view = JSON.parse((await https(WIDGET, `/__admin/transactions/${hash}`)).body) as {
      widget_url: string;
    };
    expect(view.widget_url).toBe(`https://${WIDGET}/payment-card?hash=${hash}`);
    const docs = JSON.parse((await https(FINTECH, '/openapi.json')).body) as { servers: { url: string }[] };
    expect(docs.servers[0]!.url).toBe(`https://${FINTECH}`);
  });

  it('takes X-Forwarded-Proto/-Host as before, but only http(s) and name[:port]: anything else falls back to the connection', async () => {
    const hash = await createOver(FINTECH);
    const options = (headers: Record<string, string>) =>
      https(FINTECH, `${API}/payment/${hash}/acquirer-options`, { headers }).then(
        (r) => (JSON.parse(r.body) as { payload: { payment_page: string } }).payload.payment_page,
      );
    expect(await options({ 'x-forwarded-proto': 'http', 'x-forwarded-host': 'proxy.example:8080' })).toBe(
      `http://proxy.example:8080/acquirer/payform?params=${hash}`,
    );
    expect(await options({ 'x-forwarded-proto': 'javascript' })).toBe(
      `https://${FINTECH}/acquirer/payform?params=${hash}`,
    );
    for (const bad of ['evil.example/x?', 'user@evil.example', 'a b', '"><script>']) {
      expect(await options({ 'x-forwarded-host': bad }), bad).toBe(
        `https://127.0.0.1:${at.port}/acquirer/payform?params=${hash}`,
      );
    }
  });
});

describe('CORS across the two ktpay hosts', () => {
  const shop = 'http://shop.example.kz';

  it('answers a preflight and a create from the shop the same on fintech and widget', async () => {
    const seen: Record<string, unknown>[] = [];
    for (const host of [FINTECH, WIDGET]) {
      const pre = await https(host, `${API}/payment`, {
        method: 'OPTIONS',
        headers: {
          origin: shop,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'auth-identifier,content-type',
        },
      });
      expect(pre.status).toBe(204);
      const created = await https(host, `${API}/payment`, {
        method: 'POST',
        headers: { origin: shop, 'auth-identifier': DEFAULT_MERCHANT.app_id, 'content-type': 'text/plain' },
        body: await seal(orderPayload()),
      });
      expect(created.status).toBe(200);
      seen.push({
        allowOrigin: [
          pre.headers['access-control-allow-origin'],
          created.headers['access-control-allow-origin'],
        ],
        allowHeaders: pre.headers['access-control-allow-headers'],
      });
    }
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[0]!.allowOrigin).toEqual([shop, shop]);
  });

  it("lets the sandbox's own pages on one ktpay host call the API on the other, as they could on one origin", async () => {
    const created = await https(FINTECH, `${API}/payment`, {
      method: 'POST',
      headers: {
        origin: `https://${WIDGET}`,
        'auth-identifier': DEFAULT_MERCHANT.app_id,
        'content-type': 'text/plain',
      },
      body: await seal(
        orderPayload({ callback_success_url: `https://${WIDGET}/demo/result?outcome=success` }),
      ),
    });
    expect(created.status, created.body).toBe(200);
    expect(created.headers['access-control-allow-origin']).toBe(`https://${WIDGET}`);
    // An origin that is neither registered nor the sandbox's gets nothing.
    const stranger = await https(FINTECH, `${API}/payment`, {
      method: 'POST',
      headers: {
        origin: 'https://stranger.example',
        'auth-identifier': DEFAULT_MERCHANT.app_id,
        'content-type': 'text/plain',
      },
      body: await seal(orderPayload()),
    });
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
  });
});
