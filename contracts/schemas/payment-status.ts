import { ID_BASE, paymentStatusName } from './common.js';

const almatyTime = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\+06:00$',
} as const;

/**
 * The callback body [doc, spec §10]. The status endpoint returns the same object plus `refunds`
 * [mock], so this schema is shared and `paymentStatus` extends it.
 */
export const callbackBody = {
  $id: `${ID_BASE}callback-body.json`,
  title: 'Callback POSTed to the merchant on a final status',
  type: 'object',
  required: [
    'merchant_id',
    'order_id',
    'description',
    'amount',
    'transaction_hash',
    'created_at',
    'updated_at',
    'status',
  ],
  additionalProperties: false,
  properties: {
    merchant_id: { type: 'integer' },
    order_id: { type: 'string' },
    description: { type: 'string' },
    amount: { type: 'number' },
    transaction_hash: { $ref: 'transaction-hash.json' },
    created_at: almatyTime,
    updated_at: { oneOf: [almatyTime, { type: 'null' }] },
    status: {
      type: 'object',
      required: ['status', 'created_at', 'updated_at', 'error'],
      additionalProperties: false,
      properties: {
        status: paymentStatusName,
        created_at: almatyTime,
        updated_at: { oneOf: [almatyTime, { type: 'null' }] },
        error: {
          oneOf: [
            { type: 'null' },
            {
              type: 'object',
              required: ['error_type', 'error_message'],
              additionalProperties: false,
              properties: {
                error_type: { type: 'string', enum: ['ERROR_PAYMENT', 'ERROR_INPUT', 'ERROR_SYSTEM'] },
                error_message: { type: 'string' },
              },
            },
          ],
        },
      },
    },
  },
} as const;

/** GET /payment/{hash} payload: the callback object plus refund details [mock]. */
export const paymentStatus = {
  $id: `${ID_BASE}payment-status.json`,
  title: 'Payment status (status endpoint payload)',
  type: 'object',
  required: [...callbackBody.required, 'refunds', 'refunded_amount'],
  additionalProperties: false,
  properties: {
    ...callbackBody.properties,
    refunds: {
      type: 'array',
      items: {
        type: 'object',
        required: ['amount', 'created_at', 'reason'],
        additionalProperties: false,
        properties: {
          amount: { type: 'number' },
          created_at: almatyTime,
          reason: { type: ['string', 'null'] },
        },
      },
    },
    refunded_amount: { type: 'number' },
  },
} as const;
