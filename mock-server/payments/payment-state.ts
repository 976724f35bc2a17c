import { ErrorCode } from '../../contracts/error-catalog.js';
import {
  FINAL_STATUSES,
  refundedTotal,
  type CardInfo,
  type PaymentStatus,
  type StatusError,
  type Transaction,
} from './transaction.js';

/** What can happen to a payment (spec §9). Pure data: no I/O, no clock reads. */
export type PaymentEvent =
  | { type: 'authorize'; at: number; card: CardInfo | null }
  | { type: 'confirm'; at: number; detail?: string }
  | { type: 'fail'; at: number; status: 'error' | 'denied'; error: StatusError; card?: CardInfo | null }
  | { type: 'clear'; at: number }
  | { type: 'cancel'; at: number; reason: string | null }
  | { type: 'refund'; at: number; amount: number; reason: string | null };

export type PaymentEventType = PaymentEvent['type'];
export const EVENT_TYPES: readonly PaymentEventType[] = [
  'authorize',
  'confirm',
  'fail',
  'clear',
  'cancel',
  'refund',
];

export type RejectionReason =
  | 'not_allowed'
  | 'cancel_after_clearing'
  | 'refund_before_clearing'
  | 'refund_exceeds_remainder'
  | 'invalid_amount';

/** A transition that cannot happen. The transaction is unchanged; `code` is the catalog code. */
export interface Rejection {
  rejected: true;
  reason: RejectionReason;
  code: number;
  from: PaymentStatus;
  event: PaymentEventType;
  message: string;
}

const CLEARED: ReadonlySet<PaymentStatus> = new Set(['completed', 'partially_refunded']);
const BEFORE_CLEARING: ReadonlySet<PaymentStatus> = new Set(['pending', 'authorized', 'success']);

function reject(tx: Transaction, event: PaymentEvent, reason: RejectionReason): Rejection {
  const code = {
    not_allowed: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    cancel_after_clearing: ErrorCode.CANCEL_AFTER_CLEARING_4090115,
    refund_before_clearing: ErrorCode.REFUND_BEFORE_CLEARING_4090116,
    refund_exceeds_remainder: ErrorCode.REFUND_EXCEEDS_REMAINDER_4220112,
    invalid_amount: ErrorCode.INVALID_REFUND_AMOUNT_4220114,
  }[reason];
  return {
    rejected: true,
    reason,
    code,
    from: tx.status,
    event: event.type,
    message: `${event.type} is not allowed in status ${tx.status} (${reason})`,
  };
}

function moveTo(
  tx: Transaction,
  status: PaymentStatus,
  event: PaymentEvent,
  patch: Partial<Transaction> = {},
  detail?: string,
): Transaction {
  return {
    ...tx,
    ...patch,
    status,
    status_created_at: event.at,
    status_updated_at: null,
    updated_at: event.at,
    history: [...tx.history, { status, at: event.at, event: event.type, ...(detail ? { detail } : {}) }],
  };
}

/** Amount of at least one tiyn (0.01) with at most two decimals. */
export function isValidAmount(amount: number): boolean {
  // `>= 1` cent, not `> 0`: a tiny positive amount such as 4e-9 is within the rounding tolerance
  // of 0 cents and would otherwise pass as a refund of nothing.
  return (
    Number.isFinite(amount) &&
    Math.round(amount * 100) >= 1 &&
    Math.abs(Math.round(amount * 100) - amount * 100) < 1e-6
  );
}

/**
 * The payment lifecycle as a pure function: a new transaction, or a typed rejection that leaves
 * the old one untouched.
 *
 * @example
 * const next = transition(tx, { type: 'authorize', at: clock.now(), card });
 * if ('rejected' in next) throw new KtpayError(next.code);
 */
export function transition(tx: Transaction, event: PaymentEvent): Transaction | Rejection {
  const s = tx.status;
  switch (event.type) {
    case 'authorize':
      if (s !== 'pending') return reject(tx, event, 'not_allowed');
      return moveTo(tx, 'authorized', event, { card: event.card ?? tx.card });
    case 'confirm':
      if (s !== 'authorized') return reject(tx, event, 'not_allowed');
      return moveTo(tx, 'success', event, {}, event.detail);
    case 'fail':
      if (s !== 'pending' && s !== 'authorized') return reject(tx, event, 'not_allowed');
      return moveTo(
        tx,
        event.status,
        event,
        { error: event.error, card: event.card ?? tx.card },
        event.error.code ? `acquirer code ${event.error.code}` : event.error.error_type,
      );
    case 'clear':
      if (s !== 'success') return reject(tx, event, 'not_allowed');
      return moveTo(tx, 'completed', event);
    case 'cancel':
      if (BEFORE_CLEARING.has(s)) return moveTo(tx, 'cancelled', event, {}, event.reason ?? undefined);
      if (CLEARED.has(s)) return reject(tx, event, 'cancel_after_clearing');
      return reject(tx, event, 'not_allowed');
    case 'refund': {
      if (BEFORE_CLEARING.has(s)) return reject(tx, event, 'refund_before_clearing');
      if (!CLEARED.has(s)) return reject(tx, event, 'not_allowed');
      if (!isValidAmount(event.amount)) return reject(tx, event, 'invalid_amount');
      const remaining = Math.round((tx.amount - refundedTotal(tx)) * 100);
      const cents = Math.round(event.amount * 100);
      if (cents > remaining) return reject(tx, event, 'refund_exceeds_remainder');
      const refunds = [...tx.refunds, { amount: event.amount, at: event.at, reason: event.reason }];
      return moveTo(
        tx,
        cents === remaining ? 'refunded' : 'partially_refunded',
        event,
        { refunds },
        `refund ${event.amount}`,
      );
    }
  }
}

export function isRejection(x: Transaction | Rejection): x is Rejection {
  return (x as Rejection).rejected === true;
}

export function isFinal(status: PaymentStatus): boolean {
  return FINAL_STATUSES.has(status);
}
