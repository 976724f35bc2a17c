import { ID_BASE, httpUrl, paymentStatusName } from './common.js';

const almatyTime = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\+06:00$',
} as const;
const statusEnum = paymentStatusName;
const errorTypeEnum = { type: 'string', enum: ['ERROR_PAYMENT', 'ERROR_INPUT', 'ERROR_SYSTEM'] } as const;
const acquirerCode = { type: 'string', pattern: '^-?[0-9A-Z]{1,3}$' } as const;

/** `contracts/data/test-cards.json`: the emulated bank's test cards [mock, spec §8]. */
export const testCardsData = {
  $id: `${ID_BASE}test-cards.json`,
  title: 'Test cards of the emulated bank',
  type: 'object',
  required: ['about', 'cards', 'other_cards', 'cardholder_code_rule', 'three_ds', 'input_errors'],
  additionalProperties: false,
  properties: {
    about: { type: 'string' },
    cards: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['pan', 'display', 'brand', 'code', 'three_ds', 'result'],
        additionalProperties: false,
        properties: {
          pan: { type: 'string', pattern: '^[0-9]{13,19}$' },
          display: { type: 'string' },
          brand: { type: 'string', enum: ['visa', 'mastercard', 'amex', 'unknown'] },
          code: acquirerCode,
          three_ds: { type: 'string', enum: ['frictionless', 'challenge'] },
          result: { type: 'string' },
        },
      },
    },
    other_cards: {
      type: 'object',
      required: ['code', 'three_ds', 'result'],
      additionalProperties: false,
      properties: {
        code: acquirerCode,
        three_ds: { type: 'string', enum: ['frictionless', 'challenge'] },
        result: { type: 'string' },
      },
    },
    cardholder_code_rule: {
      type: 'object',
      required: ['pattern', 'example', 'result'],
      additionalProperties: false,
      properties: { pattern: { type: 'string' }, example: { type: 'string' }, result: { type: 'string' } },
    },
    three_ds: {
      type: 'object',
      required: ['otp', 'failure_code'],
      additionalProperties: false,
      properties: { otp: { type: 'string' }, failure_code: acquirerCode },
    },
    input_errors: {
      type: 'object',
      required: ['luhn', 'expired', 'card_data', 'unavailable'],
      additionalProperties: false,
      properties: {
        luhn: acquirerCode,
        expired: acquirerCode,
        card_data: acquirerCode,
        unavailable: acquirerCode,
      },
    },
  },
} as const;

/** `contracts/data/acquirer-outcomes.json`: acquirer code → (status, error_type) [mock, spec §9]. */
export const acquirerOutcomesData = {
  $id: `${ID_BASE}acquirer-outcomes.json`,
  title: 'Acquirer code → final status and error_type',
  type: 'object',
  required: ['about', 'approved_code', 'families', 'codes', 'service_gateway_refusal'],
  additionalProperties: false,
  properties: {
    about: { type: 'string' },
    approved_code: acquirerCode,
    families: { type: 'object', additionalProperties: { type: 'string' } },
    codes: {
      type: 'object',
      propertyNames: acquirerCode,
      additionalProperties: {
        type: 'object',
        required: ['status', 'error_type', 'family'],
        additionalProperties: false,
        properties: {
          status: { type: 'string', enum: ['error', 'denied'] },
          error_type: errorTypeEnum,
          family: { type: 'string' },
        },
      },
    },
    service_gateway_refusal: {
      type: 'object',
      required: ['status', 'error_type', 'error_message', 'contract_value'],
      additionalProperties: false,
      properties: {
        status: { type: 'string', enum: ['error', 'denied'] },
        error_type: errorTypeEnum,
        error_message: { type: 'string', minLength: 1 },
        contract_value: { type: 'string' },
      },
    },
  },
} as const;

/** `POST /__admin/transactions/{hash}/pay`: pay headlessly through the same pipeline as the pages. */
export const adminPayRequest = {
  $id: `${ID_BASE}admin-pay-request.json`,
  title: 'Admin: pay a pending transaction with a test card',
  type: 'object',
  required: ['pan', 'exp_month', 'exp_year', 'cvc'],
  additionalProperties: false,
  properties: {
    pan: { type: 'string', minLength: 1, maxLength: 40 },
    exp_month: { type: ['string', 'integer'] },
    exp_year: { type: ['string', 'integer'] },
    cvc: { type: 'string', minLength: 1, maxLength: 8 },
    cardholder: { type: 'string', maxLength: 128 },
    email: { type: 'string', maxLength: 254 },
    otp: { type: 'string', maxLength: 16 },
  },
} as const;

/** acquirer-options v2 payload [doc]. */
export const acquirerOptionsV2 = {
  $id: `${ID_BASE}acquirer-options-v2.json`,
  title: 'acquirer-options, v2',
  type: 'object',
  required: ['payment_page'],
  additionalProperties: false,
  properties: { payment_page: { type: 'string', format: 'uri', pattern: '^https?://' } },
} as const;

/** acquirer-options v1 (legacy) payload [doc]. */
export const acquirerOptionsV1 = {
  $id: `${ID_BASE}acquirer-options-v1.json`,
  title: 'acquirer-options, v1 (legacy form POST)',
  type: 'object',
  required: [
    'callback_back_url',
    'callback_success_url',
    'callback_failed_url',
    'signed_order',
    'action',
    'language',
    'post_link',
    'back_link',
    'template',
  ],
  additionalProperties: false,
  properties: {
    callback_back_url: httpUrl,
    callback_success_url: httpUrl,
    callback_failed_url: httpUrl,
    signed_order: { type: 'string', pattern: '^[A-Za-z0-9+/]+={0,2}$' },
    action: httpUrl,
    language: { const: 'rus' },
    post_link: httpUrl,
    back_link: httpUrl,
    template: { const: 'ktwidget_pay_kt.xsl' },
  },
} as const;

/** One transaction as the admin API shows it: the status object plus what the sandbox knows. */
export const adminTransactionView = {
  $id: `${ID_BASE}admin-transaction.json`,
  title: 'Admin: a transaction with its history',
  type: 'object',
  required: [
    'id',
    'transaction_hash',
    'app_id',
    'merchant_id',
    'order_id',
    'amount',
    'description',
    'type',
    'status',
    'error',
    'card',
    'history',
    'created_at',
    'updated_at',
    'widget_url',
  ],
  additionalProperties: true,
  properties: {
    id: { type: 'integer' },
    transaction_hash: { $ref: 'transaction-hash.json' },
    app_id: { type: 'string' },
    merchant_id: { type: 'integer' },
    order_id: { type: 'string' },
    amount: { type: 'number' },
    description: { type: 'string' },
    type: { type: 'string', enum: ['ecom', 'service'] },
    status: statusEnum,
    error: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['error_type', 'error_message'],
          properties: { error_type: errorTypeEnum, error_message: { type: 'string' }, code: acquirerCode },
        },
      ],
    },
    card: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['masked', 'brand'],
          properties: {
            masked: { type: 'string', pattern: '^[0-9]{6}\\*+[0-9]{4}$' },
            brand: { type: 'string' },
          },
        },
      ],
    },
    history: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['status', 'at', 'event'],
        additionalProperties: false,
        properties: {
          status: statusEnum,
          at: almatyTime,
          event: { type: 'string' },
          detail: { type: 'string' },
        },
      },
    },
    created_at: almatyTime,
    updated_at: { oneOf: [almatyTime, { type: 'null' }] },
    widget_url: { type: 'string', format: 'uri' },
  },
} as const;

/** `POST /__admin/transactions/{hash}/pay` answer. */
export const adminPayResult = {
  $id: `${ID_BASE}admin-pay-result.json`,
  title: 'Admin: result of a headless payment',
  type: 'object',
  required: ['outcome', 'acquirer_code', 'three_ds', 'transaction'],
  additionalProperties: false,
  properties: {
    outcome: { type: 'string', enum: ['approved', 'declined'] },
    acquirer_code: acquirerCode,
    three_ds: { type: 'string', enum: ['frictionless', 'challenge'] },
    transaction: { $ref: 'admin-transaction.json' },
  },
} as const;
