import type { Delivery } from '../callbacks/delivery.js';
import type { Merchant } from '../merchants/merchant.js';
import type { Transaction } from './transaction.js';

/** A sandbox-side note about a callback that was not queued (no URL, dropped by a scenario). */
export interface CallbackNote {
  path: string;
  text: string;
  scenario: string | null;
}

/** The callbacks one transition causes: rows committed with the transition, and notes for the journal. */
export interface PlannedCallbacks {
  deliveries: readonly Delivery[];
  notes: readonly CallbackNote[];
}

export const NO_CALLBACKS: PlannedCallbacks = Object.freeze({ deliveries: [], notes: [] });

/**
 * Emitted after a transition has been committed, together with the callback deliveries it caused
 * (already stored with it). Listeners (clearing, the callback outbox) must not throw.
 */
export interface TransitionNotice {
  before: Transaction;
  after: Transaction;
  merchant: Merchant;
  callbacks: PlannedCallbacks;
}

export type TransitionListener = (notice: TransitionNotice) => void | Promise<void>;

/**
 * A tiny fan-out, one per app. `emit` runs the listeners in order and resolves once each has
 * finished, so what they write (journal notes, first attempts queued) is done before the request
 * that caused the transition is answered.
 */
export function createTransitionHub() {
  const listeners: TransitionListener[] = [];
  return {
    on(listener: TransitionListener) {
      listeners.push(listener);
    },
    async emit(notice: TransitionNotice): Promise<void> {
      for (const l of listeners) await l(notice);
    },
  };
}

export type TransitionHub = ReturnType<typeof createTransitionHub>;
