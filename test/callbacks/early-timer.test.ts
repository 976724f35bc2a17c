import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type Clock } from '../../mock-server/shared/clock.js';
import { createMemoryStore } from '../../mock-server/store/memory-store.js';
import type { Store } from '../../mock-server/store/store.js';
import { buildTestApp, createPayment } from '../helpers/sandbox.js';
import { answers, failPayment, onlyDelivery, startReceiver, type Answer, type Receiver } from './receiver.js';

/*
 * Regression (bench smoke on CI: "149 of 150 deliveries acknowledged"): Node starts a timer from
 * the event loop's cached time, so on a busy loop a retry timer fires a little before Date.now()
 * reaches the delivery's next_attempt_at. The claim then finds the delivery not yet due; the outbox
 * re-reads it to arm the timer again, but only did so when the due time was still in the future
 * at that second read. When the clock had crossed it in between, nothing was armed and the
 * delivery stayed `retrying` for ever. Here a clock whose timers fire 1 ms early and a store under
 * which 1 ms passes during a refused claim make that interleaving happen every time.
 */

const failOnceThenOk: Answer = (req, res, n) =>
  n === 1 ? answers.serverError(req, res, n) : answers.ok(req, res, n);

describe('a retry timer that fires a moment before its due time', () => {
  let app: FastifyInstance | undefined;
  let receiver: Receiver | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  it('is armed again, and the retry is made, when the due time passes while the claim is refused', async () => {
    receiver = await startReceiver(failOnceThenOk);
    const manual = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    let drift = 0; // ms that passed "during" store calls
    const clock: Clock = {
      now: () => manual.now() + drift,
      // As Node does under load: the timer fires up to 1 ms before now() reaches its due time.
      setTimeout: (fn, ms) => manual.setTimeout(fn, ms - 1),
      clearTimeout: (t) => manual.clearTimeout(t),
    };
    const memory = createMemoryStore({ journalSize: 1000 });
    let refusedAsNotDue = 0;
    const store: Store = {
      ...memory,
      async claimDelivery(id, lease, o) {
        const claimed = await memory.claimDelivery(id, lease, o);
        if (!claimed && o?.due) {
          const d = await memory.getDelivery(id);
          if (d && (d.next_attempt_at ?? 0) > lease.now) {
            refusedAsNotDue++;
            drift += 1; // the due time passes before the outbox looks at the row again
          }
        }
        return claimed;
      },
    };
    app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock, store });
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    const { callbacks } = app.sandbox;
    await callbacks.whenIdle();
    expect(receiver.received).toHaveLength(1);
    expect((await onlyDelivery(app, hash)).state).toBe('retrying');

    manual.advance(15_000); // the retry timer fires 1 ms early: refused as not due
    await callbacks.whenIdle();
    expect(refusedAsNotDue).toBe(1);
    manual.advance(0); // a timer armed again for a due time already passed fires now
    await callbacks.whenIdle();

    expect(receiver.received.map((r) => r.headers['x-ktpay-attempt'])).toEqual(['1', '2']);
    const d = await onlyDelivery(app, hash);
    expect(d.state).toBe('acknowledged');
    expect(d.attempts.map((a) => a.verdict)).toEqual(['failed', 'acknowledged']);
    expect(d.attempts[1]!.at).toBeGreaterThanOrEqual(d.attempts[1]!.due_at!);
  });
});
