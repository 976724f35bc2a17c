import { ID_BASE, httpUrl } from './common.js';

/**
 * The decrypted create-payment payload (spec §4). `additionalProperties: false` is how unknown
 * fields are *detected*: the sandbox accepts them and turns those errors into contract warnings.
 */
export const createPaymentRequest = {
  $id: `${ID_BASE}create-payment-request.json`,
  title: 'Create payment: decrypted payload',
  type: 'object',
  required: ['order'],
  additionalProperties: false,
  properties: {
    order: {
      type: 'object',
      required: ['amount', 'order_id'],
      additionalProperties: false,
      properties: {
        // > 0 [mock] with at most 2 decimals [doc], i.e. at least 0.01: with `exclusiveMinimum: 0`,
        // multipleOf's float tolerance let a tiny amount such as 1e-28 through (found by the fuzz suite).
        amount: { type: 'number', minimum: 0.01, maximum: 1e12, multipleOf: 0.01 },
        order_id: { type: 'string', minLength: 1, maxLength: 255 },
        description: { type: 'string', maxLength: 1024 },
        type: { type: 'string', enum: ['ecom', 'service'] },
        service: {
          type: 'object',
          required: ['service_id', 'contract_value'],
          additionalProperties: false,
          properties: {
            service_id: { type: ['string', 'number'] },
            contract_value: { type: 'string', minLength: 1, maxLength: 255 },
          },
        },
        callback_post_url: httpUrl,
        callback_back_url: httpUrl,
        callback_success_url: httpUrl,
        callback_failed_url: httpUrl,
        callback_force_back_url: httpUrl,
        callback_force_success_url: httpUrl,
        callback_force_failed_url: httpUrl,
        show_close_button: { type: 'boolean' },
      },
      if: { properties: { type: { const: 'service' } }, required: ['type'] },
      then: { required: ['service'] },
    },
    user: {
      type: 'object',
      additionalProperties: false,
      properties: {
        merchant_user_id: { type: ['string', 'number'] },
        phone: { type: 'string', maxLength: 32 },
        email: { type: 'string', format: 'email', maxLength: 254 },
      },
    },
  },
} as const;

/** Success payload of create payment [doc v2.1], plus the reference dialect's [mock] extra. */
export const createPaymentResult = {
  $id: `${ID_BASE}create-payment-result.json`,
  title: 'Create payment: success payload',
  type: 'object',
  required: ['transaction_hash', 'show_close_button'],
  additionalProperties: false,
  properties: {
    transaction_hash: { $ref: 'transaction-hash.json' },
    show_close_button: { type: 'boolean' },
    payment_page_url: { type: 'string', format: 'uri' },
  },
} as const;

/** The optional sealed body of cancel [mock]. */
export const cancelPaymentRequest = {
  $id: `${ID_BASE}cancel-payment-request.json`,
  title: 'Cancel payment: decrypted payload',
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', maxLength: 1024 } },
} as const;

/** The sealed body of refund [mock]; amount omitted = the full remainder. */
export const refundPaymentRequest = {
  $id: `${ID_BASE}refund-payment-request.json`,
  title: 'Refund payment: decrypted payload',
  type: 'object',
  additionalProperties: false,
  properties: {
    amount: { type: 'number' },
    reason: { type: 'string', maxLength: 1024 },
  },
} as const;
