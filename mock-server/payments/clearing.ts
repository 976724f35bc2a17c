import { KtpayError } from '../envelope/ktpay-error.js';
import type { Clock, ClockTimer } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { TransitionHub } from './payment-events.js';
import type { PaymentService } from './payment-service.js';

export interface ClearingDeps {
  store: Store;
  clock: Clock;
  hub: TransitionHub;
  payments: PaymentService;
  /** Milliseconds from `success` to `completed`, or `manual` (only `POST /__admin/transactions/{hash}/clear`). */
  delay: number | 'manual';
  /** Told about a clearing that could not happen (e.g. the store failed); never thrown. */
  onError?: (err: unknown, hash: string) => void;
  /**
   * A shared (PostgreSQL) store: transactions whose clearing is due, whichever replica paid them.
   * With it, this replica also clears what a stopped or killed replica left in `success`.
   */
  listDue?: (now: number, delayMs: number, limit: number) => Promise<string[]>;
}

/** How often a replica of a shared store looks for overdue clearings (issue 17). */
export const CLEARING_SWEEP_MS = 500;
/** The replica that armed a clearing gets this long to make it before the others step in. */
export const CLEARING_GRACE_MS = 1_000;

/**
 * Clearing [spec §9]: a transaction that reaches `success` turns `completed` after
 * `clearing_delay_ms`, on the injected clock. With `manual` nothing is scheduled.
 *
 * Call `rearm()` once at startup: with a durable store, transactions left in `success` by the last
 * run get their timers back, due at `status_created_at + delay` (at once when that has passed).
 *
 * With a shared store (`listDue`), the due time is the row itself (`status_created_at + delay`):
 * every replica sweeps for clearings overdue by {@link CLEARING_GRACE_MS}, so a transaction paid
 * on a replica that was killed still clears. The transition is a compare-and-set on the row, so
 * when two replicas clear at once one of them finds it moved on and does nothing.
 *
 * @example
 * const clearing = startClearing({ store, clock, hub, payments, delay: config.clearing_delay_ms });
 * await clearing.rearm();
 * // on shutdown:
 * await clearing.stop();
 */
export function startClearing(deps: ClearingDeps) {
  const { store, clock, hub, payments, delay } = deps;
  const timers = new Map<string, ClockTimer>();
  let stopped = false;

  /** Clearing in progress, so `idle()` can wait for it (and a stop for the store). */
  const running = new Set<Promise<void>>();

  async function clearNow(hash: string): Promise<void> {
    timers.delete(hash);
    try {
      const tx = await store.getTransaction(hash);
      if (!tx || tx.status !== 'success') return; // cancelled or cleared by hand meanwhile
      await payments.apply(hash, { type: 'clear', at: clock.now() });
    } catch (err) {
      // A rejection means the status moved on between the read and the apply: nothing to do.
      if (!(err instanceof KtpayError)) deps.onError?.(err, hash);
    }
  }

  function schedule(hash: string, dueAt: number) {
    if (stopped || delay === 'manual' || timers.has(hash)) return;
    timers.set(
      hash,
      clock.setTimeout(
        () => {
          const run = clearNow(hash).finally(() => running.delete(run));
          running.add(run);
        },
        Math.max(0, dueAt - clock.now()),
      ),
    );
  }

  hub.on(({ before, after }) => {
    if (after.status === 'success' && before.status !== 'success')
      schedule(after.hash, after.status_created_at + (delay === 'manual' ? 0 : delay));
    if (after.status !== 'success') {
      const t = timers.get(after.hash);
      if (t) {
        clock.clearTimeout(t);
        timers.delete(after.hash);
      }
    }
  });

  let sweepTimer: ClockTimer | undefined;
  function armSweep() {
    const listDue = deps.listDue;
    if (!listDue || stopped || delay === 'manual') return;
    sweepTimer = clock.setTimeout(
      () => {
        const run = listDue(clock.now(), delay + CLEARING_GRACE_MS, 200)
          .then(async (hashes) => {
            for (const hash of hashes) if (!stopped) await clearNow(hash);
          })
          .catch(() => undefined) // the database away for a moment: the next sweep tries again
          .finally(() => {
            running.delete(run);
            armSweep();
          });
        running.add(run);
      },
      CLEARING_SWEEP_MS,
      { poll: true },
    );
  }
  armSweep();

  return {
    /** Re-schedules every transaction the store holds in `success`. Resolves with how many. */
    async rearm(): Promise<number> {
      if (delay === 'manual') return 0;
      const waiting = await store.listTransactions({ status: 'success', limit: Number.MAX_SAFE_INTEGER });
      for (const tx of waiting) schedule(tx.hash, tx.status_created_at + delay);
      return waiting.length;
    },
    /** Transactions with a clearing timer running. */
    scheduled: () => timers.size,
    /** Stops scheduling and waits for clearings already under way (they write to the store). */
    async stop(): Promise<void> {
      stopped = true;
      if (sweepTimer) clock.clearTimeout(sweepTimer);
      for (const t of timers.values()) clock.clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...running]);
    },
  };
}

export type Clearing = ReturnType<typeof startClearing>;
