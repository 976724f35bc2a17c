import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { expectErrorReply } from '../helpers/envelope-assert.js';
import { chunked, head, rawHttp } from '../helpers/raw-http.js';
import {
  addMerchant,
  API,
  buildTestApp,
  createPayment,
  orderPayload,
  postCreate,
  seal,
  testConfig,
} from '../helpers/sandbox.js';

/**
 * Issue 15 §1: every error that can know the merchant from `Auth-Identifier` answers in that
 * merchant's dialect (and locale), including those raised before any route code runs: body
 * parsing and the size limit, the rate limit, an unknown route or an unusable path, scenario
 * faults. The sandbox's default dialect here is `reference`; the merchant speaks `widget`, in English.
 */

const BODY_LIMIT = 4096;
const message = (code: number) => errorCatalog.ktpay.find((e) => e.code === code)!;

const addWidgetMerchant = (app: FastifyInstance) => addMerchant(app, { envelope: 'widget', locale: 'en' });

describe('errors before the route, in the merchant’s dialect (inject)', () => {
  let app: FastifyInstance;
  let widget: { app_id: string; app_key: string };
  let hash: string;
  const asWidget = () => ({ 'auth-identifier': widget.app_id });

  beforeAll(async () => {
    app = await buildTestApp({ body_limit: BODY_LIMIT, clearing_delay_ms: 'manual' });
    widget = await addWidgetMerchant(app);
    const res = await postCreate(app, await seal(orderPayload(), widget.app_key), asWidget());
    hash = res.json().response.data.transaction_hash;
    // Paid and cleared, so that every operation below reaches its scenario hook.
    const paid = await app.inject({
      method: 'POST',
      url: `/__admin/transactions/${hash}/pay`,
      payload: { pan: '4405639704015096', exp_month: '12', exp_year: '2035', cvc: '123' },
    });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(
      (await app.inject({ method: 'POST', url: `/__admin/transactions/${hash}/clear` })).statusCode,
    ).toBe(200);
  });
  afterAll(() => app.close());

  const widgetError = (res: { statusCode: number; body: string }, code: number) =>
    expectErrorReply(res.statusCode, JSON.parse(res.body), 'widget', code);

  it('413 on create, in the widget dialect and the merchant’s English, and journaled under its app_id', async () => {
    const res = await postCreate(app, 'A'.repeat(BODY_LIMIT + 4), asWidget());
    const err = widgetError(res, 4130120);
    expect(err.message).toBe(message(4130120).message_en);
    const [entry] = (await app.inject({ url: '/__admin/journal?limit=1' })).json().entries;
    expect(entry).toMatchObject({ app_id: widget.app_id, verdict: { error_code: 4130120 } });
  });

  it('413 on cancel and refund', async () => {
    for (const op of ['cancel', 'refund']) {
      const res = await app.inject({
        method: 'POST',
        url: `${API}/payment/${hash}/${op}`,
        headers: { ...asWidget(), 'content-type': 'text/plain' },
        payload: 'A'.repeat(BODY_LIMIT + 4),
      });
      widgetError(res, 4130120);
    }
  });

  it('an unknown route under the API, and a path the router cannot decode', async () => {
    widgetError(
      await app.inject({ method: 'POST', url: `${API}/paymnet`, headers: asWidget(), payload: 'x' }),
      4040119,
    );
    widgetError(await app.inject({ url: `${API}/payment/%E0%A4%A`, headers: asWidget() }), 4040119);
  });

  it('acquirer-options of an unknown transaction', async () => {
    widgetError(
      await app.inject({ url: `${API}/payment/${'0'.repeat(40)}/acquirer-options`, headers: asWidget() }),
      4040108,
    );
  });

  it('scenario faults on create: by header, by order_id prefix, and a scenario that does not exist', async () => {
    const sealed = await seal(orderPayload(), widget.app_key);
    widgetError(
      await postCreate(app, sealed, { ...asWidget(), 'x-ktpay-mock-scenario': 'create-5000105' }),
      5000105,
    );
    const prefixed = await seal(
      orderPayload({ order_id: `scenario:create-4220101:${Date.now()}` }),
      widget.app_key,
    );
    widgetError(await postCreate(app, prefixed, asWidget()), 4220101);
    widgetError(
      await postCreate(app, sealed, { ...asWidget(), 'x-ktpay-mock-scenario': 'no-such-scenario' }),
      4040124,
    );
  });

  it('scenario faults on status, cancel, refund, pdf and acquirer-options', async () => {
    const define = await app.inject({
      method: 'POST',
      url: '/__admin/scenarios',
      payload: {
        name: 'every-endpoint-fails',
        description: 'Every endpoint after create answers 5000001.',
        steps: (['status', 'cancel', 'refund', 'pdf', 'acquirer_options'] as const).map((endpoint) => ({
          match: { endpoint },
          times: 'always',
          effect: { type: 'respond_error', code: 5000001 },
        })),
      },
    });
    expect(define.statusCode, define.body).toBe(201);
    const headers = { ...asWidget(), 'x-ktpay-mock-scenario': 'every-endpoint-fails' };
    for (const [method, path] of [
      ['GET', ''],
      ['POST', '/cancel'],
      ['POST', '/refund'],
      ['GET', '/pdf'],
      ['GET', '/acquirer-options'],
    ] as const) {
      widgetError(await app.inject({ method, url: `${API}/payment/${hash}${path}`, headers }), 5000001);
    }
  });

  it('the admin API stays in the reference dialect whatever Auth-Identifier says', async () => {
    const res = await app.inject({ url: '/__admin/transactions/nope', headers: asWidget() });
    expectErrorReply(res.statusCode, res.json(), 'reference', res.json().error.code);
  });

  it('an app_id no merchant has gets the sandbox’s default dialect', async () => {
    const res = await postCreate(app, 'A'.repeat(BODY_LIMIT + 4), { 'auth-identifier': 'f'.repeat(32) });
    expectErrorReply(res.statusCode, res.json(), 'reference', 4130120);
  });
});

describe('the rate limit, in the merchant’s dialect', () => {
  let app: FastifyInstance;
  afterAll(() => app.close());

  it('answers 4290118 in the widget dialect', async () => {
    app = await buildTestApp({}, { env: { RATE_LIMIT_MAX: '1' } });
    const widget = await addWidgetMerchant(app);
    const headers = { 'auth-identifier': widget.app_id };
    await postCreate(app, await seal(orderPayload(), widget.app_key), headers);
    const res = await postCreate(app, await seal(orderPayload(), widget.app_key), headers);
    expect(expectErrorReply(res.statusCode, res.json(), 'widget', 4290118).message).toBe(
      message(4290118).message_en,
    );
  });
});

describe('errors before the route, on a real socket', () => {
  let server: RunningServer;
  let widget: { app_id: string; app_key: string };
  beforeAll(async () => {
    server = await startServer(testConfig({ port: 0, body_limit: BODY_LIMIT }), { logger: false });
    widget = await addWidgetMerchant(server.app);
    // A payment for the built-in merchant, so the sandbox is warm.
    await createPayment(server.app);
  });
  afterAll(() => server.close());

  it('413 when Content-Length is over the limit, before the body is read', async () => {
    const res = await rawHttp(server.url, [
      head([
        `POST ${API}/payment HTTP/1.1`,
        'Host: 127.0.0.1',
        `Auth-Identifier: ${widget.app_id}`,
        'Content-Type:',
        `Content-Length: ${BODY_LIMIT + 1}`,
      ]),
    ]);
    expectErrorReply(res.status, JSON.parse(res.body.toString()), 'widget', 4130120);
    expect(res.headers.connection).toBe('close');
  });

  it('413 when a chunked body grows over the limit', async () => {
    const res = await rawHttp(server.url, [
      head([
        `POST ${API}/payment HTTP/1.1`,
        'Host: 127.0.0.1',
        `Auth-Identifier: ${widget.app_id}`,
        'Transfer-Encoding: chunked',
      ]) + chunked('A'.repeat(BODY_LIMIT * 2), 8),
    ]);
    expectErrorReply(res.status, JSON.parse(res.body.toString()), 'widget', 4130120);
  });
});
