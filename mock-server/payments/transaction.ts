import { PAYMENT_STATUSES } from '../../contracts/schemas/common.js';

/** Payment statuses: spec §9, from the contracts. */
export const STATUSES = PAYMENT_STATUSES;
export type PaymentStatus = (typeof STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<PaymentStatus> = new Set([
  'completed',
  'error',
  'denied',
  'cancelled',
  'refunded',
]);

export type ErrorType = 'ERROR_PAYMENT' | 'ERROR_INPUT' | 'ERROR_SYSTEM';

export interface StatusError {
  error_type: ErrorType;
  error_message: string;
  /** The acquirer code behind it, when a bank answered (not on the wire in the callback body). */
  code?: string;
}

export interface HistoryEntry {
  status: PaymentStatus;
  /** Epoch ms; rendered as `+06:00` ISO on the wire. */
  at: number;
  event: string;
  detail?: string;
}

export interface Refund {
  amount: number;
  at: number;
  reason: string | null;
}

export interface CardInfo {
  masked: string;
  brand: string;
  cardholder: string;
  exp_month: string;
  exp_year: string;
}

/**
 * Where a payment stands at the emulated bank [mock]: how the shopper reached it, where to send
 * them afterwards, and a 3-D Secure challenge in progress. Plain JSON, stored with the transaction.
 */
export interface AcquirerSession {
  /** v2: the `payment_page` flow; v1: the legacy form POSTed to `action`. */
  mode: 'v1' | 'v2';
  /** Where the bank sends the shopper once there is a result (ktpay's back-link unless a v1 app changed BackLink). */
  back_link: string;
  /** v1 only: the PostLink the form carried (it must equal the original). */
  post_link?: string;
  /** The e-mail typed on the card page or sent in the v1 form. */
  email?: string;
  /** Set when the shopper came through the widget page `/payment-card`. */
  widget?: { close_button: boolean };
  /** The card page ran inside an iframe with JavaScript: results are posted to the parent. */
  framed: boolean;
  /** Card submissions so far (inline input errors included). */
  attempts: number;
  /** A 3-D Secure challenge waiting for its OTP: the acquirer code it ends in when passed. */
  challenge?: { code: string; card: CardInfo; started_at: number };
  /** The bank's last signed result notice (what it POSTs to post-link), for the admin view. */
  notice?: string;
}

export interface OrderService {
  service_id: string | number;
  contract_value: string;
}

export interface TransactionUrls {
  callback_post_url?: string;
  callback_back_url?: string;
  callback_success_url?: string;
  callback_failed_url?: string;
  callback_force_back_url?: string;
  callback_force_success_url?: string;
  callback_force_failed_url?: string;
}

/** The order's URL fields a transaction keeps (spec §4), in the order they are copied. */
export const TRANSACTION_URL_FIELDS = [
  'callback_post_url',
  'callback_back_url',
  'callback_success_url',
  'callback_failed_url',
  'callback_force_back_url',
  'callback_force_success_url',
  'callback_force_failed_url',
] as const satisfies readonly (keyof TransactionUrls)[];

export interface TransactionUser {
  merchant_user_id?: string | number;
  phone?: string;
  email?: string;
}

/** The user fields a transaction keeps (spec §4), in this order. */
export const TRANSACTION_USER_FIELDS = [
  'merchant_user_id',
  'phone',
  'email',
] as const satisfies readonly (keyof TransactionUser)[];

/** A merchant transaction: what create-payment accepted plus everything that happened since. */
export interface Transaction {
  /** Sequential numeric id (receipt file names use it). */
  id: number;
  hash: string;
  app_id: string;
  merchant_id: number;
  order_id: string;
  amount: number;
  description: string;
  type: 'ecom' | 'service';
  service: OrderService | null;
  /** May be shared by transactions with the same URLs (the memory store does so): never mutate it. */
  urls: Readonly<TransactionUrls>;
  show_close_button: boolean;
  /** Only the known user fields; may be the payload's own `user` object when that holds nothing else. */
  user: Readonly<TransactionUser> | null;
  /** The decrypted create payload as received (shown in the dashboard). */
  payload: unknown;
  status: PaymentStatus;
  status_created_at: number;
  status_updated_at: number | null;
  error: StatusError | null;
  history: HistoryEntry[];
  card: CardInfo | null;
  /** The emulated bank's session for this payment [mock]; absent until the bank page is reached. */
  acquirer?: AcquirerSession;
  refunds: readonly Refund[];
  created_at: number;
  updated_at: number | null;
  /** The scenario activated for this payment by header or order_id at create time (issue 6). */
  scenario?: string;
}

/**
 * The refunds of a transaction that has none. One frozen array serves every such transaction (an
 * empty array per transaction is 32 bytes, 3 MB at 100,000); a refund makes a new array anyway.
 */
export const NO_REFUNDS: readonly Refund[] = Object.freeze([]);

/**
 * The transaction's `user`: the known fields of the create payload's `user`, in the contract's
 * order. When the payload's object already holds exactly that (the usual case) it is returned
 * as is rather than copied: both are read-only, and an object built field by field from optional
 * parts would cost ~50 bytes a transaction more.
 *
 * @example
 * transactionUser({ phone: '+77778889900', extra: 1 }) // { phone: '+77778889900' } (a copy)
 * transactionUser(undefined) // null
 */
export function transactionUser(user: TransactionUser | undefined): Readonly<TransactionUser> | null {
  if (!user) return null;
  let next = 0;
  let canonical = true;
  for (const key in user) {
    const at = (TRANSACTION_USER_FIELDS as readonly string[]).indexOf(key, next);
    if (at < 0 || user[key as keyof TransactionUser] === undefined) {
      canonical = false;
      break;
    }
    next = at + 1;
  }
  if (canonical) return user;
  // Assigned one by one from an empty literal: every such object shares one hidden class. (Spreading
  // optional parts gave each transaction's user a class of its own, ~180 bytes apiece.)
  const out: TransactionUser = {};
  if (user.merchant_user_id !== undefined) out.merchant_user_id = user.merchant_user_id;
  if (user.phone !== undefined) out.phone = user.phone;
  if (user.email !== undefined) out.email = user.email;
  return out;
}

export function refundedTotal(tx: Pick<Transaction, 'refunds'>): number {
  return Math.round(tx.refunds.reduce((s, r) => s + r.amount * 100, 0)) / 100;
}
