import { request as httpRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import {
  API,
  APP_ID,
  buildTestApp,
  nextOrderId,
  orderPayload,
  postCreate,
  seal,
  testConfig,
} from '../helpers/sandbox.js';

const entry = (code: number) => errorCatalog.ktpay.find((e) => e.code === code)!;

describe('create-payment scenarios', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(() => app.close());

  it('flaky-create for the default merchant: 2 × 5000105, then success; the counts show', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: `/__admin/merchants/${APP_ID}/scenario`,
      payload: { name: 'flaky-create' },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json().scenario).toBe('flaky-create');
    for (let i = 0; i < 2; i++) {
      const res = await postCreate(app, await seal(orderPayload()));
      expect(res.statusCode).toBe(500);
      const body = res.json();
      expect(body.error.code).toBe(5000105);
      expect(body.error.message).toBe(entry(5000105).message);
      expect(body.error.hint.startsWith(entry(5000105).hint)).toBe(true);
    }
    const third = await postCreate(app, await seal(orderPayload()));
    expect(third.statusCode).toBe(200);
    const scenarios = (await app.inject({ url: '/__admin/scenarios' })).json();
    expect(scenarios.merchants[APP_ID]).toBe('flaky-create');
    expect(scenarios.counts).toContainEqual({
      scope: `merchant:${APP_ID}`,
      scenario: 'flaky-create',
      step: 0,
      used: 2,
    });
    const journal = (await app.inject({ url: `/__admin/journal?limit=3` })).json().entries;
    expect(journal[1].verdict.scenario).toContain('scenario flaky-create (merchant) step 1');
    // reset the counts: the scenario fails twice again
    await app.inject({ method: 'POST', url: '/__admin/scenarios/reset' });
    expect((await postCreate(app, await seal(orderPayload()))).json().error.code).toBe(5000105);
    expect(
      (await app.inject({ method: 'DELETE', url: `/__admin/merchants/${APP_ID}/scenario` })).statusCode,
    ).toBe(200);
    expect((await postCreate(app, await seal(orderPayload()))).statusCode).toBe(200);
  });

  it('the header activates a scenario for that request only', async () => {
    const sealed = () => seal(orderPayload());
    const [withHeader, without] = await Promise.all([
      postCreate(app, '', { 'x-ktpay-mock-scenario': 'create-4220102' }).then(async () =>
        postCreate(app, await sealed(), { 'x-ktpay-mock-scenario': 'create-4220102' }),
      ),
      sealed().then((b) => postCreate(app, b)),
    ]);
    expect(withHeader.json().error.code).toBe(4220102);
    expect(without.statusCode).toBe(200);
  });

  it('an order_id prefixed scenario:<name>: activates it and is recorded on the transaction', async () => {
    const res = await postCreate(
      app,
      await seal(orderPayload({ order_id: `scenario:create-4220104:${nextOrderId()}` })),
    );
    expect(res.json().error.code).toBe(4220104);
    const ok = await postCreate(
      app,
      await seal(orderPayload({ order_id: `scenario:callback-duplicate:${nextOrderId()}` })),
    );
    expect(ok.statusCode).toBe(200);
    expect((await app.sandbox.payments.get(ok.json().payload.transaction_hash))!.scenario).toBe(
      'callback-duplicate',
    );
  });

  it('naming a scenario that does not exist is 4040124, not a silent no-op', async () => {
    const res = await postCreate(app, await seal(orderPayload()), {
      'x-ktpay-mock-scenario': 'flakey-create',
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe(4040124);
    expect(res.json().error.hint).toContain('flakey-create');
  });

  it('accepts a user-defined scenario and validates it', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/__admin/scenarios',
      payload: { name: 'x', steps: [] },
    });
    expect(bad.statusCode).toBe(422);
    const ok = await app.inject({
      method: 'POST',
      url: '/__admin/scenarios',
      payload: {
        name: 'big-orders-fail',
        description: 'orders of 777 fail with 5000001',
        steps: [
          {
            match: { endpoint: 'create', amount: 777 },
            times: 'always',
            effect: { type: 'respond_error', code: 5000001 },
          },
        ],
      },
    });
    expect(ok.statusCode).toBe(201);
    await app.inject({
      method: 'PUT',
      url: `/__admin/merchants/${APP_ID}/scenario`,
      payload: { name: 'big-orders-fail' },
    });
    expect((await postCreate(app, await seal(orderPayload({ amount: 777 })))).json().error.code).toBe(
      5000001,
    );
    expect((await postCreate(app, await seal(orderPayload({ amount: 778 })))).statusCode).toBe(200);
    await app.inject({ method: 'DELETE', url: `/__admin/merchants/${APP_ID}/scenario` });
  });

  it('a global scenario from the config applies to every merchant; an unknown one stops startup', async () => {
    const g = await buildTestApp({ scenario: 'create-5000001' });
    try {
      expect((await postCreate(g, await seal(orderPayload()))).json().error.code).toBe(5000001);
    } finally {
      await g.close();
    }
    await expect(buildTestApp({ scenario: 'nope' })).rejects.toThrow(/scenario: no scenario named "nope"/);
  });
});

describe('HTTP fault scenarios over a real socket', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(testConfig({ port: 0 }), { logger: false });
  });
  afterAll(() => server.close());

  function rawPost(
    body: string,
    scenario: string,
  ): Promise<{ status?: number; text?: string; error?: string }> {
    return new Promise((resolve) => {
      const url = new URL(`${API}/payment`, server.url);
      const req = httpRequest(
        url,
        {
          method: 'POST',
          headers: {
            'auth-identifier': APP_ID,
            'content-type': 'text/plain',
            'x-ktpay-mock-scenario': scenario,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
          res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
        },
      );
      req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
      req.end(body);
    });
  }

  it('fault-connection-reset resets the connection', async () => {
    expect((await rawPost(await seal(orderPayload()), 'fault-connection-reset')).error).toBe('ECONNRESET');
  });
  it('fault-empty-reply closes without a byte', async () => {
    expect((await rawPost(await seal(orderPayload()), 'fault-empty-reply')).error).toMatch(
      /ECONNRESET|socket hang up/,
    );
  });
  it('fault-malformed-json answers unparsable JSON', async () => {
    const r = await rawPost(await seal(orderPayload()), 'fault-malformed-json');
    expect(r.status).toBe(200);
    expect(() => JSON.parse(r.text!)).toThrow();
  });
  it('fault-html-502 answers a proxy HTML page', async () => {
    const r = await rawPost(await seal(orderPayload()), 'fault-html-502');
    expect(r.status).toBe(502);
    expect(r.text).toContain('<title>502 Bad Gateway</title>');
  });
  it('fault-unavailable-503 answers 503', async () => {
    expect((await rawPost(await seal(orderPayload()), 'fault-unavailable-503')).status).toBe(503);
  });
  it('faults are journaled with their explanation', async () => {
    await rawPost(await seal(orderPayload()), 'fault-html-502');
    const res = await fetch(`${server.url}/__admin/journal?limit=1`);
    const [last] = (await res.json()).entries;
    expect(last.verdict.scenario).toContain('502');
  });
});
