import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { expectErrorReply, expectSuccessReply } from '../helpers/envelope-assert.js';
import { chunked, head, rawHttp, type RawResponse } from '../helpers/raw-http.js';
import { addMerchant, API, APP_ID, orderPayload, seal, testConfig } from '../helpers/sandbox.js';

/**
 * Issue 15 §3: transport variants real clients use, byte for byte on a real socket — a chunked
 * body, `Expect: 100-continue`, HTTP/1.0 without keep-alive, and curl -d's
 * `application/x-www-form-urlencoded` (never form-decoded: a `+` stays a `+`).
 */

let server: RunningServer;
let widget: { app_id: string; app_key: string };

beforeAll(async () => {
  server = await startServer(testConfig({ port: 0, clearing_delay_ms: 'manual' }), { logger: false });
  widget = await addMerchant(server.app, { envelope: 'widget' });
});
afterAll(() => server.close());

const json = (res: RawResponse) => JSON.parse(res.body.toString('utf8')) as unknown;

/** A sealed order whose base64 holds at least one `+`, and its payload. */
async function sealedWithPlus(appKey?: string) {
  for (;;) {
    const payload = orderPayload();
    const body = await seal(payload, appKey);
    if (body.includes('+')) return { payload, body };
  }
}

async function journalFor(orderId: string) {
  const res = await server.app.inject({ url: `/__admin/journal?order_id=${encodeURIComponent(orderId)}` });
  return res.json().entries[0] as {
    headers: Record<string, string>;
    decrypted: unknown;
    verdict: { contract_warnings: string[] };
  };
}

const createHead = (extra: string[], appId: string = APP_ID, version = '1.1') => [
  `POST ${API}/payment HTTP/${version}`,
  'Host: 127.0.0.1',
  `Auth-Identifier: ${appId}`,
  ...extra,
];

describe('Transfer-Encoding: chunked', () => {
  it.each([['Content-Type: text/plain'], [undefined]])(
    'creates a payment from a chunked body (%s)',
    async (type) => {
      const { payload, body } = await sealedWithPlus();
      const res = await rawHttp(server.url, [
        head(createHead(['Transfer-Encoding: chunked', ...(type ? [type] : [])])),
        // Cut mid-base64, in several writes, as a streaming client sends it.
        ...chunked(body, 5).match(/[^]{1,40}/g)!,
      ]);
      expectSuccessReply(res.status, json(res), 'reference');
      const entry = await journalFor(payload.order.order_id);
      expect(entry.headers['transfer-encoding']).toBe('chunked');
      expect(entry.decrypted).toEqual(payload);
      expect(entry.verdict.contract_warnings).toEqual([]);
    },
  );
});

describe('Expect: 100-continue', () => {
  it('answers 100 Continue, then takes the body and creates the payment', async () => {
    const { payload, body } = await sealedWithPlus();
    const res = await rawHttp(server.url, [
      head(
        createHead(['Expect: 100-continue', 'Content-Type: text/plain', `Content-Length: ${body.length}`]),
      ),
      { waitFor: /^HTTP\/1\.1 100 Continue\r\n\r\n/ },
      body,
    ]);
    expect(res.interim).toEqual(['HTTP/1.1 100 Continue']);
    expectSuccessReply(res.status, json(res), 'reference');
    expect((await journalFor(payload.order.order_id)).decrypted).toEqual(payload);
  });

  it('with a chunked body, and a widget merchant’s validation error', async () => {
    const body = await seal({ order: { order_id: `E-${Date.now()}`, amount: -1 } }, widget.app_key);
    const res = await rawHttp(server.url, [
      head(createHead(['Expect: 100-continue', 'Transfer-Encoding: chunked'], widget.app_id)),
      { waitFor: /100 Continue\r\n\r\n/ },
      chunked(body, 3),
    ]);
    expect(res.interim).toHaveLength(1);
    expect(expectErrorReply(res.status, json(res), 'widget', 4220002).fields['order.amount']).toEqual(
      expect.any(String),
    );
  });
});

describe('HTTP/1.0 without keep-alive', () => {
  it('creates, reads the status and downloads the receipt; the server closes each connection', async () => {
    const { payload, body } = await sealedWithPlus();
    const created = await rawHttp(server.url, [
      head([...createHead(['Content-Type: text/plain'], APP_ID, '1.0'), `Content-Length: ${body.length}`]) +
        body,
    ]);
    expect(created.serverClosed).toBe(true);
    const hash = expectSuccessReply(created.status, json(created), 'reference').transaction_hash as string;
    expect((await journalFor(payload.order.order_id)).decrypted).toEqual(payload);

    const status = await rawHttp(server.url, [
      head([`GET ${API}/payment/${hash} HTTP/1.0`, `Auth-Identifier: ${APP_ID}`]),
    ]);
    expect(status.serverClosed).toBe(true);
    expect(expectSuccessReply(status.status, json(status), 'reference')).toMatchObject({
      transaction_hash: hash,
      status: { status: 'pending' },
    });

    await server.app.inject({
      method: 'POST',
      url: `/__admin/transactions/${hash}/pay`,
      payload: { pan: '4405639704015096', exp_month: '12', exp_year: '2035', cvc: '123' },
    });
    const pdf = await rawHttp(server.url, [
      head([`GET ${API}/payment/${hash}/pdf HTTP/1.0`, `Auth-Identifier: ${APP_ID}`]),
    ]);
    expect(pdf.serverClosed).toBe(true);
    expect(pdf.status).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.body.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.body.length).toBe(Number(pdf.headers['content-length']));
  });

  it('a widget merchant’s duplicate order_id, over HTTP/1.0', async () => {
    const { payload, body } = await sealedWithPlus(widget.app_key);
    const send = (b: string) =>
      rawHttp(server.url, [
        head([...createHead([], widget.app_id, '1.0'), `Content-Length: ${b.length}`]) + b,
      ]);
    const first = await send(body);
    expectSuccessReply(first.status, json(first), 'widget');
    const again = await send(await seal(payload, widget.app_key));
    expect(again.serverClosed).toBe(true);
    expect(expectErrorReply(again.status, json(again), 'widget', 4220002).fields).toHaveProperty([
      'order.order_id',
    ]);
  });
});

describe('Content-Type: application/x-www-form-urlencoded (curl -d)', () => {
  it('is never form-decoded: every + of the base64 stays a +', async () => {
    const { payload, body } = await sealedWithPlus();
    const res = await rawHttp(server.url, [
      head([
        ...createHead(['Content-Type: application/x-www-form-urlencoded']),
        `Content-Length: ${body.length}`,
      ]) + body,
    ]);
    expectSuccessReply(res.status, json(res), 'reference');
    const entry = await journalFor(payload.order.order_id);
    expect(entry.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(entry.decrypted).toEqual(payload);
    expect(entry.verdict.contract_warnings).toEqual([]);
  });
});
