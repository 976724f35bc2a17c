/** Payment statuses: spec §9. The first six are [doc]; the last three are [mock]. */
export const STATUSES = [
  'pending',
  'authorized',
  'success',
  'completed',
  'error',
  'denied',
  'cancelled',
  'partially_refunded',
  'refunded',
] as const;
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
  urls: TransactionUrls;
  show_close_button: boolean;
  user: { merchant_user_id?: string | number; phone?: string; email?: string } | null;
  /** The decrypted create payload as received (shown in the dashboard). */
  payload: unknown;
  status: PaymentStatus;
  status_created_at: number;
  status_updated_at: number | null;
  error: StatusError | null;
  history: HistoryEntry[];
  card: CardInfo | null;
  refunds: Refund[];
  created_at: number;
  updated_at: number | null;
}

export function refundedTotal(tx: Pick<Transaction, 'refunds'>): number {
  return Math.round(tx.refunds.reduce((s, r) => s + r.amount * 100, 0)) / 100;
}
