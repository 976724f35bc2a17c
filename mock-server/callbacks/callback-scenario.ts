import type { ScenarioEffect } from '../../contracts/types.js';
import type { ScenarioHit } from '../scenarios/scenario-engine.js';
import { delayMsOf } from '../scenarios/route-effects.js';

type CallbackEffect = Extract<ScenarioEffect, { type: 'callback' }>;
export type CallbackAction = CallbackEffect['action'];

/**
 * What a scenario made of one delivery, stored on the row (so a restart keeps it) and shown by the
 * admin API. Only the fields its action needs are present.
 */
export interface DeliveryScenario {
  /** The scenario's name. */
  name: string;
  /** The callback action, when the effect was a `callback` effect. */
  action?: CallbackAction;
  /** One sentence, e.g. "scenario callback-duplicate (transaction) step 1: send the callback twice …". */
  explanation: string;
  /** fail_first: attempts 1…n fail on the sandbox side without sending. */
  fail_first?: number;
  /** slow_cadence: every retry delay is multiplied by this. */
  retry_factor?: number;
  /** out_of_order: the stale earlier status, sent as its own delivery once this one is closed. */
  stale?: { status: string; body: string };
}

/** How a new callback is to be queued; the plain case is `{ drop: false, copies: 1, hold_ms: 0 }`. */
export interface CallbackPlan {
  /** Nothing is queued; the journal says why. */
  drop: boolean;
  /** The exact JSON text to send. */
  body: string;
  /** duplicate: two deliveries with identical bodies. */
  copies: 1 | 2;
  /** The first attempt waits this long (injected clock). */
  hold_ms: number;
  /** What the delivery row records; absent when no scenario applied. */
  scenario?: DeliveryScenario;
  /** Sentence for the delivery note; empty when no scenario applied. */
  note: string;
}

/** The transaction's callback bodies a plan may need: the current one and the one before the transition. */
export interface CallbackBodies {
  current: Record<string, unknown>;
  /**
   * The callback body of the transaction as it was just before this status (for out_of_order).
   * A function, so the plain case never builds a body it does not send.
   */
  previous: () => { status: string; body: Record<string, unknown> };
}

/**
 * Unknown fields added by `extra_fields`, at the top level and inside `status`, after the
 * documented keys. Their names say what they are, so nobody mistakes them for ktpay fields.
 */
export function withExtraFields(body: Record<string, unknown>, scenario: string): Record<string, unknown> {
  const status =
    body.status && typeof body.status === 'object' ? (body.status as Record<string, unknown>) : undefined;
  return {
    ...body,
    ...(status ? { status: { ...status, x_mock_unknown_status_field: 'ignore me' } } : {}),
    x_mock_unknown_field: 'an unknown field: a lenient merchant ignores it',
    x_mock_unknown_object: { scenario, nested: [1, 2, 3] },
  };
}

type ActionPlan = (
  e: CallbackEffect,
  bodies: CallbackBodies,
  hit: ScenarioHit,
) => Partial<CallbackPlan> & {
  extra?: Partial<DeliveryScenario>;
};

/** One implementation per callback action (DESIGN.md house style 6: a lookup table, not a switch in the outbox). */
const ACTIONS: Record<CallbackAction, ActionPlan> = {
  drop: () => ({ drop: true }),
  duplicate: () => ({ copies: 2 }),
  delay: (e) => ({ hold_ms: e.delay_ms ?? 0 }),
  out_of_order: (_e, bodies) => {
    const previous = bodies.previous();
    return { extra: { stale: { status: previous.status, body: JSON.stringify(previous.body) } } };
  },
  extra_fields: (_e, bodies, hit) => ({
    body: JSON.stringify(withExtraFields(bodies.current, hit.scenario)),
  }),
  slow_cadence: (e) => ({ extra: { retry_factor: e.factor ?? 10 } }),
  fail_first: (e) => ({ extra: { fail_first: e.attempts ?? 1 } }),
};

/**
 * Turns the scenario hit for endpoint `callback` (or none) into a queueing plan. A `delay`
 * effect holds the first attempt back like the `delay` action; effect types that only make
 * sense elsewhere (respond_error, http_fault, acquirer/service outcomes) change nothing, and the
 * note says so rather than failing silently.
 *
 * @example
 * planCallback(hit, { current: callbackBodyOf(after), previous: () => ({ status: before.status, body: callbackBodyOf(before) }) })
 * // { drop: false, copies: 2, hold_ms: 0, body: '{"merchant_id":1,…}', scenario: { name: 'callback-duplicate', … }, note: '…' }
 */
export function planCallback(hit: ScenarioHit | undefined, bodies: CallbackBodies): CallbackPlan {
  const plain: CallbackPlan = {
    drop: false,
    body: JSON.stringify(bodies.current),
    copies: 1,
    hold_ms: 0,
    note: '',
  };
  if (!hit) return plain;
  const e = hit.effect;
  const base: DeliveryScenario = { name: hit.scenario, explanation: hit.explanation };
  if (e.type === 'callback') {
    const { extra, ...plan } = ACTIONS[e.action](e, bodies, hit);
    return { ...plain, ...plan, scenario: { ...base, action: e.action, ...extra }, note: hit.explanation };
  }
  if (e.type === 'delay') {
    const ms = delayMsOf(e);
    return {
      ...plain,
      hold_ms: ms,
      scenario: base,
      note: `${hit.explanation} (first attempt held back ${ms} ms)`,
    };
  }
  return {
    ...plain,
    scenario: base,
    note: `${hit.explanation}, which has no meaning for a callback; the callback is sent as usual`,
  };
}
