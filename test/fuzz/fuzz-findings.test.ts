import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { API, APP_ID, buildTestApp, createPayment, postCreate, seal } from '../helpers/sandbox.js';
import { completePayment } from '../callbacks/receiver.js';

/**
 * What the fuzz suite found, pinned down as plain regression tests (DESIGN.md: a bug fixed gets a
 * regression test). Each case names the target that found it.
 */

const registry = createSchemaRegistry();
let app: FastifyInstance;

beforeAll(async () => {
  app = await buildTestApp({ clearing_delay_ms: 'manual' });
});
afterAll(() => app.close());

describe('fuzz findings', () => {
  it('create: an amount below 0.01 is refused even when multipleOf’s float tolerance would pass it (1e-28, 4e-9)', async () => {
    for (const amount of ['0.0000000000000000000000000001', '4e-9', '0.001', '0', '-0.0']) {
      const res = await postCreate(
        app,
        await seal(`{"order":{"amount":${amount},"order_id":"tiny-${amount}"}}`),
      );
      expect(res.statusCode, amount).toBe(422);
      expect(res.json().error.validation, amount).toEqual({
        'order.amount': ['Значение должно быть не меньше 0.01.'],
      });
    }
    expect(
      (await postCreate(app, await seal('{"order":{"amount":0.01,"order_id":"smallest"}}'))).statusCode,
    ).toBe(200);
  });

  it('refund: an amount that rounds to 0 tiyn is 4220114 and changes nothing (a 4e-9 refund made a payment partially_refunded)', async () => {
    const hash = await createPayment(app, { amount: 1000 });
    await completePayment(app, hash);
    for (const amount of [4e-9, 1e-7, 0.004]) {
      const res = await app.inject({
        method: 'POST',
        url: `${API}/payment/${hash}/refund`,
        headers: { 'auth-identifier': APP_ID },
        payload: await seal({ amount }),
      });
      expect(res.statusCode, String(amount)).toBe(422);
      expect(res.json().error.code, String(amount)).toBe(4220114);
    }
    const tx = (await app.sandbox.store.getTransaction(hash))!;
    expect(tx.status).toBe('completed');
    expect(tx.refunds).toEqual([]);
  });

  it('status and reads: a path with bad percent-encoding or an over-long parameter is 4040119 in the envelope, not Fastify’s own 400/414', async () => {
    for (const url of [
      `${API}/payment/%`,
      `${API}/payment/%zz/cancel`,
      '/__admin/merchants/%E0%A4%A',
      `${API}/payment/${'a'.repeat(101)}`,
    ]) {
      const res = await app.inject({
        url,
        method: url.endsWith('cancel') ? 'POST' : 'GET',
        headers: { 'auth-identifier': APP_ID },
      });
      expect(res.statusCode, url).toBe(404);
      expect(registry.validator('referenceError')(res.json()), url).toBe(true);
      expect(res.json().error.code, url).toBe(4040119);
    }
  });

  it('admin scenarios: a match.order_id that is not a valid regular expression is refused (it used to be stored and never match)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/__admin/scenarios',
      payload: {
        name: 'broken-regex',
        description: 'x',
        steps: [
          { match: { endpoint: 'create', order_id: '(' }, effect: { type: 'respond_error', code: 5000105 } },
        ],
      },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe(4220122);
    expect(res.json().error.validation.scenario[0]).toMatch(
      /\/steps\/0\/match\/order_id is not a valid regular expression/,
    );
  });
});
