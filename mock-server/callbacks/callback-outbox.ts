import { ErrorCode } from '../../contracts/error-catalog.js';
import type { SandboxConfig } from '../config/load-config.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { CallbackNote, TransitionNotice } from '../payments/payment-events.js';
import type { Transaction } from '../payments/transaction.js';
import type { ScenarioEngine } from '../scenarios/scenario-engine.js';
import type { Clock, ClockTimer } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import { createCallbackDispatcher } from './callback-dispatcher.js';
import type { DeliveryScenario } from './callback-scenario.js';
import { createDeliveryAttempt } from './delivery-attempt.js';
import { isOpen, type AttemptTrigger, type Delivery, type DeliveryFilter } from './delivery.js';
import type { Resolver } from './destination-guard.js';
import { createOutboxClaim, replicaId } from './outbox-claim.js';
import { createCallbackPlanner } from './outbox-plan.js';
import { createOutboxRecord } from './outbox-record.js';
import { createOutboxSchedule } from './outbox-schedule.js';
import { createRetrySchedule } from './retry-schedule.js';

export { isNotified } from './outbox-plan.js';

/** The journal's method for sandbox-side callback notes (nothing was received over HTTP). */
export const CALLBACK_JOURNAL_METHOD = 'CALLBACK';

/** How long `stop()` waits for attempts in flight by default (issue 4: "briefly", ≤ ~1 s). */
export const SHUTDOWN_GRACE_MS = 1_000;

/** How often a replica of a shared store looks for due deliveries nobody holds (issue 17). */
export const SWEEP_MS = 500;

/** How soon a due delivery this process could not claim is tried again (a store of its own). */
export const RECLAIM_MS = 100;

/** A lease outlives the longest attempt (the callback timeout) by this much. */
export const LEASE_MARGIN_MS = 5_000;

/**
 * The callback outbox (spec §10, issues 4 and 17). Reaching a notified final status stores a
 * delivery with the transition (see {@link createCallbackPlanner}); an attempt is then four steps,
 * each in its own module (DESIGN.md house style 15):
 *
 * - *schedule* (outbox-schedule.ts): due times are `next_attempt_at` on the rows; this process
 *   turns them into timers and a queue with a concurrency limit;
 * - *claim* (outbox-claim.ts): the delivery's lease in the store, so exactly one replica makes
 *   each attempt;
 * - *attempt* (delivery-attempt.ts): the HTTP request through the dispatcher;
 * - *record* (outbox-record.ts): the attempt log and the next due time, written while the lease
 *   is held.
 *
 * With a shared (PostgreSQL) store every replica also sweeps for due deliveries no live replica
 * holds, every {@link SWEEP_MS}: retries another replica scheduled, and attempts a killed replica
 * left behind once their lease expired.
 *
 * @example
 * const outbox = createCallbackOutbox({ store, clock, config });
 * const payments = createPaymentService({ …, callbacks: outbox }); // plans the rows each transition stores
 * hub.on(outbox.onTransition);
 * await outbox.resume();      // at startup
 * await outbox.flush();       // run every pending retry now
 * await outbox.stop();        // at shutdown: wait ≤ 1 s, leave the rest pending
 */
export function createCallbackOutbox(deps: {
  store: Store;
  clock: Clock;
  config: SandboxConfig;
  resolve?: Resolver;
  /** The scenario engine (issue 6): consulted once per new delivery with endpoint `callback`. */
  scenarios?: Pick<ScenarioEngine, 'resolve'>;
}) {
  const { store, clock, config } = deps;
  const settings = config.callbacks;
  const shared = store.kind === 'postgres';
  const dispatcher = createCallbackDispatcher({
    timeoutMs: settings.timeout_ms,
    allowHosts: settings.allow_hosts,
    ...(deps.resolve ? { resolve: deps.resolve } : {}),
  });
  const owner = replicaId();
  const claim = createOutboxClaim({ store, clock, owner, leaseMs: settings.timeout_ms + LEASE_MARGIN_MS });
  const attempt = createDeliveryAttempt({ store, dispatcher });
  const record = createOutboxRecord({
    store,
    clock,
    owner,
    retries: createRetrySchedule(settings.schedule_ms, settings.time_scale),
    replica: shared ? owner : undefined,
  });
  const schedule = createOutboxSchedule({
    clock,
    concurrency: settings.concurrency,
    run: (id, trigger) =>
      runAttempt(id, trigger).catch((err: unknown) => record.crash(id, err).catch(() => undefined)),
  });
  const planner = createCallbackPlanner({
    clock,
    settings,
    held: () => schedule.held(),
    scenarios: deps.scenarios,
  });

  async function journalNote(tx: Transaction, { path, text, scenario }: CallbackNote): Promise<void> {
    await store.appendJournal({
      at: clock.now(),
      app_id: tx.app_id,
      order_id: tx.order_id,
      transaction_hash: tx.hash,
      method: CALLBACK_JOURNAL_METHOD,
      path,
      headers: {},
      raw_body_size: 0,
      decrypted: null,
      verdict: { ok: true, error_code: null, explanation: text, contract_warnings: [text], scenario },
      response: { status: 0, body: null },
      duration_ms: 0,
    });
  }

  /** claim → attempt → record, then the next due time armed here (any replica may take it). */
  async function runAttempt(id: string, trigger: AttemptTrigger): Promise<void> {
    // Always the row as it is now, even for a delivery a sweep leased to this process: an attempt
    // on the sweep's snapshot could repeat one this process made meanwhile (the same owner may
    // renew its own lease).
    const claimed = await claim.take(id, trigger);
    if (!claimed) {
      if (trigger !== 'schedule') return;
      // Gone (reset), closed, or another replica's. Or not due yet: a timer may fire a moment
      // before the clock reaches its due time, or another replica made this attempt and
      // scheduled the next. Then it is armed again for the due time on the row.
      const d = await store.getDelivery(id);
      if (!d || !isOpen(d)) return;
      // A pending or retrying row holds no lease, so its claim is refused only while it is not due:
      // armed for its due time, it is made then, or at once when the clock crossed that time
      // between the claim and this read (Node starts timers from the loop's cached time, so on a
      // busy loop they fire a little before Date.now() reaches the due time). This cannot spin.
      if (d.state !== 'delivering') {
        schedule.arm(d);
        return;
      }
      // `delivering` with a lease still held: an attempt of a process that stopped, until its lease
      // expires. With a store of its own nobody else will take it, so this process looks again
      // shortly; with a shared store the sweep does.
      if (!shared) schedule.arm({ id: d.id, next_attempt_at: clock.now() + RECLAIM_MS });
      return;
    }
    const startedAt = clock.now();
    const outcome = await attempt(claimed.before, claimed.before.attempts.length + 1);
    if (outcome.aborted) {
      await record.aborted(claimed);
      return;
    }
    const next = await record.verdict(claimed, trigger, outcome, startedAt);
    if (!next) return; // the lease was lost: another replica's attempt is on record
    if (next.state === 'retrying') schedule.arm(next);
    if (!isOpen(next) && next.scenario?.stale) await sendStale(next, next.scenario);
  }

  /**
   * out_of_order: once the final callback is closed, its stale predecessor goes out as a delivery
   * of its own. Only when the final one actually left the sandbox, so "stale after final" holds.
   */
  async function sendStale(d: Delivery, scenario: DeliveryScenario): Promise<void> {
    const { stale, ...rest } = scenario;
    if (!stale) return;
    const sent = d.attempts.some((a) => a.sent);
    const updated = await store.updateDelivery(d.id, (cur) =>
      cur.scenario?.stale
        ? {
            ...cur,
            scenario: rest,
            note: sent
              ? `${cur.note ?? ''}; the stale ${stale.status} callback followed once this one was ${cur.state}`
              : `${cur.note ?? ''}; the stale ${stale.status} callback was not sent, because this one never left the sandbox`,
          }
        : undefined,
    );
    // Sent once only: whoever took `stale` off the row sends it.
    if (!sent || !updated || updated.after === updated.before) return;
    const follow = planner.newDelivery(
      {
        transaction_hash: d.transaction_hash,
        app_id: d.app_id,
        url: d.url,
        body: stale.body,
        status: stale.status,
      },
      `${scenario.explanation}: the stale ${stale.status} status of this payment, sent after delivery ${d.id} (${d.status}) was ${d.state}`,
      rest,
      0,
    );
    await store.insertDeliveries([follow]);
    schedule.due(follow);
  }

  // ---- the sweep of a shared store ------------------------------------------------------------
  let sweepTimer: ClockTimer | undefined;
  let sweeping: Promise<void> | undefined;
  async function sweep(): Promise<void> {
    // The sweep's lease keeps other replicas off these rows until the attempt renews it.
    for (const c of await claim.takeDue(schedule.room())) schedule.enqueue(c.before.id, 'schedule');
  }
  function armSweep() {
    if (!shared || schedule.stopped) return;
    sweepTimer = clock.setTimeout(
      () => {
        sweeping = sweep()
          .catch(() => undefined) // the database away for a moment: the next sweep tries again
          .finally(() => {
            sweeping = undefined;
            armSweep();
          });
      },
      SWEEP_MS,
      { poll: true },
    );
  }

  function newestFirst(list: Delivery[]): Delivery[] {
    return [...list].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1));
  }

  return {
    /** Plans the callbacks of a transition; the payment service stores them with it. */
    plan: planner.plan,

    /**
     * The hub listener, after a transition was committed with its deliveries: their first attempts
     * are queued, and notes about callbacks not sent go to the journal. Never throws.
     */
    async onTransition(notice: TransitionNotice): Promise<void> {
      const { after, callbacks } = notice;
      for (const d of callbacks.deliveries) schedule.due(d);
      for (const n of callbacks.notes) {
        try {
          await journalNote(after, n);
        } catch {
          // A note is an explanation, not state: the transition and its deliveries are stored.
        }
      }
    },

    /**
     * Startup. A store of its own: re-arms every open delivery (`delivering` rows count as due).
     * A shared store: starts the sweep, which takes due deliveries as replicas free them.
     * Resolves with how many were re-armed.
     */
    async resume(): Promise<number> {
      if (schedule.stopped) return 0;
      if (shared) {
        armSweep();
        return 0;
      }
      let count = 0;
      for (const d of await store.listOpenDeliveries()) {
        if (schedule.holds(d.id)) continue;
        // Retries, and first attempts a scenario held back, keep their time; the rest are due now.
        if (d.state !== 'delivering' && d.next_attempt_at !== null && d.next_attempt_at > clock.now())
          schedule.arm(d);
        else schedule.enqueue(d.id, 'schedule');
        count++;
      }
      return count;
    },

    /** Runs one attempt now for every open delivery (and waits for those in flight); returns them afterwards. */
    async flush(): Promise<Delivery[]> {
      const ids = (await store.listOpenDeliveries()).map((d) => d.id);
      await Promise.all(ids.map((id) => schedule.runningOf(id) ?? schedule.push(id, 'flush')));
      const after = await Promise.all(ids.map((id) => store.getDelivery(id)));
      return newestFirst(after.filter((d): d is Delivery => d !== undefined));
    },

    /**
     * One more attempt now, whatever the state. On an open delivery it is the next scheduled
     * attempt; on an acknowledged or failed one it is a single extra attempt whose verdict becomes
     * the state. Throws 4040125 for an unknown id.
     */
    async redeliver(id: string): Promise<Delivery> {
      if (!(await store.getDelivery(id)))
        throw new KtpayError(ErrorCode.CALLBACK_NOT_FOUND_4040125, {
          diagnostic: `no callback delivery ${id}`,
        });
      const r = schedule.runningOf(id);
      if (r) await r;
      await schedule.push(id, 'redeliver', true);
      const d = await store.getDelivery(id);
      if (!d)
        throw new KtpayError(ErrorCode.CALLBACK_NOT_FOUND_4040125, {
          diagnostic: `callback delivery ${id} was dropped (reset?)`,
        });
      return d;
    },

    get: (id: string) => store.getDelivery(id),
    list: async (filter: DeliveryFilter = {}) => newestFirst(await store.listDeliveries(filter)),

    /** Notes about callbacks that were not sent (no URL, or dropped by a scenario), from the journal, newest first. */
    async notesFor(hash: string) {
      return (await store.listJournal({ transaction_hash: hash, limit: 1000 }))
        .filter((e) => e.method === CALLBACK_JOURNAL_METHOD)
        .map((e) => ({ at: e.at, note: e.verdict.explanation ?? '' }));
    },

    /**
     * Resolves when nothing is queued or in flight (tests, tooling). Armed retries do not count.
     * It first lets just-enqueued first attempts (queued on a microtask) reach the queue.
     */
    whenIdle: () => schedule.whenIdle(),

    stats: () => schedule.stats(),

    /** This process's lease owner id (written on attempts when replicas share a store). */
    owner,

    /**
     * Graceful shutdown: no new attempts, wait up to `graceMs` (wall clock) for those in flight,
     * cut the rest short and leave them pending for the next start, close connections.
     */
    async stop(opts: { graceMs?: number } = {}): Promise<void> {
      if (schedule.stopped) return;
      if (sweepTimer) clock.clearTimeout(sweepTimer);
      const inFlight = schedule.halt();
      await sweeping;
      const settled = (ms: number) => {
        let handle: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          handle = setTimeout(resolve, ms);
          handle.unref();
        });
        return Promise.race([Promise.allSettled(inFlight).then(() => undefined), timeout]).finally(() =>
          clearTimeout(handle),
        );
      };
      await settled(opts.graceMs ?? SHUTDOWN_GRACE_MS);
      if (schedule.inFlight > 0) {
        dispatcher.abortAll();
        await settled(500);
      }
      schedule.settled();
      await dispatcher.close();
    },
  };
}

export type CallbackOutbox = ReturnType<typeof createCallbackOutbox>;
