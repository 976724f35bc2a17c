import type { Clock } from '../shared/clock.js';
import type { Store, Updated } from '../store/store.js';
import type { SendOutcome } from './callback-dispatcher.js';
import { isOpen, type AttemptTrigger, type Delivery, type DeliveryAttempt } from './delivery.js';
import type { RetrySchedule } from './retry-schedule.js';

/**
 * The outbox's *record* (DESIGN.md house style 15): the attempt log and the delivery's next state
 * (acknowledged, failed, or retrying at the schedule's next due time), written while this owner
 * still holds the lease, which the write frees. A lease lost meanwhile (it expired and another
 * replica took the delivery) means this verdict is not written: that replica's attempt is the one
 * on record.
 *
 * @example
 * const record = createOutboxRecord({ store, clock, retries, owner });
 * const next = await record.verdict(claimed, 'schedule', outcome, startedAt);
 */
export function createOutboxRecord(deps: {
  store: Store;
  clock: Clock;
  retries: RetrySchedule;
  owner: string;
  /** Written on each attempt when replicas share the store (which one made it). */
  replica?: string | undefined;
}) {
  const { store, clock, owner } = deps;
  return {
    /** The attempt's verdict; resolves with the delivery as stored, or undefined when the lease was lost. */
    async verdict(
      claimed: Updated<Delivery>,
      trigger: AttemptTrigger,
      outcome: SendOutcome,
      startedAt: number,
    ): Promise<Delivery | undefined> {
      const d = claimed.before;
      const wasOpen = isOpen(d);
      const n = d.attempts.length + 1;
      // Retries count from the failure, not from when the record reaches the store.
      const failedAt = clock.now();
      const attempt: DeliveryAttempt = {
        attempt: n,
        trigger,
        due_at: trigger === 'redeliver' ? null : (d.next_attempt_at ?? d.created_at),
        at: startedAt,
        request_headers: outcome.request_headers,
        request_body: d.body,
        sent: outcome.sent,
        response_status: outcome.response_status,
        response_headers: outcome.response_headers,
        response_body: outcome.response_body,
        latency_ms: outcome.latency_ms,
        verdict: outcome.acknowledged ? 'acknowledged' : 'failed',
        reason: outcome.reason,
        ...(deps.replica ? { replica: deps.replica } : {}),
      };
      const settled = await store.settleDelivery(d.id, owner, (cur): Delivery => {
        const attempts = [...cur.attempts, attempt];
        if (outcome.acknowledged) return { ...cur, attempts, state: 'acknowledged', next_attempt_at: null };
        if (outcome.blocked || !wasOpen) return { ...cur, attempts, state: 'failed', next_attempt_at: null };
        const base = deps.retries.delayAfter(n);
        const delay = base === undefined ? undefined : base * (d.scenario?.retry_factor ?? 1);
        return delay === undefined
          ? { ...cur, attempts, state: 'failed', next_attempt_at: null }
          : { ...cur, attempts, state: 'retrying', next_attempt_at: failedAt + delay };
      });
      return settled?.after;
    },

    /** Shutdown cut the attempt short: not a verdict. The delivery goes back as it was, due now. */
    async aborted(claimed: Updated<Delivery>): Promise<void> {
      const d = claimed.before;
      const wasOpen = isOpen(d);
      await store.settleDelivery(d.id, owner, (cur) => ({
        ...cur,
        state: wasOpen ? (cur.attempts.length > 0 ? 'retrying' : 'pending') : d.state,
        next_attempt_at: wasOpen ? (d.next_attempt_at ?? clock.now()) : d.next_attempt_at,
      }));
    },

    /** A bug must not lose a delivery silently: say so on the row and stop retrying it. */
    async crash(id: string, err: unknown): Promise<void> {
      const note = `the sandbox failed while delivering: ${err instanceof Error ? err.message : String(err)}`;
      const failed = (d: Delivery): Delivery => ({ ...d, state: 'failed', next_attempt_at: null, note });
      // Only while this owner holds the lease: a delivery another replica took over is theirs.
      await store.settleDelivery(id, owner, failed);
    },
  };
}
