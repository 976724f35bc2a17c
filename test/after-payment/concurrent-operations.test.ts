import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../mock-server/shared/clock.js';
import { API, APP_ID, buildTestApp, createPayment, seal } from '../helpers/sandbox.js';
import { startReceiver } from '../callbacks/receiver.js';
import { driveTo } from './drive.js';

/*
 * The store is asynchronous (issue 17): between a request's read and its write, another request
 * can run. Every change is one atomic read-modify-write in the store, so operations on one payment
 * that arrive together end as if they had come one after the other.
 */
const START = Date.parse('2026-03-01T10:00:00Z');

describe('operations on one payment arriving at the same moment', () => {
  let app: FastifyInstance;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
    app = await buildTestApp({ clearing_delay_ms: 'manual' });
  });
  afterAll(async () => {
    await app.close();
    await receiver.close();
  });

  const pay = (hash: string, pan: string) =>
    app.inject({
      method: 'POST',
      url: `/__admin/transactions/${hash}/pay`,
      payload: { pan, exp_month: '12', exp_year: '2030', cvc: '123' },
    });

  it('two pays: exactly one is applied, the other answers 4090111, one history, one callback', async () => {
    const hash = await createPayment(app, { callback_post_url: `${receiver.url}/cb` });
    // A declined card ends in `error`, a notified status: its callback is queued with the change.
    const answers = await Promise.all([pay(hash, '4000000000000002'), pay(hash, '4000000000000002')]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(answers.find((r) => r.statusCode === 409)!.json().error.code).toBe(4090111);
    const tx = (await app.sandbox.store.getTransaction(hash))!;
    expect(tx.history.map((h) => h.status)).toEqual(['pending', 'error']);
    expect(tx.acquirer?.attempts).toBe(1);
    await app.sandbox.callbacks.whenIdle();
    const deliveries = await app.sandbox.callbacks.list({ transaction_hash: hash });
    expect(deliveries).toHaveLength(1);
    expect(receiver.received.filter((r) => r.body.includes(hash))).toHaveLength(1);
  });

  it('two pays at the same millisecond sign the same notice: still one 200 and one 4090111', async () => {
    // A clock that stands still: both pays build the bank's notice at one instant, for attempt 1.
    const still = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock: createManualClock(START) });
    try {
      const hash = await createPayment(still);
      const answers = await Promise.all(
        [0, 1].map(() =>
          still.inject({
            method: 'POST',
            url: `/__admin/transactions/${hash}/pay`,
            payload: { pan: '4405639704015096', exp_month: '12', exp_year: '2030', cvc: '123' },
          }),
        ),
      );
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      expect(answers.find((r) => r.statusCode === 409)!.json().error.code).toBe(4090111);
    } finally {
      await still.close();
    }
  });

  it('an approved and a declined card at once: one of them wins whole, never a mix', async () => {
    const hash = await createPayment(app);
    await Promise.all([pay(hash, '4405639704015096'), pay(hash, '4000000000000002')]);
    const tx = (await app.sandbox.store.getTransaction(hash))!;
    const statuses = tx.history.map((h) => h.status);
    expect([
      ['pending', 'authorized', 'success'],
      ['pending', 'error'],
    ]).toContainEqual(statuses);
    // The card recorded is the card of the notice that was applied.
    expect(tx.card?.masked).toBe(statuses.includes('success') ? '440563******5096' : '400000******0002');
  });

  it('two cancels: one 200, one 4090111; two refunds of the remainder: one 200, one refused', async () => {
    const sealed = async () => seal({ reason: 'дубль' });
    const cancelOf = async (hash: string) =>
      app.inject({
        method: 'POST',
        url: `${API}/payment/${hash}/cancel`,
        headers: { 'auth-identifier': APP_ID, 'content-type': 'text/plain' },
        payload: await sealed(),
      });
    const pending = await createPayment(app);
    const cancels = await Promise.all([cancelOf(pending), cancelOf(pending)]);
    expect(cancels.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect((await app.sandbox.store.getTransaction(pending))!.history.map((h) => h.status)).toEqual([
      'pending',
      'cancelled',
    ]);

    const paid = await createPayment(app, { amount: 100 });
    await driveTo(app, paid, 'completed');
    const refundOf = async () =>
      app.inject({
        method: 'POST',
        url: `${API}/payment/${paid}/refund`,
        headers: { 'auth-identifier': APP_ID, 'content-type': 'text/plain' },
        payload: await seal({ amount: 100 }),
      });
    const refunds = await Promise.all([refundOf(), refundOf()]);
    expect(refunds.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const tx = (await app.sandbox.store.getTransaction(paid))!;
    expect(tx.status).toBe('refunded');
    expect(tx.refunds).toHaveLength(1);
  });

  it('ten creates of one order_id at once: one transaction, nine duplicate answers', async () => {
    const body = await seal({ order: { amount: 10, order_id: 'same-moment', type: 'ecom' } });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        app.inject({
          method: 'POST',
          url: `${API}/payment`,
          headers: { 'auth-identifier': APP_ID, 'content-type': 'text/plain' },
          payload: body,
        }),
      ),
    );
    expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(1);
    const refused = answers.filter((r) => r.statusCode === 422);
    expect(refused).toHaveLength(9);
    for (const r of refused) expect(r.json().error.validation).toHaveProperty(['order.order_id']);
    expect(await app.sandbox.store.listTransactions({ order_id: 'same-moment' })).toHaveLength(1);
  });
});
