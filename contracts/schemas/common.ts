/** Shared JSON Schema fragments. Each exported schema elsewhere has its own `$id`. */
export const ID_BASE = 'https://ktpay-mock.dev/contracts/';

export const transactionHash = {
  $id: `${ID_BASE}transaction-hash.json`,
  title: 'Transaction hash',
  description: '40 lowercase hex characters [doc].',
  type: 'string',
  pattern: '^[0-9a-f]{40}$',
} as const;

export const httpUrl = {
  type: 'string',
  format: 'uri',
  pattern: '^https?://',
  maxLength: 2048,
} as const;

/** Payment statuses (spec §9): the first six are [doc], the last three [mock]. The one list. */
export const PAYMENT_STATUSES = [
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

export const paymentStatusName = { type: 'string', enum: PAYMENT_STATUSES } as const;
