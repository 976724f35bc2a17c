import type { FastifyInstance } from 'fastify';
import {
  isRejection,
  isValidAmount,
  transition,
  type PaymentEvent,
} from '../../mock-server/payments/payment-state.js';
import {
  refundedTotal,
  STATUSES,
  type PaymentStatus,
  type Transaction,
} from '../../mock-server/payments/transaction.js';
import type { Store } from '../../mock-server/store/store.js';

/**
 * The store invariants the fuzz suite checks after every run (issue 11 §1): each transaction's
 * history is a path through the state machine of mock-server/payments/payment-state.ts, refunds
 * never exceed the amount, the status is the last history entry's, and order_id is unique per
 * merchant.
 */

const ERROR = { error_type: 'ERROR_PAYMENT', error_message: 'x' } as const;

/**
 * Every (from, event, to) the state machine allows, found by asking `transition` itself with each
 * event in each status (refunds both partial and of the whole remainder).
 */
function allowedSteps(): Set<string> {
  const steps = new Set<string>();
  for (const from of STATUSES) {
    const refunds = from === 'partially_refunded' ? [{ amount: 10, at: 0, reason: null }] : [];
    const tx = {
      status: from,
      amount: 100,
      refunds,
      history: [],
      card: null,
      error: null,
    } as unknown as Transaction;
    const remaining = 100 - refunds.reduce((s, r) => s + r.amount, 0);
    const events: PaymentEvent[] = [
      { type: 'authorize', at: 1, card: null },
      { type: 'confirm', at: 1 },
      { type: 'fail', at: 1, status: 'error', error: ERROR },
      { type: 'fail', at: 1, status: 'denied', error: ERROR },
      { type: 'clear', at: 1 },
      { type: 'cancel', at: 1, reason: null },
      { type: 'refund', at: 1, amount: 1, reason: null },
      { type: 'refund', at: 1, amount: remaining, reason: null },
    ];
    for (const e of events) {
      const next = transition(tx, e);
      if (!isRejection(next)) steps.add(`${from} -${e.type}-> ${next.status}`);
    }
  }
  return steps;
}

export const ALLOWED_STEPS = allowedSteps();

const cents = (n: number) => Math.round(n * 100);

/** Problems with one transaction, in words; empty when it is sound. */
export function transactionProblems(tx: Transaction): string[] {
  const p: string[] = [];
  const h = tx.history;
  if (!/^[0-9a-f]{40}$/.test(tx.hash)) p.push(`hash ${tx.hash} is not 40 hex`);
  if (typeof tx.order_id !== 'string' || tx.order_id.length === 0 || tx.order_id.length > 255)
    p.push('order_id out of contract');
  if (!isValidAmount(tx.amount) || tx.amount > 1e12) p.push(`amount ${tx.amount} out of contract`);
  if (h.length === 0) return [...p, 'empty history'];
  if (h[0]!.status !== 'pending' || h[0]!.event !== 'create')
    p.push(`history starts with ${h[0]!.status}/${h[0]!.event}`);
  for (let i = 1; i < h.length; i++) {
    const step = `${h[i - 1]!.status} -${h[i]!.event}-> ${h[i]!.status}`;
    if (!ALLOWED_STEPS.has(step))
      p.push(`history step ${i} "${step}" is not a transition of the state machine`);
  }
  if (h.at(-1)!.status !== tx.status)
    p.push(`status ${tx.status} but the last history entry is ${h.at(-1)!.status}`);
  const refunded = cents(refundedTotal(tx));
  if (refunded > cents(tx.amount)) p.push(`refunds ${refunded / 100} exceed the amount ${tx.amount}`);
  for (const r of tx.refunds)
    if (!isValidAmount(r.amount)) p.push(`refund of ${r.amount} is not a valid amount`);
  const refundSteps = h.filter((e) => e.event === 'refund').length;
  if (refundSteps !== tx.refunds.length)
    p.push(`${tx.refunds.length} refunds but ${refundSteps} refund steps in the history`);
  const expectStatus: Partial<Record<PaymentStatus, boolean>> = {
    refunded: refunded === cents(tx.amount),
    partially_refunded: refunded > 0 && refunded < cents(tx.amount),
  };
  if (tx.status in expectStatus && !expectStatus[tx.status])
    p.push(`status ${tx.status} with ${refunded / 100} of ${tx.amount} refunded`);
  if (!(tx.status in expectStatus) && tx.refunds.length > 0)
    p.push(`status ${tx.status} with refunds recorded`);
  const failed = tx.status === 'error' || tx.status === 'denied';
  if (failed !== (tx.error !== null)) p.push(`status ${tx.status} with error ${JSON.stringify(tx.error)}`);
  return p;
}

/** Checks every transaction in the store, plus (app_id, order_id) uniqueness. Throws on the first problem. */
export async function checkStore(store: Store): Promise<{ transactions: number }> {
  const all = await store.listTransactions({ limit: Number.MAX_SAFE_INTEGER });
  const orders = new Map<string, string>();
  for (const tx of all) {
    const problems = transactionProblems(tx);
    if (problems.length > 0) throw new Error(`transaction ${tx.hash} (${tx.status}): ${problems.join('; ')}`);
    const key = `${tx.app_id}\u0000${tx.order_id}`;
    const other = orders.get(key);
    if (other)
      throw new Error(
        `order_id ${JSON.stringify(tx.order_id)} of ${tx.app_id} is held by ${other} and ${tx.hash}`,
      );
    orders.set(key, tx.hash);
    if ((await store.findTransactionByOrder(tx.app_id, tx.order_id))?.hash !== tx.hash) {
      throw new Error(`order_id ${JSON.stringify(tx.order_id)} of ${tx.app_id} does not find ${tx.hash}`);
    }
  }
  const count = await store.countTransactions();
  if (all.length !== count) throw new Error(`countTransactions ${count} but ${all.length} listed`);
  return { transactions: all.length };
}

export interface InvariantChecker {
  /** After each run: the transactions it created or moved; every `sweepEvery` runs, the whole store. */
  afterRun(): Promise<void>;
}

/**
 * Watches one app: its transition hub names the transactions a run moved, the transaction count
 * names the ones it created. Cheap per run; a full sweep (uniqueness included) every `sweepEvery` runs.
 */
export async function watchInvariants(app: FastifyInstance, sweepEvery = 250): Promise<InvariantChecker> {
  const { store, hub } = app.sandbox;
  const touched = new Set<string>();
  hub.on(({ after }) => void touched.add(after.hash));
  let known = await store.countTransactions();
  let runs = 0;
  return {
    async afterRun() {
      runs++;
      const now = await store.countTransactions();
      if (now > known)
        for (const tx of await store.listTransactions({ limit: now - known })) touched.add(tx.hash);
      known = now;
      for (const hash of touched) {
        const tx = await store.getTransaction(hash);
        if (!tx) throw new Error(`transaction ${hash} vanished`);
        const problems = transactionProblems(tx);
        if (problems.length > 0)
          throw new Error(`transaction ${hash} (${tx.status}): ${problems.join('; ')}`);
      }
      touched.clear();
      if (runs % sweepEvery === 0) await checkStore(store);
    },
  };
}
