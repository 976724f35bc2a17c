import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../mock-server/shared/clock.js';
import { buildTestApp, createPayment } from '../helpers/sandbox.js';
import { testStoreKind } from '../helpers/test-store.js';
import {
  answers,
  failPayment,
  onlyDelivery,
  startReceiver,
  waitForDelivery,
  type Answer,
  type Receiver,
} from './receiver.js';

/** The documented retry offsets from the first attempt: 0, +15 s, +60 s, +3 min, +10 min, +30 min, +60 min. */
const DOCUMENTED_OFFSETS = [0, 15_000, 75_000, 255_000, 855_000, 2_655_000, 6_255_000];

const failTwiceThenOk: Answer = (req, res, n) =>
  n <= 2 ? answers.serverError(req, res, n) : answers.ok(req, res, n);

describe('retry schedule', () => {
  let app: FastifyInstance | undefined;
  let receiver: Receiver | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  it('recovers after 2 failures in scaled time: 3 attempts whose gaps follow 15 s and 60 s × time scale', async () => {
    receiver = await startReceiver(failTwiceThenOk);
    const scale = 0.004; // 15 s → 60 ms, 60 s → 240 ms
    app = await buildTestApp(
      { clearing_delay_ms: 'manual' },
      { env: { CALLBACK_TIME_SCALE: String(scale) } },
    );
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    const id = (await onlyDelivery(app, hash)).id;
    const d = await waitForDelivery(app, id, (x) => x.state === 'acknowledged');

    // What the receiver saw: three POSTs, numbered, identical bytes.
    const got = receiver.received;
    expect(got).toHaveLength(3);
    expect(got.map((r) => r.headers['x-ktpay-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(got.map((r) => r.headers['x-ktpay-delivery-id']))).toEqual(new Set([id]));
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    const gap1 = got[1]!.t - got[0]!.t;
    const gap2 = got[2]!.t - got[1]!.t;
    expect(gap1).toBeGreaterThanOrEqual(15_000 * scale - 1);
    expect(gap1).toBeLessThan(15_000 * scale + 1_000);
    expect(gap2).toBeGreaterThanOrEqual(60_000 * scale - 1);
    expect(gap2).toBeLessThan(60_000 * scale + 1_000);
    expect(gap2).toBeGreaterThan(gap1);

    // What the log shows: all three with their verdicts, each due exactly delay after the failure.
    expect(d.attempts.map((a) => [a.attempt, a.verdict, a.response_status])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'acknowledged', 200],
    ]);
    const [a1, a2, a3] = d.attempts as [
      (typeof d.attempts)[0],
      (typeof d.attempts)[0],
      (typeof d.attempts)[0],
    ];
    // Beyond the HTTP latency, an attempt's time holds the event loop's delays and, on a shared
    // store, the merchant lookup before the request (a round trip to PostgreSQL on a loaded box).
    const slack = testStoreKind() === 'postgres' ? 50 : 10;
    expect(a2.due_at! - a1.at).toBeGreaterThanOrEqual(60);
    expect(a2.due_at! - a1.at).toBeLessThanOrEqual(60 + Math.ceil(a1.latency_ms) + slack);
    expect(a3.due_at! - a2.at).toBeGreaterThanOrEqual(240);
    expect(a3.due_at! - a2.at).toBeLessThanOrEqual(240 + Math.ceil(a2.latency_ms) + slack);
    expect(a2.at).toBeGreaterThanOrEqual(a2.due_at!);
    expect(a3.at).toBeGreaterThanOrEqual(a3.due_at!);

    // And the admin API tells the same story.
    const view = (
      await app.inject({ method: 'GET', url: `/__admin/transactions/${hash}/callbacks` })
    ).json() as {
      deliveries: Array<{
        state: string;
        attempts: Array<{ verdict: string; reason: string; offset_ms: number }>;
      }>;
    };
    expect(view.deliveries).toHaveLength(1);
    expect(view.deliveries[0]!.state).toBe('acknowledged');
    expect(view.deliveries[0]!.attempts.map((a) => a.reason)).toEqual([
      'answered HTTP 500; only a 2xx answer can acknowledge a callback',
      'answered HTTP 500; only a 2xx answer can acknowledge a callback',
      'acknowledged: 200 application/json {"status":"ok"}',
    ]);
    expect(view.deliveries[0]!.attempts[2]!.offset_ms).toBeGreaterThanOrEqual(300);
  });

  it('recovers after 2 failures on the documented schedule, driven by a manual clock: offsets exactly 0, 15 s, 75 s', async () => {
    receiver = await startReceiver(failTwiceThenOk);
    const clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock });
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    const { callbacks } = app.sandbox;
    await callbacks.whenIdle();
    expect(receiver.received).toHaveLength(1);

    clock.advance(14_999);
    await callbacks.whenIdle();
    expect(receiver.received).toHaveLength(1); // not a millisecond early
    clock.advance(1);
    await callbacks.whenIdle();
    expect(receiver.received).toHaveLength(2);
    clock.advance(59_999);
    await callbacks.whenIdle();
    expect(receiver.received).toHaveLength(2);
    clock.advance(1);
    await callbacks.whenIdle();
    expect(receiver.received).toHaveLength(3);

    const d = await onlyDelivery(app, hash);
    expect(d.state).toBe('acknowledged');
    const t0 = d.attempts[0]!.at;
    expect(d.attempts.map((a) => a.at - t0)).toEqual([0, 15_000, 75_000]);
    expect(d.attempts.map((a) => a.verdict)).toEqual(['failed', 'failed', 'acknowledged']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a receiver that always fails sees exactly 7 attempts (time scale 0.0001), and the delivery ends failed', async () => {
    receiver = await startReceiver(answers.serverError);
    app = await buildTestApp({ clearing_delay_ms: 'manual' }, { env: { CALLBACK_TIME_SCALE: '0.0001' } });
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    const id = (await onlyDelivery(app, hash)).id;
    const d = await waitForDelivery(app, id, (x) => x.state === 'failed');
    // The whole schedule is 6255 s; × 0.0001 that is 626 ms. Wait past its last gap for an 8th that must not come.
    await new Promise((r) => setTimeout(r, 500));

    expect(receiver.received).toHaveLength(7);
    expect(receiver.received.map((r) => r.headers['x-ktpay-attempt'])).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
    ]);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    const final = (await app.sandbox.callbacks.get(id))!;
    expect(final.state).toBe('failed');
    expect(final.next_attempt_at).toBeNull();
    expect(final.attempts).toHaveLength(7);
    expect(d.attempts.every((a) => a.verdict === 'failed' && a.response_status === 500)).toBe(true);
    expect(app.sandbox.callbacks.stats()).toEqual({ armed: 0, queued: 0, in_flight: 0 });
  });

  it('7 attempts on the documented schedule with a manual clock: offsets 0, 15 s, 75 s, 255 s, 855 s, 2655 s, 6255 s, then failed', async () => {
    receiver = await startReceiver(answers.serverError);
    const clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock });
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    const { callbacks } = app.sandbox;
    await callbacks.whenIdle();
    for (const gap of [15_000, 60_000, 180_000, 600_000, 1_800_000, 3_600_000]) {
      clock.advance(gap);
      await callbacks.whenIdle();
    }
    clock.advance(24 * 3_600_000);
    await callbacks.whenIdle();

    const d = await onlyDelivery(app, hash);
    expect(receiver.received).toHaveLength(7);
    expect(d.state).toBe('failed');
    const t0 = d.attempts[0]!.at;
    expect(d.attempts.map((a) => a.at - t0)).toEqual(DOCUMENTED_OFFSETS);
    expect(d.attempts.map((a) => a.due_at! - t0)).toEqual(DOCUMENTED_OFFSETS);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('CALLBACK_SCHEDULE_MS overrides the schedule: two delays mean three attempts', async () => {
    receiver = await startReceiver(answers.serverError);
    const clock = createManualClock();
    app = await buildTestApp(
      { clearing_delay_ms: 'manual' },
      { clock, env: { CALLBACK_SCHEDULE_MS: '1000,5000' } },
    );
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    const { callbacks } = app.sandbox;
    await callbacks.whenIdle();
    clock.advance(1_000);
    await callbacks.whenIdle();
    clock.advance(5_000);
    await callbacks.whenIdle();
    clock.advance(3_600_000);
    await callbacks.whenIdle();

    const d = await onlyDelivery(app, hash);
    expect(receiver.received).toHaveLength(3);
    expect(d.state).toBe('failed');
    expect(d.attempts.map((a) => a.at - d.attempts[0]!.at)).toEqual([0, 1_000, 6_000]);
  });
});
