import type { Merchant } from '../merchants/merchant.js';
import type { Transaction } from './transaction.js';

/** Emitted after a transition has been stored. Listeners (clearing, callbacks) must not throw. */
export interface TransitionNotice {
  before: Transaction;
  after: Transaction;
  merchant: Merchant;
}

export type TransitionListener = (notice: TransitionNotice) => void;

/** A tiny synchronous fan-out, one per app. */
export function createTransitionHub() {
  const listeners: TransitionListener[] = [];
  return {
    on(listener: TransitionListener) {
      listeners.push(listener);
    },
    emit(notice: TransitionNotice) {
      for (const l of listeners) l(notice);
    },
  };
}

export type TransitionHub = ReturnType<typeof createTransitionHub>;
