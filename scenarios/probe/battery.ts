import type { SchemaName } from '../../contracts/schema-registry.js';

/**
 * The fixed battery `ktpay-mock probe` sends to the upstream and to the sandbox: data only, each
 * probe one request. It is harmless by construction: every order_id starts with the probe marker,
 * the amount is 100 ₸, no card is ever entered (nothing is paid), and the one payment it creates
 * on purpose is cancelled by the last probe.
 *
 * Placeholders in payloads: `{{order_id}}` (this probe's own marked order id), `{{valid_order_id}}`
 * (the order id of `create-valid`), `{{long_order_id}}` (a marked order id of 256 characters).
 * Paths: `{hash}` is the transaction `create-valid` got on that side, `{unknown_hash}` one that no
 * gateway has.
 */

/** Bumped whenever a probe is added, removed or changes what it sends; recordings carry it. */
export const BATTERY_VERSION = 1;

/** Every order id the probe sends starts with this (then a run stamp and the probe id). */
export const PROBE_ORDER_PREFIX = 'ktpay-mock-probe';

export const PROBE_DESCRIPTION = 'ktpay-mock probe: a contract check, never paid';

/** A hash of the documented shape (40 lowercase hex) that no transaction has. */
export const UNKNOWN_HASH = '0'.repeat(40);

/** The app_id of the unknown-app_id probe: 32 hex, as the documented examples, and nobody's. */
export const UNKNOWN_APP_ID = '0'.repeat(32);

export type ProbeAuth = 'own' | 'unknown' | 'none';

export type ProbeBody =
  /** JSON sealed to the side's app_key, base64 (ORIGINAL): what a merchant sends. */
  | { kind: 'sealed'; payload: Record<string, unknown> }
  /** JSON sealed to a fresh keypair no gateway holds. */
  | { kind: 'sealed_foreign'; payload: Record<string, unknown> }
  /** A sealed plaintext that is not JSON. */
  | { kind: 'sealed_text'; text: string }
  /** Sent as it is. */
  | { kind: 'raw'; text: string }
  | { kind: 'none' };

export interface ProbeDefinition {
  id: string;
  title: string;
  method: 'GET' | 'POST';
  /** Under the API prefix (`/api/v1/merchant-widget`). */
  path: string;
  auth: ProbeAuth;
  body: ProbeBody;
  /** The success payload's contract(s); with two, each side may match either (acquirer-options v2 or v1). */
  contracts: SchemaName[];
  /** What the sandbox answers with its defaults (reference dialect, acquirer-options v2); checked by a test. */
  sandbox_default: { status: number; code?: number };
  /** The contract rule the probe exercises, named in every drift it reports. */
  rule: string;
  /** Keeps the transaction_hash of a success answer as `{hash}` for later probes. */
  captures_hash?: true;
}

const order = (extra: Record<string, unknown> = {}) => ({
  order: {
    amount: 100,
    order_id: '{{order_id}}',
    description: PROBE_DESCRIPTION,
    ...extra,
  },
});

const VALIDATION =
  'spec §4; error-catalog 4220002 with per-field messages in `validation` (reference) or `messages` (widget)';
const RESULT: SchemaName[] = ['createPaymentResult'];

const invalidOrder = (
  id: string,
  title: string,
  payload: Record<string, unknown>,
  rule: string,
): ProbeDefinition => ({
  id,
  title,
  method: 'POST',
  path: '/payment',
  auth: 'own',
  body: { kind: 'sealed', payload },
  contracts: RESULT,
  sandbox_default: { status: 422, code: 4220002 },
  rule: `${rule}; ${VALIDATION}`,
});

/** A create payment the gateway must refuse before looking at the order (identity, encoding, key). */
const refused = (
  id: string,
  title: string,
  auth: ProbeAuth,
  body: ProbeBody,
  code: number,
  rule: string,
): ProbeDefinition => ({
  id,
  title,
  method: 'POST',
  path: '/payment',
  auth,
  body,
  contracts: RESULT,
  sandbox_default: { status: 422, code },
  rule,
});

export const BATTERY: readonly ProbeDefinition[] = [
  {
    id: 'create-valid',
    title: 'create payment: a valid order (100 ₸, never paid)',
    method: 'POST',
    path: '/payment',
    auth: 'own',
    body: { kind: 'sealed', payload: order({ type: 'ecom', show_close_button: true }) },
    contracts: RESULT,
    sandbox_default: { status: 200 },
    rule: 'spec §4: success payload {transaction_hash, show_close_button} [doc v2.1]',
    captures_hash: true,
  },
  invalidOrder(
    'create-duplicate',
    'create payment: the order_id of create-valid again',
    { order: { amount: 100, order_id: '{{valid_order_id}}', description: PROBE_DESCRIPTION } },
    'spec §4: order.order_id is unique per merchant; a duplicate is a validation error on order.order_id [mock]',
  ),
  invalidOrder('create-no-order', 'create payment: no order object', {}, 'spec §4: order is required'),
  invalidOrder(
    'create-no-amount',
    'create payment: order.amount missing',
    { order: { order_id: '{{order_id}}', description: PROBE_DESCRIPTION } },
    'spec §4: order.amount is required [doc]',
  ),
  invalidOrder(
    'create-amount-string',
    'create payment: order.amount as a string',
    order({ amount: '100' }),
    'spec §4: order.amount is a number [doc]',
  ),
  invalidOrder(
    'create-amount-zero',
    'create payment: order.amount 0',
    order({ amount: 0 }),
    'spec §4: order.amount > 0 [mock]',
  ),
  invalidOrder(
    'create-amount-decimals',
    'create payment: order.amount with three decimals',
    order({ amount: 100.555 }),
    'spec §4: order.amount is an integer or has at most 2 decimals [doc]',
  ),
  invalidOrder(
    'create-order-id-long',
    'create payment: a 256-character order_id',
    order({ order_id: '{{long_order_id}}' }),
    'contracts create-payment-request.json: order.order_id at most 255 characters [mock]',
  ),
  invalidOrder(
    'create-type-unknown',
    'create payment: order.type neither ecom nor service',
    order({ type: 'subscription' }),
    'spec §4: order.type is ecom or service [doc]',
  ),
  invalidOrder(
    'create-service-missing',
    'create payment: type service without order.service',
    order({ type: 'service' }),
    'spec §4: order.service is required when type = service [doc]',
  ),
  invalidOrder(
    'create-url-invalid',
    'create payment: a callback URL that is not a URL',
    order({ callback_success_url: 'not a url' }),
    'spec §4: callback URLs are URLs [doc]',
  ),
  invalidOrder(
    'create-email-invalid',
    'create payment: user.email that is not an address',
    { ...order(), user: { email: 'not-an-email' } },
    'contracts create-payment-request.json: user.email is an e-mail address',
  ),
  invalidOrder(
    'create-callback-domain',
    "create payment: a callback URL outside the merchant's domains",
    order({ callback_success_url: 'https://ktpay-mock-probe.invalid/return' }),
    "spec §4: callback URLs outside the merchant's domains are rejected when strict_domains is on [mock]",
  ),
  refused(
    'unknown-app-id',
    'create payment: an Auth-Identifier no merchant has',
    'unknown',
    { kind: 'sealed', payload: order() },
    4220103,
    'spec §5: an unknown app_id is 4220103 (validation on app_id) in the reference dialect, 4010103 in the widget dialect',
  ),
  refused(
    'bad-base64',
    'create payment: a body that is not base64',
    'own',
    { kind: 'raw', text: 'ktpay-mock probe: this body is not base64!' },
    4220101,
    'spec §2: a body that is empty or not base64 → 4220101 [mock mapping of a doc code]',
  ),
  refused(
    'foreign-key',
    'create payment: an order sealed to a key the gateway does not hold',
    'own',
    { kind: 'sealed_foreign', payload: order() },
    4220102,
    "spec §2: a sealed box that does not open with the merchant's key → 4220102 [mock mapping of a doc code]",
  ),
  refused(
    'not-json',
    'create payment: a sealed plaintext that is not JSON',
    'own',
    { kind: 'sealed_text', text: 'ktpay-mock probe: this plaintext is not JSON' },
    4220101,
    'spec §2: a plaintext that is not a JSON object → 4220101 [mock mapping of a doc code]',
  ),
  {
    id: 'status-own',
    title: "payment status of the probe's own payment",
    method: 'GET',
    path: '/payment/{hash}',
    auth: 'own',
    body: { kind: 'none' },
    contracts: ['paymentStatus'],
    sandbox_default: { status: 200 },
    rule: 'spec §10: the status endpoint returns the callback object plus refunds [mock path]',
  },
  {
    id: 'status-unknown',
    title: 'payment status of a hash no one has',
    method: 'GET',
    path: '/payment/{unknown_hash}',
    auth: 'own',
    body: { kind: 'none' },
    contracts: ['paymentStatus'],
    sandbox_default: { status: 404, code: 4040108 },
    rule: 'spec §3: an unknown hash is "transaction not found" (4040108 [mock])',
  },
  {
    id: 'acquirer-options',
    title: "acquirer-options of the probe's own payment (v2, or v1 for legacy merchants)",
    method: 'GET',
    path: '/payment/{hash}/acquirer-options',
    auth: 'none',
    body: { kind: 'none' },
    contracts: ['acquirerOptionsV2', 'acquirerOptionsV1'],
    sandbox_default: { status: 200 },
    rule: 'spec §6: v2 {payment_page} [doc]; legacy v1 form fields [doc]',
  },
  {
    id: 'cancel-own',
    title: "cancel of the probe's own pending payment",
    method: 'POST',
    path: '/payment/{hash}/cancel',
    auth: 'own',
    body: { kind: 'sealed', payload: { reason: 'ktpay-mock probe: cleanup' } },
    contracts: ['paymentStatus'],
    sandbox_default: { status: 200 },
    rule: 'spec §3, §9: cancel of a pending payment → cancelled, answered with the status object [mock]',
  },
];
