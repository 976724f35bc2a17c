import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../mock-server/shared/clock.js';
import { API, APP_ID, buildTestApp, createPayment, settle } from '../helpers/sandbox.js';
import { answers, startReceiver, type Receiver } from './receiver.js';

/**
 * Acceptance (issue 4): a payment made through the test cards produces exactly one delivery, with
 * the documented body. The card goes through `POST /__admin/transactions/{hash}/pay` (the same
 * pipeline as the hosted bank page); clearing runs on the default delay, on a manual clock.
 */
describe('a paid transaction produces exactly one callback', () => {
  let app: FastifyInstance | undefined;
  let receiver: Receiver | undefined;
  let clock: ManualClock;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  async function pay(app: FastifyInstance, hash: string, pan: string) {
    const res = await app.inject({
      method: 'POST',
      url: `/__admin/transactions/${hash}/pay`,
      payload: { pan, exp_month: '12', exp_year: '2030', cvc: '123', cardholder: 'TEST CARDHOLDER' },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { outcome: string; acquirer_code: string };
  }

  async function statusObject(app: FastifyInstance, hash: string) {
    const res = await app.inject({
      method: 'GET',
      url: `${API}/payment/${hash}`,
      headers: { 'auth-identifier': APP_ID },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { payload: Record<string, unknown> };
    const callbackPart = { ...body.payload };
    delete callbackPart.refunds;
    delete callbackPart.refunded_amount;
    return callbackPart;
  }

  it('card 4405 6397 0401 5096: one POST after clearing, with the documented body, acknowledged', async () => {
    receiver = await startReceiver(answers.ok);
    clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    app = await buildTestApp({}, { clock }); // default clearing delay: 3000 ms on this clock
    const hash = await createPayment(app, {
      callback_post_url: receiver.url,
      amount: 2500,
      description: 'Оплата заказа',
    });

    const paid = await pay(app, hash, '4405639704015096');
    expect(paid.outcome).toBe('approved');
    await app.sandbox.callbacks.whenIdle();
    expect((await app.sandbox.store.getTransaction(hash))!.status).toBe('success');
    expect(receiver.received).toHaveLength(0); // authorized and success are not notified

    clock.advance(3_000);
    await settle(); // the clearing the clock fired, then its callback
    await app.sandbox.callbacks.whenIdle();
    expect((await app.sandbox.store.getTransaction(hash))!.status).toBe('completed');
    clock.advance(24 * 3_600_000); // nothing else is ever sent for it
    await app.sandbox.callbacks.whenIdle();

    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.headers['content-type']).toBe('application/json');
    const body = JSON.parse(got.body) as Record<string, unknown> & { status: Record<string, unknown> };
    const validate = app.sandbox.schemas.validator('callbackBody');
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    expect(body).toMatchObject({
      merchant_id: 1,
      description: 'Оплата заказа',
      amount: 2500,
      transaction_hash: hash,
      created_at: '2026-03-01T16:00:00+06:00',
      updated_at: '2026-03-01T16:00:03+06:00',
      status: { status: 'completed', created_at: '2026-03-01T16:00:03+06:00', updated_at: null, error: null },
    });
    // The status endpoint returns the same object (plus refund details).
    expect(body).toEqual(await statusObject(app, hash));

    const view = (
      await app.inject({ method: 'GET', url: `/__admin/transactions/${hash}/callbacks` })
    ).json() as {
      deliveries: Array<{ state: string; status: string; attempts: unknown[] }>;
    };
    expect(view.deliveries).toHaveLength(1);
    expect(view.deliveries[0]).toMatchObject({ state: 'acknowledged', status: 'completed' });
    expect(view.deliveries[0]!.attempts).toHaveLength(1);
  });

  it('a declined card (4000 0000 0000 0002, code 05) produces exactly one error callback with the error object', async () => {
    receiver = await startReceiver(answers.ok);
    clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    app = await buildTestApp({}, { clock });
    const hash = await createPayment(app, { callback_post_url: receiver.url });

    const declined = await pay(app, hash, '4000000000000002');
    expect(declined).toMatchObject({ outcome: 'declined', acquirer_code: '05' });
    clock.advance(24 * 3_600_000);
    await app.sandbox.callbacks.whenIdle();

    expect(receiver.received).toHaveLength(1);
    const body = JSON.parse(receiver.received[0]!.body) as {
      status: { status: string; error: { error_type: string; error_message: string } };
    };
    expect(app.sandbox.schemas.validator('callbackBody')(body)).toBe(true);
    expect(body.status.status).toBe('error');
    expect(body.status.error.error_type).toBe('ERROR_PAYMENT');
    expect(body.status.error.error_message).toEqual(expect.any(String));
    expect(body).toEqual(await statusObject(app, hash));
  });
});
