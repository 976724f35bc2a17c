import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../mock-server/shared/clock.js';
import { buildTestApp, createPayment } from '../helpers/sandbox.js';
import {
  answers,
  completePayment,
  failPayment,
  onlyDelivery,
  startReceiver,
  type Answer,
  type Receiver,
} from './receiver.js';

type View = {
  id: string;
  state: string;
  body: string;
  next_attempt_at: number | null;
  attempt_count: number;
  attempts: Array<{
    attempt: number;
    trigger: string;
    due_at: number | null;
    verdict: string;
    offset_ms: number;
  }>;
};

/** A receiver whose answer the test can switch. */
function switchable(initial: Answer) {
  const state = { answer: initial };
  const answer: Answer = (req, res, n) => state.answer(req, res, n);
  return { state, answer };
}

describe('admin callback routes: list, inspect, redeliver, flush', () => {
  let app: FastifyInstance | undefined;
  let receiver: Receiver | undefined;
  let clock: ManualClock;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  async function setup(answer: Answer, env: Record<string, string> = {}) {
    receiver = await startReceiver(answer);
    clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock, env });
    return { app, receiver };
  }

  function expectDeliveryContract(app: FastifyInstance, view: unknown) {
    const validate = app.sandbox.schemas.validator('callbackDelivery');
    expect(validate(view), JSON.stringify(validate.errors)).toBe(true);
  }

  it('flush runs every pending retry now, without waiting for the schedule', async () => {
    const sw = switchable(answers.serverError);
    const { app, receiver } = await setup(sw.answer);
    const hashes = [
      await createPayment(app, { callback_post_url: receiver.url }),
      await createPayment(app, { callback_post_url: receiver.url }),
    ];
    for (const h of hashes) await failPayment(app, h);
    const ok = await createPayment(app, { callback_post_url: receiver.url });
    await app.sandbox.callbacks.whenIdle();
    sw.state.answer = answers.ok;
    await completePayment(app, ok);
    await app.sandbox.callbacks.whenIdle();
    expect(receiver.received).toHaveLength(3);
    expect(clock.pendingTimers()).toBe(2); // two retries armed 15 s out

    const res = await app.inject({ method: 'POST', url: '/__admin/callbacks/flush' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { flushed: number; deliveries: View[] };
    expect(body.flushed).toBe(2);
    expect(body.deliveries.map((d) => d.state)).toEqual(['acknowledged', 'acknowledged']);
    for (const d of body.deliveries) {
      expectDeliveryContract(app, d);
      expect(d.attempts.map((a) => [a.attempt, a.trigger, a.verdict])).toEqual([
        [1, 'schedule', 'failed'],
        [2, 'flush', 'acknowledged'],
      ]);
      expect(d.attempts[1]!.offset_ms).toBe(0); // the clock never moved: it ran now
    }
    expect(receiver.received).toHaveLength(5);
    expect(clock.pendingTimers()).toBe(0);

    // Nothing open any more: a second flush does nothing.
    const again = (await app.inject({ method: 'POST', url: '/__admin/callbacks/flush' })).json() as {
      flushed: number;
    };
    expect(again.flushed).toBe(0);
    expect(receiver.received).toHaveLength(5);
  });

  it('redeliver re-sends an acknowledged delivery with the same id and bytes and the next attempt number', async () => {
    const { app, receiver } = await setup(answers.ok);
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await completePayment(app, hash);
    await app.sandbox.callbacks.whenIdle();
    const d = await onlyDelivery(app, hash);

    const res = await app.inject({ method: 'POST', url: `/__admin/callbacks/${d.id}/redeliver` });
    expect(res.statusCode).toBe(200);
    const view = res.json() as View;
    expectDeliveryContract(app, view);
    expect(view.state).toBe('acknowledged');
    expect(view.attempt_count).toBe(2);
    expect(view.attempts[1]).toMatchObject({
      attempt: 2,
      trigger: 'redeliver',
      due_at: null,
      verdict: 'acknowledged',
    });
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received.map((r) => r.headers['x-ktpay-attempt'])).toEqual(['1', '2']);
    expect(receiver.received.map((r) => r.headers['x-ktpay-delivery-id'])).toEqual([d.id, d.id]);
    expect(receiver.received[1]!.body).toBe(receiver.received[0]!.body);
    expect(await app.sandbox.callbacks.list()).toHaveLength(1); // no new delivery
  });

  it('redeliver of a retrying delivery is its next attempt; a failure keeps the schedule going', async () => {
    const { app, receiver } = await setup(answers.serverError);
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    await app.sandbox.callbacks.whenIdle();
    const d = await onlyDelivery(app, hash);
    clock.advance(5_000);

    const view = (
      await app.inject({ method: 'POST', url: `/__admin/callbacks/${d.id}/redeliver` })
    ).json() as View;
    expect(view.state).toBe('retrying');
    expect(view.attempts.map((a) => a.trigger)).toEqual(['schedule', 'redeliver']);
    // After failed attempt 2 the schedule says 60 s.
    expect(view.next_attempt_at).toBe(clock.now() + 60_000);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(59_999);
    await app.sandbox.callbacks.whenIdle();
    expect(receiver.received).toHaveLength(2);
    clock.advance(1);
    await app.sandbox.callbacks.whenIdle();
    expect(receiver.received).toHaveLength(3);
  });

  it('redeliver of a failed delivery can recover it', async () => {
    const sw = switchable(answers.serverError);
    const { app, receiver } = await setup(sw.answer, { CALLBACK_SCHEDULE_MS: '1000' });
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    await app.sandbox.callbacks.whenIdle();
    clock.advance(1_000);
    await app.sandbox.callbacks.whenIdle();
    const d = await onlyDelivery(app, hash);
    expect(d.state).toBe('failed');
    expect(d.attempts).toHaveLength(2);

    sw.state.answer = answers.ok;
    const view = (
      await app.inject({ method: 'POST', url: `/__admin/callbacks/${d.id}/redeliver` })
    ).json() as View;
    expect(view.state).toBe('acknowledged');
    expect(view.attempts.map((a) => a.verdict)).toEqual(['failed', 'failed', 'acknowledged']);
    expect(receiver.received).toHaveLength(3);
  });

  it('lists with filters, shows one delivery, and answers unknown ids with catalog codes', async () => {
    const { app, receiver } = await setup(answers.ok);
    const a = await createPayment(app, { callback_post_url: receiver.url });
    const b = await createPayment(app, { callback_post_url: 'http://127.0.0.1:1/refused' });
    await completePayment(app, a);
    await failPayment(app, b);
    await app.sandbox.callbacks.whenIdle();

    const all = (await app.inject({ method: 'GET', url: '/__admin/callbacks' })).json() as {
      total: number;
      deliveries: View[];
    };
    expect(all.total).toBe(2);
    for (const d of all.deliveries) expectDeliveryContract(app, d);
    const acked = (
      await app.inject({ method: 'GET', url: '/__admin/callbacks?state=acknowledged' })
    ).json() as { deliveries: View[] };
    expect(acked.deliveries.map((d) => JSON.parse(d.body).transaction_hash)).toEqual([a]);
    const retrying = (
      await app.inject({ method: 'GET', url: '/__admin/callbacks?state=retrying' })
    ).json() as { deliveries: View[] };
    expect(retrying.deliveries.map((d) => JSON.parse(d.body).transaction_hash)).toEqual([b]);
    const byTx = (
      await app.inject({ method: 'GET', url: `/__admin/callbacks?transaction_hash=${b}` })
    ).json() as { deliveries: View[] };
    expect(byTx.deliveries).toHaveLength(1);
    const limited = (await app.inject({ method: 'GET', url: '/__admin/callbacks?limit=1' })).json() as {
      total: number;
      deliveries: View[];
    };
    expect([limited.total, limited.deliveries.length]).toEqual([2, 1]);

    const one = await app.inject({ method: 'GET', url: `/__admin/callbacks/${byTx.deliveries[0]!.id}` });
    expect(one.statusCode).toBe(200);
    expectDeliveryContract(app, one.json());

    const badState = await app.inject({ method: 'GET', url: '/__admin/callbacks?state=lost' });
    expect(badState.statusCode).toBe(422);
    expect((badState.json() as { error: { code: number } }).error.code).toBe(4220122);

    for (const [method, url] of [
      ['GET', '/__admin/callbacks/dlv_000000000000000000000000'],
      ['POST', '/__admin/callbacks/dlv_000000000000000000000000/redeliver'],
    ] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ success: false, error: { code: 4040125 } });
    }
    const noTx = await app.inject({
      method: 'GET',
      url: `/__admin/transactions/${'0'.repeat(40)}/callbacks`,
    });
    expect(noTx.statusCode).toBe(404);
    expect((noTx.json() as { error: { code: number } }).error.code).toBe(4040108);
  });

  it('the routes sit behind ADMIN_TOKEN like the rest of /__admin', async () => {
    const { app } = await setup(answers.ok, { ADMIN_TOKEN: 'secret-token' });
    for (const [method, url] of [
      ['GET', '/__admin/callbacks'],
      ['POST', '/__admin/callbacks/flush'],
    ] as const) {
      const denied = await app.inject({ method, url });
      expect(denied.statusCode).toBe(401);
      expect((denied.json() as { error: { code: number } }).error.code).toBe(4010121);
      const allowed = await app.inject({ method, url, headers: { authorization: 'Bearer secret-token' } });
      expect(allowed.statusCode).toBe(200);
    }
  });
});
