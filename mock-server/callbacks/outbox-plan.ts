import { randomFillSync } from 'node:crypto';
import type { SandboxConfig } from '../config/load-config.js';
import type { Merchant } from '../merchants/merchant.js';
import { NO_CALLBACKS, type PlannedCallbacks } from '../payments/payment-events.js';
import { callbackBodyOf } from '../payments/status-object.js';
import type { PaymentStatus, Transaction } from '../payments/transaction.js';
import type { ScenarioEngine } from '../scenarios/scenario-engine.js';
import type { Clock } from '../shared/clock.js';
import { planCallback, type DeliveryScenario } from './callback-scenario.js';
import type { Delivery } from './delivery.js';

/** Statuses that always produce a callback [doc]; `cancelled`/`refunded` need the merchant's notify_on [mock]. */
const ALWAYS_NOTIFIED: ReadonlySet<PaymentStatus> = new Set(['completed', 'error', 'denied']);

export function isNotified(status: PaymentStatus, merchant: Pick<Merchant, 'notify_on'>): boolean {
  if (ALWAYS_NOTIFIED.has(status)) return true;
  return (status === 'cancelled' || status === 'refunded') && merchant.notify_on.includes(status);
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

/**
 * What a transition's callbacks are to be (spec §10, issue 4): the delivery rows the payment
 * service stores with the transition, or a note saying why none is sent. A scenario (issue 6) may
 * drop, duplicate, hold back or reshape them.
 *
 * @example
 * const planner = createCallbackPlanner({ clock, settings: config.callbacks, held: () => 0 });
 * const { deliveries, notes } = await planner.plan(before, after, merchant);
 */
export function createCallbackPlanner(deps: {
  clock: Clock;
  settings: SandboxConfig['callbacks'];
  /** Attempts this process already holds (callbacks.max_pending counts them). */
  held: () => number;
  scenarios?: Pick<ScenarioEngine, 'resolve'> | undefined;
}) {
  const { clock, settings } = deps;
  const newId = createIdSource();

  /** A new delivery row; `failed` with a note instead when the outbox is full (callbacks.max_pending). */
  function newDelivery(
    what: Pick<Delivery, 'transaction_hash' | 'app_id' | 'url' | 'body' | 'status'>,
    note: string,
    scenario: DeliveryScenario | undefined,
    holdMs: number,
    alsoQueued = 0,
  ): Delivery {
    const now = clock.now();
    const full = deps.held() + alsoQueued >= settings.max_pending;
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

  return { plan, newDelivery };
}

export type CallbackPlanner = ReturnType<typeof createCallbackPlanner>;
