import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../../mock-server/callbacks/delivery.js';
import { toAlmatyIso } from '../../mock-server/shared/almaty-time.js';
import { createManualClock, type ManualClock } from '../../mock-server/shared/clock.js';
import { answers, startReceiver, type Answer, type Receiver } from '../callbacks/receiver.js';
import { API, APP_ID, buildTestApp, createPayment, nextOrderId, seal } from '../helpers/sandbox.js';
import { clearNow, payWithTestCard, SCENARIO_HEADER } from './scenario-helpers.js';

/**
 * The callback scenarios of the built-in library, each run against a real receiver (node:http on
 * 127.0.0.1, port 0) on a manual clock, and shown to do what its description says.
 */
describe('callback scenarios', () => {
  let app: FastifyInstance | undefined;
  let receiver: Receiver | undefined;
  let clock: ManualClock;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  async function setup(answer: Answer = answers.ok) {
    receiver = await startReceiver(answer);
    clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock });
    return { app, receiver };
  }

  /** A payment under `scenario` (order_id prefix), paid with the test card and cleared: its final callback is due. */
  async function completedUnder(scenario: string) {
    const hash = await createPayment(app!, {
      callback_post_url: receiver!.url,
      order_id: `scenario:${scenario}:${nextOrderId()}`,
    });
    await payWithTestCard(app!, hash);
    clock.advance(1_000);
    await clearNow(app!, hash);
    return hash;
  }

  /** What an admin sees for a transaction's callbacks, validated against the admin contract. */
  async function callbacksView(hash: string) {
    const res = await app!.inject({ url: `/__admin/transactions/${hash}/callbacks` });
    expect(res.statusCode).toBe(200);
    const view = res.json() as {
      deliveries: (Delivery & { attempt_count: number })[];
      notes: { at: number; note: string }[];
    };
    const validate = app!.sandbox.schemas.validator('callbackDelivery');
    for (const d of view.deliveries) expect(validate(d), JSON.stringify(validate.errors)).toBe(true);
    return view;
  }

  const idle = () => app!.sandbox.callbacks.whenIdle();

  it('callback-duplicate: the receiver sees the identical body twice, and the delivery log says why', async () => {
    await setup();
    // Activated by the header on create: the payment remembers it.
    const res = await app!.inject({
      method: 'POST',
      url: `${API}/payment`,
      headers: {
        'auth-identifier': APP_ID,
        'content-type': 'text/plain',
        [SCENARIO_HEADER]: 'callback-duplicate',
      },
      payload: await seal({
        order: {
          amount: 1500,
          order_id: nextOrderId(),
          description: 'Дубль',
          type: 'ecom',
          callback_post_url: receiver!.url,
        },
      }),
    });
    expect(res.statusCode).toBe(200);
    const hash = res.json().payload.transaction_hash as string;
    await payWithTestCard(app!, hash);
    await clearNow(app!, hash);
    await receiver!.waitFor(2);
    await idle();
    clock.advance(24 * 3_600_000);
    await idle();

    expect(receiver!.received).toHaveLength(2);
    const [a, b] = receiver!.received;
    expect(a!.body).toBe(b!.body);
    expect(JSON.parse(a!.body)).toMatchObject({ transaction_hash: hash, status: { status: 'completed' } });
    expect(app!.sandbox.schemas.validator('callbackBody')(JSON.parse(a!.body))).toBe(true);
    expect(a!.headers['x-ktpay-delivery-id']).not.toBe(b!.headers['x-ktpay-delivery-id']);

    const { deliveries } = await callbacksView(hash);
    expect(deliveries).toHaveLength(2);
    for (const d of deliveries) {
      expect(d.state).toBe('acknowledged');
      expect(d.note).toContain(
        'scenario callback-duplicate (transaction) step 1: send the callback twice with an identical body',
      );
      expect(d.scenario).toMatchObject({ name: 'callback-duplicate', action: 'duplicate' });
    }
    const [first, second] = [...deliveries].sort((x, y) =>
      x.note!.includes('copy 1 of 2') ? -1 : y.note!.includes('copy 1 of 2') ? 1 : 0,
    );
    expect(first!.note).toContain(`copy 1 of 2; ${second!.id} sends the identical body`);
    expect(second!.note).toContain(`copy 2 of 2, the identical body of ${first!.id}`);
  });

  it('callback-never-sent (for a merchant): nothing reaches the receiver, the journal says why, the status endpoint has the truth', async () => {
    await setup();
    await app!.inject({
      method: 'PUT',
      url: `/__admin/merchants/${APP_ID}/scenario`,
      payload: { name: 'callback-never-sent' },
    });
    const hash = await createPayment(app!, { callback_post_url: receiver!.url });
    await payWithTestCard(app!, hash);
    await clearNow(app!, hash);
    clock.advance(24 * 3_600_000);
    await idle();
    await new Promise((r) => setTimeout(r, 50));

    expect(receiver!.received).toHaveLength(0);
    const view = await callbacksView(hash);
    expect(view.deliveries).toHaveLength(0);
    expect(view.notes).toHaveLength(1);
    expect(view.notes[0]!.note).toContain(
      'scenario callback-never-sent (merchant) step 1: never send the callback',
    );
    expect(view.notes[0]!.note).toContain(`the callback to ${receiver!.url} was deliberately not sent`);
    const status = await app!.inject({
      url: `${API}/payment/${hash}`,
      headers: { 'auth-identifier': APP_ID },
    });
    expect(status.json().payload.status.status).toBe('completed');
  });

  it('callback-delayed: the first attempt waits 5 s on the clock', async () => {
    await setup();
    const hash = await completedUnder('callback-delayed');
    await idle();
    clock.advance(4_999);
    await idle();
    expect(receiver!.received).toHaveLength(0);
    const [held] = await app!.sandbox.callbacks.list({ transaction_hash: hash });
    expect(held!.state).toBe('pending');
    expect(held!.note).toContain(
      'scenario callback-delayed (order_id) step 1: hold the callback back for 5000 ms',
    );
    clock.advance(1);
    await receiver!.waitFor(1);
    await idle();
    const [sent] = await app!.sandbox.callbacks.list({ transaction_hash: hash });
    expect(sent!.state).toBe('acknowledged');
    expect(sent!.attempts[0]!.at - sent!.created_at).toBe(5_000);
  });

  it('callback-out-of-order: after the final callback is acknowledged, the stale earlier status of the same payment follows', async () => {
    await setup();
    const hash = await completedUnder('callback-out-of-order');
    await receiver!.waitFor(2);
    await idle();
    clock.advance(24 * 3_600_000);
    await idle();
    expect(receiver!.received).toHaveLength(2);
    const [final, stale] = receiver!.received.map(
      (r) =>
        JSON.parse(r.body) as { transaction_hash: string; status: { status: string; created_at: string } },
    );
    expect(final!.status.status).toBe('completed');
    expect(stale!.status.status).toBe('success');
    expect(stale!.transaction_hash).toBe(hash);
    expect(Date.parse(stale!.status.created_at)).toBeLessThan(Date.parse(final!.status.created_at));
    const validate = app!.sandbox.schemas.validator('callbackBody');
    expect(validate(stale)).toBe(true);
    // The stale body is the status object as it was before clearing.
    const tx = (await app!.sandbox.payments.get(hash))!;
    expect(stale!.status.created_at).toBe(toAlmatyIso(tx.history.find((h) => h.status === 'success')!.at));

    const { deliveries } = await callbacksView(hash);
    const finalDelivery = deliveries.find((d) => d.status === 'completed')!;
    const staleDelivery = deliveries.find((d) => d.status === 'success')!;
    expect(finalDelivery.note).toContain(
      'after the final callback, send a stale earlier status for the same transaction',
    );
    expect(finalDelivery.note).toContain(
      'the stale success callback followed once this one was acknowledged',
    );
    expect(finalDelivery.scenario!.stale).toBeUndefined();
    expect(staleDelivery.note).toContain(
      `the stale success status of this payment, sent after delivery ${finalDelivery.id} (completed) was acknowledged`,
    );
    expect(staleDelivery.attempts[0]!.at).toBeGreaterThanOrEqual(finalDelivery.attempts[0]!.at);
  });

  it('callback-out-of-order on a declined payment: the stale body is the pending status', async () => {
    await setup();
    const hash = await createPayment(app!, {
      callback_post_url: receiver!.url,
      order_id: `scenario:callback-out-of-order:${nextOrderId()}`,
    });
    const res = await app!.inject({
      method: 'POST',
      url: `/__admin/transactions/${hash}/pay`,
      payload: { pan: '4000000000000002', exp_month: '12', exp_year: '30', cvc: '123' },
    });
    expect(res.json().outcome).toBe('declined');
    await receiver!.waitFor(2);
    const statuses = receiver!.received.map(
      (r) => (JSON.parse(r.body) as { status: { status: string } }).status.status,
    );
    expect(statuses).toEqual(['error', 'pending']);
  });

  it('callback-extra-fields: the body carries unknown fields on top of the exact documented object', async () => {
    await setup();
    const hash = await completedUnder('callback-extra-fields');
    await receiver!.waitFor(1);
    await idle();
    const body = JSON.parse(receiver!.received[0]!.body) as Record<string, unknown> & {
      status: Record<string, unknown>;
    };
    const extras = Object.keys(body).filter((k) => k.startsWith('x_mock_'));
    expect(extras.length).toBeGreaterThan(0);
    expect(Object.keys(body.status).filter((k) => k.startsWith('x_mock_')).length).toBeGreaterThan(0);
    // A strict validator of the documented body rejects it …
    expect(app!.sandbox.schemas.validator('callbackBody')(body)).toBe(false);
    // … and without the unknown fields it is exactly the status object.
    const documented = Object.fromEntries(Object.entries(body).filter(([k]) => !k.startsWith('x_mock_')));
    documented.status = Object.fromEntries(
      Object.entries(body.status).filter(([k]) => !k.startsWith('x_mock_')),
    );
    const status = (
      await app!.inject({ url: `${API}/payment/${hash}`, headers: { 'auth-identifier': APP_ID } })
    ).json().payload;
    delete status.refunds;
    delete status.refunded_amount;
    expect(documented).toEqual(status);
    const [d] = await app!.sandbox.callbacks.list({ transaction_hash: hash });
    expect(d!.note).toContain('add unknown fields to the callback body');
  });

  it('callback-slow-cadence: retries follow the schedule stretched ×10', async () => {
    await setup(answers.serverError);
    const hash = await completedUnder('callback-slow-cadence');
    await receiver!.waitFor(1);
    await idle();
    const gaps: number[] = [];
    for (const step of [15_000, 60_000, 180_000]) {
      const d = (await app!.sandbox.callbacks.list({ transaction_hash: hash }))[0]!;
      expect(d.state).toBe('retrying');
      const wait = d.next_attempt_at! - clock.now();
      gaps.push(wait);
      clock.advance(wait - 1);
      await idle();
      expect(receiver!.received.length, `retry came before ${step} × 10`).toBe(d.attempts.length);
      clock.advance(1);
      await receiver!.waitFor(d.attempts.length + 1);
      await idle();
    }
    expect(gaps).toEqual([150_000, 600_000, 1_800_000]);
    const d = (await app!.sandbox.callbacks.list({ transaction_hash: hash }))[0]!;
    expect(d.note).toContain('stretch the retry schedule ×10');
    expect(d.scenario).toMatchObject({ action: 'slow_cadence', retry_factor: 10 });
  });

  it('callback-fail-then-succeed: attempt 1 fails on the sandbox side without sending; the retry 15 s later goes through', async () => {
    await setup();
    const hash = await completedUnder('callback-fail-then-succeed');
    await idle();
    await new Promise((r) => setTimeout(r, 50));
    expect(receiver!.received).toHaveLength(0);
    const failed = (await app!.sandbox.callbacks.list({ transaction_hash: hash }))[0]!;
    expect(failed.state).toBe('retrying');
    expect(failed.attempts).toHaveLength(1);
    expect(failed.attempts[0]).toMatchObject({ sent: false, verdict: 'failed', response_status: null });
    expect(failed.attempts[0]!.reason).toMatch(
      /^sabotaged by scenario callback-fail-then-succeed: attempt 1 of the first 1/,
    );
    expect(failed.next_attempt_at! - failed.attempts[0]!.at).toBe(15_000);
    clock.advance(15_000);
    await receiver!.waitFor(1);
    await idle();
    const ok = (await app!.sandbox.callbacks.list({ transaction_hash: hash }))[0]!;
    expect(ok.state).toBe('acknowledged');
    expect(ok.attempts).toHaveLength(2);
    expect(ok.attempts[1]).toMatchObject({ sent: true, verdict: 'acknowledged' });
    expect(receiver!.received[0]!.headers['x-ktpay-attempt']).toBe('2');
    expect(ok.note).toContain('fail the first 1 delivery attempt(s) on the sandbox side, then send normally');
  });

  it('with STORE=sqlite, a held-back callback and a fail_first plan survive a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktpay-scenario-restart-'));
    try {
      receiver = await startReceiver(answers.ok);
      const flags = { clearing_delay_ms: 'manual' as const, store: `sqlite:${join(dir, 'sandbox.db')}` };
      clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
      const first = await buildTestApp(flags, { clock });
      app = first;
      const delayed = await completedUnder('callback-delayed');
      const sabotaged = await completedUnder('callback-fail-then-succeed');
      await idle();
      expect((await app.sandbox.callbacks.list({ transaction_hash: sabotaged }))[0]!.attempts).toHaveLength(
        1,
      );
      await first.close();

      // Delivery 1 is due 5 s after its creation (at +1 s), delivery 2 retries 15 s after its
      // sabotaged attempt (at +2 s). The next start happens at +4 s on the sandbox clock.
      const started = Date.parse('2026-03-01T10:00:00Z');
      clock = createManualClock(started + 4_000);
      app = await buildTestApp(flags, { clock });
      await app.ready();
      await idle();
      expect(receiver.received).toHaveLength(0);
      clock.advance(1_999);
      await idle();
      expect(receiver.received).toHaveLength(0);
      clock.advance(1);
      await receiver.waitFor(1);
      expect(JSON.parse(receiver.received[0]!.body).transaction_hash).toBe(delayed);
      clock.advance(10_999);
      await idle();
      expect(receiver.received).toHaveLength(1);
      clock.advance(1);
      await receiver.waitFor(2);
      await idle();
      const resumed = (await app.sandbox.callbacks.list({ transaction_hash: sabotaged }))[0]!;
      expect(resumed.state).toBe('acknowledged');
      expect(resumed.attempts.map((a) => a.sent)).toEqual([false, true]);
      expect(resumed.scenario).toMatchObject({ name: 'callback-fail-then-succeed', fail_first: 1 });
    } finally {
      await app?.close();
      app = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a callback scenario on one payment leaves another payment’s callback alone', async () => {
    await setup();
    const dropped = await completedUnder('callback-never-sent');
    const normal = await createPayment(app!, { callback_post_url: receiver!.url });
    await payWithTestCard(app!, normal);
    await clearNow(app!, normal);
    await receiver!.waitFor(1);
    await idle();
    expect(receiver!.received).toHaveLength(1);
    expect(JSON.parse(receiver!.received[0]!.body).transaction_hash).toBe(normal);
    expect(await app!.sandbox.callbacks.list({ transaction_hash: dropped })).toHaveLength(0);
    const [d] = await app!.sandbox.callbacks.list({ transaction_hash: normal });
    expect(d!.scenario).toBeUndefined();
  });
});
