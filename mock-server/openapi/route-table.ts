import { paymentStatusName } from '../../contracts/schemas/common.js';
import type { SchemaName } from '../../contracts/schema-registry.js';

/**
 * Every merchant and admin route as data: the OpenAPI document is generated from this table plus
 * the schema registry, never written by hand. A test compares it with Fastify's registered routes,
 * so a route added without a row here fails the suite.
 */

export type Tag =
  | 'Merchant API'
  | 'Bank notifications'
  | 'Hosted pages'
  | 'Admin'
  | 'Admin: transactions'
  | 'Admin: callbacks'
  | 'Admin: scenarios';

/** How the request body travels. */
export type RequestBody =
  /** Base64 text of a libsodium sealed box; `schema` describes the JSON inside. */
  | { kind: 'sealed'; schema: SchemaName; optional: boolean }
  | { kind: 'json'; schema: SchemaName; optional?: boolean }
  /** The acquirer's result notice: form field `response`, or the XML as the body. */
  | { kind: 'bank-notice' };

/** What a success looks like. */
export type Success =
  /** The merchant's dialect wraps `schema` (reference `payload`, widget `response.data`). */
  | { kind: 'envelope'; schemas: SchemaName[] }
  | { kind: 'json'; schema: SchemaName; status?: 200 | 201 }
  | { kind: 'pdf' }
  | { kind: 'text'; example: string; mediaType?: string; description?: string }
  | { kind: 'redirect'; description: string };

export interface QueryParam {
  name: string;
  description: string;
  schema: Record<string, unknown>;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path template (`{hash}`), as served. */
  path: string;
  tag: Tag;
  summary: string;
  description?: string;
  /** [doc]: in public ktpay material; [mock]: the sandbox's own design (spec preamble). */
  source: 'doc' | 'mock';
  /** merchant: Auth-Identifier required; merchant-optional: checked only when sent; admin: ADMIN_TOKEN when set. */
  auth: 'merchant' | 'merchant-optional' | 'admin' | 'none';
  request?: RequestBody;
  query?: QueryParam[];
  success: Success;
  /** Catalog codes this route can answer with (beyond 5000001, which any route can). */
  errors: number[];
}

const API = '/api/v1/merchant-widget';
const AUTH_CODES = [4010103, 4220103];
const SEALED_CODES = [4220101, 4220102, 4220104];
const ADMIN = [4010121];
const limit = (max: number): QueryParam => ({
  name: 'limit',
  description: `How many, newest first (1–${max}).`,
  schema: { type: 'string', pattern: '^[1-9][0-9]*$' },
});
const str = (name: string, description: string): QueryParam => ({
  name,
  description,
  schema: { type: 'string' },
});

export const ROUTES: readonly RouteSpec[] = [
  // --- merchant API ----------------------------------------------------------------------------
  {
    method: 'post',
    path: `${API}/payment`,
    tag: 'Merchant API',
    summary: 'Create a payment',
    description:
      'The body is the create payload sealed with `crypto_box_seal` to the app_key and base64-encoded (ORIGINAL variant). Any Content-Type is accepted (text/plain, application/json, octet-stream, form-urlencoded, none, even an empty or malformed one) and never decoded. Whitespace around the base64, line wrapping or a BOM are accepted with an `encoding:` contract warning. Unknown fields are accepted and recorded as contract warnings.',
    source: 'doc',
    auth: 'merchant',
    request: { kind: 'sealed', schema: 'createPaymentRequest', optional: false },
    success: { kind: 'envelope', schemas: ['createPaymentResult'] },
    errors: [...AUTH_CODES, ...SEALED_CODES, 4220002, 5000105, 4130120, 4290118],
  },
  {
    method: 'get',
    path: `${API}/payment/{hash}`,
    tag: 'Merchant API',
    summary: 'Payment status',
    description:
      'The same object as the callback body, plus refund details [mock path]. Only the owning merchant sees it.',
    source: 'mock',
    auth: 'merchant',
    success: { kind: 'envelope', schemas: ['paymentStatus'] },
    errors: [...AUTH_CODES, 4040108, 5000107, 4290118],
  },
  {
    method: 'get',
    path: `${API}/payment/{hash}/acquirer-options`,
    tag: 'Merchant API',
    summary: 'Bank parameters for the payment page',
    description:
      'v2 (default): `{payment_page}`. Merchants on `acquirer_options_version: 1` get the legacy form fields.',
    source: 'doc',
    auth: 'merchant-optional',
    success: { kind: 'envelope', schemas: ['acquirerOptionsV2', 'acquirerOptionsV1'] },
    errors: [...AUTH_CODES, 4040108, 5000106, 4290118],
  },
  {
    method: 'get',
    path: `${API}/payment/{hash}/pdf`,
    tag: 'Merchant API',
    summary: 'PDF receipt',
    description:
      'A real PDF with the documented headers. No Auth-Identifier needed (the hash is the capability); when sent it must name the owner.',
    source: 'doc',
    auth: 'merchant-optional',
    success: { kind: 'pdf' },
    errors: [...AUTH_CODES, 4040108, 4090113, 5000109, 5000110],
  },
  {
    method: 'post',
    path: `${API}/payment/{hash}/cancel`,
    tag: 'Merchant API',
    summary: 'Cancel a payment before clearing',
    description: 'Optional sealed body `{reason?}`; an empty body is fine.',
    source: 'mock',
    auth: 'merchant',
    request: { kind: 'sealed', schema: 'cancelPaymentRequest', optional: true },
    success: { kind: 'envelope', schemas: ['paymentStatus'] },
    errors: [...AUTH_CODES, ...SEALED_CODES, 4220002, 4040108, 4090111, 4090115, 4130120, 4290118],
  },
  {
    method: 'post',
    path: `${API}/payment/{hash}/refund`,
    tag: 'Merchant API',
    summary: 'Refund a cleared payment, fully or in part',
    description: 'Optional sealed body `{amount?, reason?}`; without an amount, the whole remainder.',
    source: 'mock',
    auth: 'merchant',
    request: { kind: 'sealed', schema: 'refundPaymentRequest', optional: true },
    success: { kind: 'envelope', schemas: ['paymentStatus'] },
    errors: [
      ...AUTH_CODES,
      ...SEALED_CODES,
      4220002,
      4040108,
      4090111,
      4090116,
      4220112,
      4220114,
      4130120,
      4290118,
    ],
  },
  {
    method: 'post',
    path: `${API}/payment/{hash}/post-link`,
    tag: 'Bank notifications',
    summary: "The acquirer's result notice (used by the emulated bank)",
    source: 'doc',
    auth: 'merchant-optional',
    request: { kind: 'bank-notice' },
    success: { kind: 'text', example: '0' },
    errors: [...AUTH_CODES, 4040108, 4220101],
  },
  {
    method: 'get',
    path: `${API}/payment/{hash}/back-link`,
    tag: 'Bank notifications',
    summary: 'Where the bank returns the shopper',
    description:
      'Redirects to the receipt page, or to a force URL, or (inside the widget iframe) to the exit page.',
    source: 'doc',
    auth: 'merchant-optional',
    success: { kind: 'redirect', description: 'See Other: the receipt page or the merchant URL.' },
    errors: [...AUTH_CODES, 4040108],
  },
  {
    method: 'get',
    path: '/payment-card',
    tag: 'Hosted pages',
    summary: 'The hosted widget page opened in the iframe',
    description:
      'Query `hash` (the transaction) and `show_close_button=true|false`; the public JS client writes `show_close_buttonfalse` without `=`, which is understood too. Sends a pending payment to the bank page, a paid one to its receipt.',
    source: 'doc',
    auth: 'none',
    query: [
      {
        name: 'hash',
        description: 'The transaction hash.',
        schema: { $ref: '#/components/schemas/transactionHash' },
      },
      {
        name: 'show_close_button',
        description: 'Whether the page shows the close button.',
        schema: { type: 'string', enum: ['true', 'false'] },
      },
    ],
    success: { kind: 'redirect', description: 'See Other: the bank card page or the receipt.' },
    errors: [4040108],
  },

  // --- admin -----------------------------------------------------------------------------------
  {
    method: 'get',
    path: '/__admin/health',
    tag: 'Admin',
    summary: 'Health and counts',
    description:
      '200 `{"status":"ok",…}` once the sandbox serves, with RSS, heap and event-loop delay under `process`.',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'adminHealth' },
    errors: ADMIN,
  },
  {
    method: 'get',
    path: '/__admin/tls/ca.pem',
    tag: 'Admin',
    summary: "The local CA's certificate (PEM), to trust the HTTPS listener",
    description:
      'Only with HTTPS on (TLS_PORT or serve --tls); otherwise 4040119. The CA key never leaves TLS_DIR.',
    source: 'mock',
    auth: 'admin',
    success: {
      kind: 'text',
      mediaType: 'application/x-pem-file',
      description: 'The CA certificate.',
      example: '-----BEGIN CERTIFICATE-----\nMIID…\n-----END CERTIFICATE-----\n',
    },
    errors: [...ADMIN, 4040119],
  },
  {
    method: 'post',
    path: '/__admin/reset',
    tag: 'Admin',
    summary: 'Drop transactions, journal, deliveries and runtime merchants',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'adminDone' },
    errors: ADMIN,
  },
  {
    method: 'get',
    path: '/__admin/merchants',
    tag: 'Admin',
    summary: 'List merchants (no secret keys)',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'adminMerchantList' },
    errors: ADMIN,
  },
  {
    method: 'post',
    path: '/__admin/merchants',
    tag: 'Admin',
    summary: 'Create a merchant; with `ttl` (seconds) an ephemeral one, purged with its data when it expires',
    source: 'mock',
    auth: 'admin',
    request: { kind: 'json', schema: 'merchantCreate' },
    success: { kind: 'json', schema: 'merchantView', status: 201 },
    errors: [...ADMIN, 4220122],
  },
  {
    method: 'get',
    path: '/__admin/merchants/{app_id}',
    tag: 'Admin',
    summary: 'One merchant',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'merchantView' },
    errors: [...ADMIN, 4040123],
  },
  {
    method: 'delete',
    path: '/__admin/merchants/{app_id}',
    tag: 'Admin',
    summary: 'Delete a merchant with its transactions, callback deliveries, journal entries and scenarios',
    description:
      "Other merchants are not touched. The answer counts what went. The merchant's own user scenarios (definitions given to PUT /__admin/merchants/{app_id}/scenario) go too; shared ones (POST /__admin/scenarios) stay.",
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'merchantPurge' },
    errors: [...ADMIN, 4040123],
  },
  {
    method: 'post',
    path: '/__admin/merchants/{app_id}/reset',
    tag: 'Admin',
    summary:
      'Reset one merchant: drop its transactions, callback deliveries, journal entries and scenario use counts',
    description:
      'The merchant stays, with its settings, keys, active scenario and user scenarios. Other merchants are not touched.',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'merchantPurge' },
    errors: [...ADMIN, 4040123],
  },
  {
    method: 'get',
    path: '/__admin/journal',
    tag: 'Admin',
    summary: 'The request journal: raw request facts, decrypted payload, verdict, response',
    source: 'mock',
    auth: 'admin',
    query: [
      str('app_id', 'Only this merchant.'),
      str('order_id', 'Only this order.'),
      str('transaction_hash', 'Only this transaction.'),
      str('since', 'Epoch milliseconds or an ISO-8601 date.'),
      limit(1000),
    ],
    success: { kind: 'json', schema: 'journalList' },
    errors: [...ADMIN, 4220122],
  },
  {
    method: 'get',
    path: '/__admin/transactions',
    tag: 'Admin: transactions',
    summary: 'List transactions, newest first',
    description: 'Each with its status history.',
    source: 'mock',
    auth: 'admin',
    query: [
      str('app_id', 'Only this merchant.'),
      {
        name: 'status',
        description: 'Only this status.',
        schema: paymentStatusName,
      },
      str('order_id', 'Only this order.'),
      limit(1000),
    ],
    success: { kind: 'json', schema: 'adminTransactionList' },
    errors: [...ADMIN, 4220122],
  },
  {
    method: 'get',
    path: '/__admin/transactions/{hash}',
    tag: 'Admin: transactions',
    summary: 'One transaction with its history',
    description:
      'The status object, its history in `+06:00`, the masked card, the bank session and its last signed notice.',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'adminTransactionView' },
    errors: [...ADMIN, 4040108],
  },
  {
    method: 'post',
    path: '/__admin/transactions/{hash}/pay',
    tag: 'Admin: transactions',
    summary: 'Pay a pending transaction headlessly with a test card',
    description: 'The same pipeline as the bank page. A 3-D Secure challenge card needs `otp`.',
    source: 'mock',
    auth: 'admin',
    request: { kind: 'json', schema: 'adminPayRequest' },
    success: { kind: 'json', schema: 'adminPayResult' },
    errors: [...ADMIN, 4220122, 4040108, 4090111],
  },
  {
    method: 'post',
    path: '/__admin/transactions/{hash}/clear',
    tag: 'Admin: transactions',
    summary: 'Clear a successful transaction now (success → completed)',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'adminTransactionView' },
    errors: [...ADMIN, 4040108, 4090111],
  },
  {
    method: 'get',
    path: '/__admin/transactions/{hash}/callbacks',
    tag: 'Admin: callbacks',
    summary: "One transaction's callback deliveries",
    description: 'Plus notes on callbacks that were not sent (no URL, dropped by a scenario).',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'transactionCallbacks' },
    errors: [...ADMIN, 4040108],
  },
  {
    method: 'get',
    path: '/__admin/test-cards',
    tag: 'Admin: transactions',
    summary: "The emulated bank's test cards and acquirer codes",
    description: 'The test cards, the cardholder `CODE <c>` rule and every acquirer code with its outcome.',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'testCardsResponse' },
    errors: ADMIN,
  },
  {
    method: 'get',
    path: '/__admin/callbacks',
    tag: 'Admin: callbacks',
    summary: 'List callback deliveries with their attempts',
    source: 'mock',
    auth: 'admin',
    query: [
      str('transaction_hash', 'Only this transaction.'),
      {
        name: 'state',
        description: 'Only this state.',
        schema: { type: 'string', enum: ['pending', 'retrying', 'delivering', 'acknowledged', 'failed'] },
      },
      str('app_id', 'Only this merchant.'),
      limit(9999),
    ],
    success: { kind: 'json', schema: 'callbackDeliveryList' },
    errors: [...ADMIN, 4220122],
  },
  {
    method: 'post',
    path: '/__admin/callbacks/flush',
    tag: 'Admin: callbacks',
    summary: 'Run every pending retry now',
    description:
      'One attempt now for every open delivery (pending or waiting to retry); answers with them afterwards.',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'callbackFlushResult' },
    errors: ADMIN,
  },
  {
    method: 'get',
    path: '/__admin/callbacks/{id}',
    tag: 'Admin: callbacks',
    summary: 'One delivery with its attempt log',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'callbackDelivery' },
    errors: [...ADMIN, 4040125],
  },
  {
    method: 'post',
    path: '/__admin/callbacks/{id}/redeliver',
    tag: 'Admin: callbacks',
    summary: 'One more attempt now, whatever the state',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'callbackDelivery' },
    errors: [...ADMIN, 4040125],
  },
  {
    method: 'get',
    path: '/__admin/scenarios',
    tag: 'Admin: scenarios',
    summary: 'The scenario library, user scenarios and use counts',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'scenarioCatalog' },
    errors: ADMIN,
  },
  {
    method: 'post',
    path: '/__admin/scenarios',
    tag: 'Admin: scenarios',
    summary: 'Define a user scenario (same format as the library files)',
    source: 'mock',
    auth: 'admin',
    request: { kind: 'json', schema: 'scenarioFile' },
    success: { kind: 'json', schema: 'scenarioFile', status: 201 },
    errors: [...ADMIN, 4220122],
  },
  {
    method: 'post',
    path: '/__admin/scenarios/reset',
    tag: 'Admin: scenarios',
    summary: 'Reset the scenario use counts',
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'adminDone' },
    errors: ADMIN,
  },
  {
    method: 'put',
    path: '/__admin/merchants/{app_id}/scenario',
    tag: 'Admin: scenarios',
    summary: 'Activate a scenario for a merchant: {name} from the library, or {scenario} (a definition)',
    source: 'mock',
    auth: 'admin',
    request: { kind: 'json', schema: 'scenarioActivation' },
    success: { kind: 'json', schema: 'merchantView' },
    errors: [...ADMIN, 4040123, 4040124, 4220122],
  },
  {
    method: 'delete',
    path: '/__admin/merchants/{app_id}/scenario',
    tag: 'Admin: scenarios',
    summary: "Deactivate a merchant's scenario",
    source: 'mock',
    auth: 'admin',
    success: { kind: 'json', schema: 'merchantView' },
    errors: [...ADMIN, 4040123],
  },
];

/** Codes a dialect never uses: an unknown app_id is 4010103 in the widget dialect, 4220103 in the reference one (spec §5). */
export const DIALECT_ONLY: Readonly<Record<number, 'reference' | 'widget'>> = {
  4010103: 'widget',
  4220103: 'reference',
};

/** Codes that any route can answer with, documented once at the top of the document. */
export const ANY_ROUTE_CODES = [5000001, 4040119, 4310126] as const;
