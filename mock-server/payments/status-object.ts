import { toAlmatyIso } from '../shared/almaty-time.js';
import { refundedTotal, type Transaction } from './transaction.js';

/**
 * The callback body [doc, spec §10], built from a transaction. `status.error` is null unless the
 * status is error or denied.
 *
 * @example
 * JSON.stringify(callbackBodyOf(tx)) // what the merchant's callback_post_url receives
 */
export function callbackBodyOf(tx: Transaction) {
  const failed = tx.status === 'error' || tx.status === 'denied';
  return {
    merchant_id: tx.merchant_id,
    order_id: tx.order_id,
    description: tx.description,
    amount: tx.amount,
    transaction_hash: tx.hash,
    created_at: toAlmatyIso(tx.created_at),
    updated_at: tx.updated_at === null ? null : toAlmatyIso(tx.updated_at),
    status: {
      status: tx.status,
      created_at: toAlmatyIso(tx.status_created_at),
      updated_at: tx.status_updated_at === null ? null : toAlmatyIso(tx.status_updated_at),
      error:
        failed && tx.error
          ? { error_type: tx.error.error_type, error_message: tx.error.error_message }
          : null,
    },
  };
}

/** The status endpoint's payload: the callback object plus refund details [mock]. */
export function paymentStatusOf(tx: Transaction) {
  return {
    ...callbackBodyOf(tx),
    refunds: tx.refunds.map((r) => ({ amount: r.amount, created_at: toAlmatyIso(r.at), reason: r.reason })),
    refunded_amount: refundedTotal(tx),
  };
}
