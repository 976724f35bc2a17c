import { randomFillSync } from 'node:crypto';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { SandboxConfig } from '../config/load-config.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { Merchant } from '../merchants/merchant.js';
import type { CallbackNote, PlannedCallbacks, TransitionNotice } from '../payments/payment-events.js';
import { NO_CALLBACKS } from '../payments/payment-events.js';
import { callbackBodyOf } from '../payments/status-object.js';
import type { PaymentStatus, Transaction } from '../payments/transaction.js';
import type { ScenarioEngine } from '../scenarios/scenario-engine.js';
import type { Clock, ClockTimer } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import { createCallbackDispatcher, type SendOutcome } from './callback-dispatcher.js';
import { planCallback, type DeliveryScenario } from './callback-scenario.js';
import {
  isOpen,
  type AttemptTrigger,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryFilter,
} from './delivery.js';
import type { Resolver } from './destination-guard.js';
import { createRetrySchedule } from './retry-schedule.js';

/** Statuses that always produce a callback [doc]; `cancelled`/`refunded` need the merchant's notify_on [mock]. */
const ALWAYS_NOTIFIED: ReadonlySet<PaymentStatus> = new Set(['completed', 'error', 'denied']);

/** The journal's method for sandbox-side callback notes (nothing was received over HTTP). */
export const CALLBACK_JOURNAL_METHOD = 'CALLBACK';

/** How long `stop()` waits for attempts in flight by default (issue 4: "briefly", ≤ ~1 s). */
export const SHUTDOWN_GRACE_MS = 1_000;

export function isNotified(status: PaymentStatus, merchant: Pick<Merchant, 'notify_on'>): boolean {
  if (ALWAYS_NOTIFIED.has(status)) return true;
  return (status === 'cancelled' || status === 'refunded') && merchant.notify_on.includes(status);
}

interface Job {
  id: string;
  trigger: AttemptTrigger;
  done: Array<() => void>;
  prev: Job | undefined;
  next: Job | undefined;
}

/**
 * The waiting attempts, in order: a doubly linked list, so taking the head, putting a redelivery
 * in front and skipping a delivery whose attempt is still running are all O(1). (An array with
 * splice/unshift was O(n) per attempt; the stream bench builds a backlog of thousands.)
 */
function createJobQueue() {
  let head: Job | undefined;
  let tail: Job | undefined;
  let size = 0;
  return {
    get length() {
      return size;
    },
    get first() {
      return head;
    },
    push(job: Job) {
      job.prev = tail;
      job.next = undefined;
      if (tail) tail.next = job;
      else head = job;
      tail = job;
      size++;
    },
    unshift(job: Job) {
      job.next = head;
      job.prev = undefined;
      if (head) head.prev = job;
      else tail = job;
      head = job;
      size++;
    },
    remove(job: Job) {
      if (job.prev) job.prev.next = job.next;
      else head = job.next;
      if (job.next) job.next.prev = job.prev;
      else tail = job.prev;
      job.prev = job.next = undefined;
      size--;
    },
    /** Empties the queue and returns what it held, in order. */
    drain(): Job[] {
      const all: Job[] = [];
      for (let j = head; j; j = j.next) all.push(j);
      head = tail = undefined;
      size = 0;
      return all;
    },
  };
}

/** Delivery ids (`dlv_` + 24 hex digits) cut from a pooled random buffer: one randomFillSync per 256 ids. */
function createIdSource() {
  const ID_BYTES = 12;
  const pool = Buffer.allocUnsafe(ID_BYTES * 256);
  let offset = pool.length;
  return () => {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const id = `dlv_${pool.toString('hex', offset, offset + ID_BYTES)}`;
    offset += ID_BYTES;
    return id;
  };
}

const TRIGGER_RANK: Record<AttemptTrigger, number> = { schedule: 0, flush: 1, redeliver: 2 };

/**
 * The callback outbox and its scheduler (spec §10, issue 4). Reaching a notified final status
 * stores a delivery (the body serialised once); attempts run through the dispatcher with a
 * concurrency limit; failures are retried on the configured schedule × time scale through the
 * injected clock; every state change is written to the store, so a persistent store resumes
 * open deliveries after a restart.
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
  const retries = createRetrySchedule(settings.schedule_ms, settings.time_scale);
  const dispatcher = createCallbackDispatcher({
    timeoutMs: settings.timeout_ms,
    allowHosts: settings.allow_hosts,
    ...(deps.resolve ? { resolve: deps.resolve } : {}),
  });

  const timers = new Map<string, ClockTimer>();
  const queue = createJobQueue();
  const newId = createIdSource();
  const queued = new Map<string, Job>();
  const running = new Map<string, Promise<void>>();
  let idleWaiters: Array<() => void> = [];
  let stopped = false;

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

  function clearTimer(id: string) {
    const t = timers.get(id);
    if (t) clock.clearTimeout(t);
    timers.delete(id);
  }

  function arm(d: Delivery) {
    clearTimer(d.id);
    if (stopped) return;
    const due = d.next_attempt_at ?? clock.now();
    const timer = clock.setTimeout(() => {
      timers.delete(d.id);
      enqueueJob(d.id, 'schedule', false);
    }, due - clock.now());
    timers.set(d.id, timer);
  }

  function settleIdle() {
    if (running.size === 0 && queue.length === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Queues an attempt (or joins the one already queued); `done` runs once it has finished. */
  function enqueueJob(id: string, trigger: AttemptTrigger, front: boolean, done?: () => void): void {
    if (stopped) {
      done?.();
      return;
    }
    const existing = queued.get(id);
    if (existing) {
      if (TRIGGER_RANK[trigger] > TRIGGER_RANK[existing.trigger]) existing.trigger = trigger;
      if (done) existing.done.push(done);
      return;
    }
    const job: Job = { id, trigger, done: done ? [done] : [], prev: undefined, next: undefined };
    queued.set(id, job);
    if (front) queue.unshift(job);
    else queue.push(job);
    pump();
  }

  /** Queues an attempt and resolves once it has finished (flush, redeliver). */
  function push(id: string, trigger: AttemptTrigger, front = false): Promise<void> {
    return new Promise((resolve) => enqueueJob(id, trigger, front, resolve));
  }

  function pump() {
    for (let job = queue.first; job && running.size < settings.concurrency && !stopped;) {
      const next = job.next;
      // One attempt per delivery at a time: a job whose delivery is running waits its turn.
      if (!running.has(job.id)) start(job);
      job = next;
    }
  }

  function start(job: Job) {
    queue.remove(job);
    queued.delete(job.id);
    const finished = () => {
      running.delete(job.id);
      for (const done of job.done) done();
      pump();
      settleIdle();
    };
    const run = runAttempt(job.id, job.trigger).then(finished, (err: unknown) =>
      recordCrash(job.id, err).then(finished, finished),
    );
    running.set(job.id, run);
  }

  /** A bug must not lose a delivery silently: say so on the row and stop retrying it. */
  async function recordCrash(id: string, err: unknown): Promise<void> {
    await store.updateDelivery(id, (d) => ({
      ...d,
      state: 'failed',
      next_attempt_at: null,
      note: `the sandbox failed while delivering: ${err instanceof Error ? err.message : String(err)}`,
    }));
  }

  async function runAttempt(id: string, trigger: AttemptTrigger): Promise<void> {
    clearTimer(id);
    // Marked `delivering` in one atomic step on the row as it is now; a delivery closed meanwhile
    // (or dropped by a reset) is left alone.
    const marked = await store.updateDelivery(id, (d) =>
      isOpen(d) || trigger === 'redeliver' ? { ...d, state: 'delivering' } : undefined,
    );
    if (!marked || marked.after === marked.before) return;
    const d = marked.before;
    const wasOpen = isOpen(d);
    const n = d.attempts.length + 1;
    const dueAt = trigger === 'redeliver' ? null : (d.next_attempt_at ?? d.created_at);
    const startedAt = clock.now();
    const failFirst = d.scenario?.fail_first ?? 0;
    const outcome =
      n <= failFirst
        ? sabotaged(d.scenario!, n, failFirst)
        : await dispatcher.send(d, await store.getMerchant(d.app_id), n);
    if (outcome.aborted) {
      // Shutdown: not a verdict. Leave it as it was, due now, for the next start.
      await store.updateDelivery(id, (cur) => ({
        ...cur,
        state: wasOpen ? (cur.attempts.length > 0 ? 'retrying' : 'pending') : d.state,
        next_attempt_at: wasOpen ? (d.next_attempt_at ?? clock.now()) : d.next_attempt_at,
      }));
      return;
    }
    const attempt: DeliveryAttempt = {
      attempt: n,
      trigger,
      due_at: dueAt,
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
    };
    const recorded = await store.updateDelivery(id, (cur): Delivery => {
      const attempts = [...cur.attempts, attempt];
      if (outcome.acknowledged) return { ...cur, attempts, state: 'acknowledged', next_attempt_at: null };
      if (outcome.blocked || !wasOpen) return { ...cur, attempts, state: 'failed', next_attempt_at: null };
      const base = retries.delayAfter(n);
      const delay = base === undefined ? undefined : base * (d.scenario?.retry_factor ?? 1);
      return delay === undefined
        ? { ...cur, attempts, state: 'failed', next_attempt_at: null }
        : { ...cur, attempts, state: 'retrying', next_attempt_at: clock.now() + delay };
    });
    if (!recorded) return; // dropped by a reset while in flight
    const next = recorded.after;
    if (next.state === 'retrying') arm(next);
    if (!isOpen(next) && next.scenario?.stale) await sendStale(next, next.scenario);
  }

  /** fail_first: the sandbox fails this attempt itself; nothing leaves it, and the schedule goes on. */
  function sabotaged(scenario: DeliveryScenario, n: number, of: number): SendOutcome {
    return {
      sent: false,
      blocked: false,
      aborted: false,
      request_headers: {},
      response_status: null,
      response_headers: null,
      response_body: null,
      latency_ms: 0,
      acknowledged: false,
      reason: `sabotaged by scenario ${scenario.name}: attempt ${n} of the first ${of} fails on the sandbox side on purpose; nothing was sent`,
    };
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
    const follow = newDelivery(
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
    schedule(follow);
  }

  /** First attempts handed to a microtask but not yet queued (a burst of transitions in one tick). */
  let scheduling = 0;

  function held(): number {
    return timers.size + queue.length + running.size + scheduling;
  }

  /** A new delivery row; `failed` with a note instead when the outbox is full (callbacks.max_pending). */
  function newDelivery(
    what: Pick<Delivery, 'transaction_hash' | 'app_id' | 'url' | 'body' | 'status'>,
    note: string,
    scenario: DeliveryScenario | undefined,
    holdMs: number,
    alsoQueued = 0,
  ): Delivery {
    const now = clock.now();
    const full = held() + alsoQueued >= settings.max_pending;
    return {
      id: newId(),
      ...what,
      state: full ? 'failed' : 'pending',
      created_at: now,
      next_attempt_at: full ? null : now + holdMs,
      attempts: [],
      note: full
        ? `not sent: the outbox already holds ${settings.max_pending} open deliveries (callbacks.max_pending)${scenario ? `; ${scenario.explanation}` : ''}`
        : note,
      ...(scenario ? { scenario } : {}),
    };
  }

  /** First attempt: at once (on a microtask, so the transition finishes first), or armed for a held-back one. */
  function schedule(d: Delivery) {
    if (d.state !== 'pending' || stopped) return;
    if (d.next_attempt_at !== null && d.next_attempt_at > clock.now()) arm(d);
    else {
      scheduling++;
      queueMicrotask(() => {
        scheduling--;
        enqueueJob(d.id, 'schedule', false);
      });
    }
  }

  /**
   * The callbacks a transition causes, for the payment service to store with it: the delivery
   * rows (none, one, or two for a duplicating scenario), or a note saying why none is sent.
   */
  async function plan(before: Transaction, tx: Transaction, merchant: Merchant): Promise<PlannedCallbacks> {
    if (before.status === tx.status || !isNotified(tx.status, merchant)) return NO_CALLBACKS;
    const fromTx = tx.urls.callback_post_url;
    const url = fromTx ?? merchant.callback_post_url;
    if (!url) {
      return {
        deliveries: [],
        notes: [
          {
            path: '(no callback_post_url)',
            text: `no callback_post_url: transaction ${tx.hash} reached ${tx.status}, but neither the transaction nor merchant ${merchant.app_id} has a callback_post_url, so no callback was sent`,
            scenario: null,
          },
        ],
      };
    }
    const hit = await deps.scenarios?.resolve({
      endpoint: 'callback',
      app_id: tx.app_id,
      order_id: tx.order_id,
      amount: tx.amount,
      card: tx.card?.masked,
      transaction: { hash: tx.hash, scenario: tx.scenario },
      merchant_scenario: merchant.scenario,
    });
    const shaped = planCallback(hit, {
      current: callbackBodyOf(tx),
      previous: () => ({ status: before.status, body: callbackBodyOf(before) }),
    });
    if (shaped.drop) {
      return {
        deliveries: [],
        notes: [
          {
            path: '(dropped by scenario)',
            text: `${shaped.note}: transaction ${tx.hash} reached ${tx.status}, and the callback to ${url} was deliberately not sent`,
            scenario: shaped.note,
          },
        ],
      };
    }
    const origin = `status ${tx.status}; URL from the ${fromTx ? "transaction's" : "merchant's"} callback_post_url`;
    const what = { transaction_hash: tx.hash, app_id: tx.app_id, url, body: shaped.body, status: tx.status };
    const note = shaped.note ? `${origin}; ${shaped.note}` : origin;
    const first = newDelivery(what, note, shaped.scenario, shaped.hold_ms);
    const created = [first];
    if (shaped.copies === 2) {
      const copy = newDelivery(
        what,
        `${note} — copy 2 of 2, the identical body of ${first.id}`,
        shaped.scenario,
        shaped.hold_ms,
        1,
      );
      first.note = `${note} — copy 1 of 2; ${copy.id} sends the identical body`;
      created.push(copy);
    }
    return { deliveries: created, notes: [] };
  }

  function newestFirst(list: Delivery[]): Delivery[] {
    return [...list].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1));
  }

  return {
    /** Plans the callbacks of a transition (see {@link plan}); the payment service stores them with it. */
    plan,

    /**
     * The hub listener, after a transition was committed with its deliveries: their first attempts
     * are queued, and notes about callbacks not sent go to the journal. Never throws.
     */
    async onTransition(notice: TransitionNotice): Promise<void> {
      const { after, callbacks } = notice;
      for (const d of callbacks.deliveries) schedule(d);
      for (const n of callbacks.notes) {
        try {
          await journalNote(after, n);
        } catch {
          // A note is an explanation, not state: the transition and its deliveries are stored.
        }
      }
    },

    /** Re-arms every open delivery in the store (startup). `delivering` rows count as due. Resolves with how many. */
    async resume(): Promise<number> {
      if (stopped) return 0;
      let count = 0;
      for (const d of await store.listOpenDeliveries()) {
        if (running.has(d.id) || queued.has(d.id) || timers.has(d.id)) continue;
        // Retries, and first attempts a scenario held back, keep their time; the rest are due now.
        if (d.state !== 'delivering' && d.next_attempt_at !== null && d.next_attempt_at > clock.now()) arm(d);
        else enqueueJob(d.id, 'schedule', false);
        count++;
      }
      return count;
    },

    /** Runs one attempt now for every open delivery (and waits for those in flight); returns them afterwards. */
    async flush(): Promise<Delivery[]> {
      const ids = (await store.listOpenDeliveries()).map((d) => d.id);
      await Promise.all(
        ids.map((id) => {
          const r = running.get(id);
          if (r) return r;
          clearTimer(id);
          return push(id, 'flush');
        }),
      );
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
      const r = running.get(id);
      if (r) await r;
      clearTimer(id);
      await push(id, 'redeliver', true);
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
    async whenIdle(): Promise<void> {
      await new Promise((resolve) => setImmediate(resolve));
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },

    stats: () => ({ armed: timers.size, queued: queue.length, in_flight: running.size }),

    /**
     * Graceful shutdown: no new attempts, wait up to `graceMs` (wall clock) for those in flight,
     * cut the rest short and leave them pending for the next start, close connections.
     */
    async stop(opts: { graceMs?: number } = {}): Promise<void> {
      if (stopped) return;
      stopped = true;
      for (const t of timers.values()) clock.clearTimeout(t);
      timers.clear();
      for (const job of queue.drain()) for (const done of job.done) done();
      queued.clear();
      const settled = (ms: number) => {
        let handle: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          handle = setTimeout(resolve, ms);
          handle.unref();
        });
        return Promise.race([
          Promise.allSettled([...running.values()]).then(() => undefined),
          timeout,
        ]).finally(() => clearTimeout(handle));
      };
      await settled(opts.graceMs ?? SHUTDOWN_GRACE_MS);
      if (running.size > 0) {
        dispatcher.abortAll();
        await settled(500);
      }
      settleIdle();
      await dispatcher.close();
    },
  };
}

export type CallbackOutbox = ReturnType<typeof createCallbackOutbox>;
