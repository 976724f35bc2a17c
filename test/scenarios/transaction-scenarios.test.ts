import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { createManualClock, type ManualClock } from '../../mock-server/shared/clock.js';
import {
  API,
  APP_ID,
  buildTestApp,
  createPayment,
  nextOrderId,
  orderPayload,
  seal,
  testConfig,
} from '../helpers/sandbox.js';
import {
  callEndpoint,
  clearNow,
  payWithTestCard,
  SCENARIO_HEADER,
  settledSoon,
  transactionFor,
} from './scenario-helpers.js';

const entry = (code: number) => errorCatalog.ktpay.find((e) => e.code === code)!;

describe('status-5000107 by header, over a real socket, with parallel requests', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(testConfig({ port: 0 }), { logger: false });
  });
  afterAll(() => server.close());

  const status = (hash: string, scenario?: string) =>
    fetch(`${server.url}${API}/payment/${hash}`, {
      headers: { 'auth-identifier': APP_ID, ...(scenario ? { [SCENARIO_HEADER]: scenario } : {}) },
    });

  it('only the request with the header fails with 5000107; the parallel ones without it answer the status object', async () => {
    const hash = await createPayment(server.app);
    const calls = [status(hash), status(hash), status(hash, 'status-5000107'), status(hash), status(hash)];
    type Answer = {
      error: { code: number; message: string; hint: string };
      payload: { transaction_hash: string; status: { status: string } };
    };
    const answers = await Promise.all(
      calls.map(async (p) => {
        const res = await p;
        return { status: res.status, body: (await res.json()) as Answer };
      }),
    );
    const failed = answers[2]!;
    expect(failed.status).toBe(500);
    expect(failed.body.error.code).toBe(5000107);
    expect(failed.body.error.message).toBe(entry(5000107).message);
    expect(failed.body.error.hint.startsWith(entry(5000107).hint)).toBe(true);
    expect(failed.body.error.hint).toContain('scenario status-5000107 (header) step 1');
    for (const i of [0, 1, 3, 4]) {
      expect(answers[i]!.status, `request ${i}`).toBe(200);
      expect(answers[i]!.body.payload.transaction_hash).toBe(hash);
      expect(answers[i]!.body.payload.status.status).toBe('pending');
    }
    // Afterwards, still nothing carries over to requests without the header.
    expect((await status(hash)).status).toBe(200);
    // The use is counted against this transaction only, not the merchant.
    const scenarios = (await (await fetch(`${server.url}/__admin/scenarios`)).json()) as {
      counts: unknown[];
    };
    expect(scenarios.counts).toContainEqual({
      scope: `tx:${hash}`,
      scenario: 'status-5000107',
      step: 0,
      used: 1,
    });
  });

  it('a typo in the header is 4040124 on status too', async () => {
    const hash = await createPayment(server.app);
    const res = await status(hash, 'status-500107');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(4040124);
  });
});

describe('transaction-bound scenarios through every activation', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp({ clearing_delay_ms: 'manual' });
  });
  afterAll(() => app.close());
  afterEach(async () => {
    await app.inject({ method: 'DELETE', url: `/__admin/merchants/${APP_ID}/scenario` });
  });

  it('acquirer-options-5000106 for a merchant: every acquirer-options call fails, status does not; DELETE clears it', async () => {
    const hash = await createPayment(app);
    await app.inject({
      method: 'PUT',
      url: `/__admin/merchants/${APP_ID}/scenario`,
      payload: { name: 'acquirer-options-5000106' },
    });
    for (let i = 0; i < 3; i++) {
      const res = await callEndpoint(app, 'acquirer_options', { hash });
      expect(res.statusCode).toBe(500);
      expect(res.json().error).toMatchObject({ code: 5000106, message: entry(5000106).message });
      expect(res.json().error.hint).toContain('scenario acquirer-options-5000106 (merchant) step 1');
    }
    expect((await callEndpoint(app, 'status', { hash })).statusCode).toBe(200);
    await app.inject({ method: 'DELETE', url: `/__admin/merchants/${APP_ID}/scenario` });
    const ok = await callEndpoint(app, 'acquirer_options', { hash });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().payload.payment_page).toContain(hash);
  });

  it('pdf-5000110 by order_id prefix: the payment is created, and its receipt fails with 5000110 while another payment’s does not', async () => {
    const hash = await transactionFor(app, 'pdf', { order_id: `scenario:pdf-5000110:${nextOrderId()}` });
    expect((await app.sandbox.payments.get(hash))!.scenario).toBe('pdf-5000110');
    const res = await callEndpoint(app, 'pdf', { hash });
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toMatchObject({ code: 5000110, message: entry(5000110).message });
    expect(res.json().error.hint).toContain('scenario pdf-5000110 (order_id) step 1');
    const other = await transactionFor(app, 'pdf');
    const receipt = await callEndpoint(app, 'pdf', { hash: other });
    expect(receipt.statusCode).toBe(200);
    expect(receipt.headers['content-type']).toBe('application/pdf');
  });

  it('pdf-5000109 by header; an unpaid payment still answers 4090113 first (the rule comes before generating)', async () => {
    const pending = await createPayment(app);
    expect(
      (await callEndpoint(app, 'pdf', { hash: pending, scenario: 'pdf-5000109' })).json().error.code,
    ).toBe(4090113);
    const paid = await transactionFor(app, 'pdf');
    const res = await callEndpoint(app, 'pdf', { hash: paid, scenario: 'pdf-5000109' });
    expect(res.json().error).toMatchObject({ code: 5000109, message: entry(5000109).message });
  });

  it('user scenarios act on cancel, refund and status: errors change nothing, faults and counts are per transaction', async () => {
    const def = await app.inject({
      method: 'POST',
      url: '/__admin/scenarios',
      payload: {
        name: 'after-payment-trouble',
        description:
          'the first cancel fails with 5000001, the first refund with 5000001, the first status answers a proxy 502',
        steps: [
          { match: { endpoint: 'cancel' }, effect: { type: 'respond_error', code: 5000001 } },
          { match: { endpoint: 'refund' }, effect: { type: 'respond_error', code: 5000001 } },
          { match: { endpoint: 'status' }, effect: { type: 'http_fault', fault: 'html_502' } },
        ],
      },
    });
    expect(def.statusCode).toBe(201);
    const toCancel = await createPayment(app, {
      order_id: `scenario:after-payment-trouble:${nextOrderId()}`,
    });
    const failedCancel = await callEndpoint(app, 'cancel', { hash: toCancel });
    expect(failedCancel.json().error.code).toBe(5000001);
    expect((await app.sandbox.payments.get(toCancel))!.status).toBe('pending'); // the failure changed nothing
    const cancelled = await callEndpoint(app, 'cancel', { hash: toCancel });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().payload.status.status).toBe('cancelled');

    const proxy = await callEndpoint(app, 'status', { hash: toCancel });
    expect(proxy.statusCode).toBe(502);
    expect(proxy.headers['content-type']).toContain('text/html');
    expect(proxy.body).toContain('502 Bad Gateway');
    expect((await callEndpoint(app, 'status', { hash: toCancel })).statusCode).toBe(200);

    const toRefund = await createPayment(app, {
      order_id: `scenario:after-payment-trouble:${nextOrderId()}`,
    });
    await payWithTestCard(app, toRefund);
    await clearNow(app, toRefund);
    expect((await callEndpoint(app, 'refund', { hash: toRefund })).json().error.code).toBe(5000001);
    expect((await app.sandbox.payments.get(toRefund))!.status).toBe('completed');
    const refunded = await callEndpoint(app, 'refund', { hash: toRefund });
    expect(refunded.statusCode).toBe(200);
    expect(refunded.json().payload.status.status).toBe('refunded');

    const journal = (
      await app.inject({ url: `/__admin/journal?transaction_hash=${toCancel}&limit=10` })
    ).json().entries as Array<{
      path: string;
      verdict: { scenario: string | null };
    }>;
    expect(
      journal.some((e) => e.verdict.scenario?.includes('scenario after-payment-trouble (order_id) step 3')),
    ).toBe(true);
  });
});

describe('delays on a manual clock', () => {
  let app: FastifyInstance | undefined;
  let clock: ManualClock;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Waits until the route has armed its delay timer on the manual clock (a shared test store is a socket away). */
  async function armed(before: number) {
    for (const until = Date.now() + 5_000; clock.pendingTimers() <= before && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 1));
    expect(clock.pendingTimers()).toBeGreaterThan(before);
  }

  it('jittery-gateway holds create, status and acquirer-options for 200–1500 ms each', async () => {
    clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock });
    const hash = await createPayment(app);
    for (const endpoint of ['create', 'status', 'acquirer_options'] as const) {
      const before = clock.pendingTimers();
      const call = callEndpoint(app, endpoint, { hash, scenario: 'jittery-gateway' });
      await armed(before);
      clock.advance(199);
      expect(await settledSoon(call), `${endpoint} answered before 200 ms`).toBe(false);
      clock.advance(1_301);
      const res = await call;
      expect(res.statusCode, endpoint).toBe(200);
      const [last] = (await app.inject({ url: '/__admin/journal?limit=1' })).json().entries;
      expect(last.verdict.scenario).toMatch(
        /scenario jittery-gateway \(header\) step \d: delay the answer by a random 200–1500 ms/,
      );
    }
  });

  it('slow-gateway answers a create only after 20 s', async () => {
    clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    app = await buildTestApp({}, { clock });
    const before = clock.pendingTimers();
    const call = callEndpoint(app, 'create', { scenario: 'slow-gateway' });
    await armed(before);
    clock.advance(19_999);
    expect(await settledSoon(call)).toBe(false);
    clock.advance(1);
    expect((await call).statusCode).toBe(200);
  });

  it('slow-gateway over a socket: a client with a 300 ms timeout gives up, and the payment is still created', async () => {
    clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    const server = await startServer(testConfig({ port: 0 }), { logger: false, clock });
    app = server.app;
    const payload = orderPayload();
    const before = clock.pendingTimers();
    const gaveUp = fetch(`${server.url}${API}/payment`, {
      method: 'POST',
      headers: { 'auth-identifier': APP_ID, 'content-type': 'text/plain', [SCENARIO_HEADER]: 'slow-gateway' },
      body: await seal(payload),
      signal: AbortSignal.timeout(300),
    }).then(
      () => 'answered',
      (err: Error) => err.name,
    );
    await armed(before);
    expect(await gaveUp).toBe('TimeoutError');
    expect(
      await app.sandbox.store.findTransactionByOrder(APP_ID, payload.order.order_id as string),
    ).toBeUndefined();
    clock.advance(20_000);
    for (
      let i = 0;
      i < 200 && !(await app.sandbox.store.findTransactionByOrder(APP_ID, payload.order.order_id as string));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(
      (await app.sandbox.store.findTransactionByOrder(APP_ID, payload.order.order_id as string))?.status,
    ).toBe('pending');
  });
});
