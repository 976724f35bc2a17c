import fc from 'fast-check';
import { createPaymentRequest } from '../../../contracts/schemas/create-payment.js';
import { setOwn } from '../../../mock-server/shared/own-property.js';
import { anyText } from '../fuzz-harness.js';

/**
 * Fuzzed create payloads for the stateful fuzz (issue 22 §2), each with the verdict the contract
 * gives it, so the model can say what the sandbox must answer: deep, wide, Unicode, control
 * characters, huge numbers, and keys named `__proto__` / `constructor` / `prototype`.
 */

/** Where a callback for the payment goes. */
export type CallbackTarget = 'none' | 'receiver' | 'unreachable';

/** What the contract says about a payload, before the sandbox's own state (duplicates, scenarios) counts. */
export type PayloadVerdict = 'valid' | 'too_deep' | 'invalid';

export interface CreateSpec {
  verdict: PayloadVerdict;
  /** Cents, for a valid payload. */
  cents: number;
  /** An order_id of its own, or the index of one the merchant used before (a duplicate). */
  orderId: { fresh: string } | { reuse: number };
  description: string;
  service: { contract_value: string } | null;
  callback: CallbackTarget;
  user: boolean;
  /** Unknown fields: where, the key, the value as raw JSON text. */
  extras: Array<{ at: 'top' | 'order' | 'user'; key: string; json: string }>;
  /** For `invalid`: what is wrong. */
  defect: string;
}

const NAMED_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
/** Every field name the create contract knows, at any level: an unknown field must not be one of them. */
const CONTRACT_KEYS = new Set(
  [
    createPaymentRequest.properties,
    createPaymentRequest.properties.order.properties,
    createPaymentRequest.properties.user.properties,
  ].flatMap((p) => Object.keys(p)),
);

/** Keys an unknown field may have: the prototype names, odd Unicode, empty. */
const extraKey = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NAMED_KEYS) },
    { weight: 2, arbitrary: anyText(12) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '\u0000', '💳', '\u202e', 'a.b', '0') },
  )
  .filter((k) => !CONTRACT_KEYS.has(k));

const nestedText = (depth: number, arrays: boolean, leaf = '1') =>
  arrays
    ? `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

/** A JSON value that stays within 64 levels once placed (at most 3 levels of payload above it). */
const extraValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
  // deep, but within the limit
  {
    weight: 2,
    arbitrary: fc.tuple(fc.integer({ min: 2, max: 60 }), fc.boolean()).map(([d, a]) => nestedText(d, a)),
  },
  // wide
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: 3_000 })
      .map((n) => `[${Array.from({ length: n }, (_, i) => i % 10).join(',')}]`),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: 600 })
      .map((n) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`),
  },
  // text: Unicode, control characters, long
  { weight: 2, arbitrary: anyText(200).map((s) => JSON.stringify(s)) },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 40 })
      .map((s) => JSON.stringify(s)),
  },
  // numbers JSON.stringify cannot make: overflow to Infinity, 40 digits, underflow
  {
    weight: 1,
    arbitrary: fc.constantFrom('1e999', '-1e999', '1234567890123456789012345678901234567890', '1e-400', '-0'),
  },
  // objects whose keys are the prototype names, nested
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...NAMED_KEYS), fc.constantFrom(...NAMED_KEYS))
      .map(([a, b]) => `{"${a}":{"${b}":{"amount":1,"order_id":"hijack","polluted":true}},"x":1}`),
  },
);

const extra = fc.record({
  at: fc.constantFrom<'top' | 'order' | 'user'>('top', 'order', 'user'),
  key: extraKey,
  json: extraValue,
});

const description = fc.oneof(
  fc.constantFrom('Тестовый заказ', 'Оплата заказа №1', ''),
  anyText(120),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  fc.constantFrom('x'.repeat(1024), '💳'.repeat(300), '\u202eRTL\u202c', '<script>alert(1)</script>'),
);

/** What makes an invalid payload invalid, and the JSON text of the bad part. */
const defect = fc.constantFrom(
  'amount:0',
  'amount:-5',
  'amount:0.001',
  'amount:1e13',
  'amount:"100"',
  'amount:null',
  'order_id:""',
  'order_id:long',
  'order_id:missing',
  'order:under-proto',
  'order:not-object',
);

export const createSpec: fc.Arbitrary<CreateSpec> = fc.record({
  verdict: fc.constantFrom<PayloadVerdict>(
    'valid',
    'valid',
    'valid',
    'valid',
    'valid',
    'valid',
    'too_deep',
    'invalid',
  ),
  cents: fc.oneof(fc.integer({ min: 1, max: 10_000_000 }), fc.constantFrom(1, 100, 100_000_000_000_000)),
  orderId: fc.oneof(
    { weight: 6, arbitrary: anyText(30).map((s) => ({ fresh: s })) },
    { weight: 1, arbitrary: fc.nat(20).map((i) => ({ reuse: i })) },
  ),
  description,
  service: fc.option(
    fc.constantFrom('0000000000', '12345', 'ЛС-77').map((contract_value) => ({ contract_value })),
    {
      freq: 5,
    },
  ),
  callback: fc.constantFrom<CallbackTarget>('none', 'receiver', 'receiver', 'unreachable'),
  user: fc.boolean(),
  extras: fc.array(extra, { maxLength: 3 }),
  defect,
});

/** A JSON number or string that replaces a placeholder after JSON.stringify. */
const slot = (i: number) => `"@@slot${i}@@"`;

/**
 * The plaintext a merchant seals for `spec`: built as an object (own `__proto__` keys included,
 * which JSON.stringify writes like any key), then placeholders replaced by raw JSON text.
 */
export function createPlaintext(
  spec: CreateSpec,
  orderId: string,
  urls: { receiver: string; unreachable: string },
): string {
  const raws: string[] = [];
  const put = (json: string) => {
    raws.push(json);
    return `@@slot${raws.length - 1}@@`;
  };
  const order: Record<string, unknown> = {
    amount: spec.cents / 100,
    order_id: orderId,
    description: spec.description,
  };
  if (spec.service) {
    order.type = 'service';
    order.service = { service_id: 7, contract_value: spec.service.contract_value };
  }
  if (spec.callback === 'receiver') order.callback_post_url = urls.receiver;
  if (spec.callback === 'unreachable') order.callback_post_url = urls.unreachable;
  const payload: Record<string, unknown> = { order };
  const user: Record<string, unknown> = { phone: '+77011234567', email: 'fuzz@example.kz' };
  if (spec.user) payload.user = user;
  for (const e of spec.extras) {
    const target = e.at === 'top' ? payload : e.at === 'order' ? order : spec.user ? user : payload;
    setOwn(target, e.key, put(e.json));
  }
  if (spec.verdict === 'too_deep') {
    // 65 to 20,000 levels, somewhere an unknown field can be.
    const depth = 65 + ((spec.cents * 7919) % 20_000);
    setOwn(order, 'deep', put(nestedText(depth, spec.cents % 2 === 0)));
  }
  if (spec.verdict === 'invalid') {
    const [field, what] = spec.defect.split(':') as [string, string];
    if (field === 'amount') order.amount = put(what);
    else if (what === '""') order.order_id = '';
    else if (what === 'long') order.order_id = 'L'.repeat(256);
    else if (what === 'missing') delete order.order_id;
    else if (what === 'under-proto') {
      delete payload.order;
      setOwn(payload, '__proto__', { order });
      payload.order = {};
    } else payload.order = put('"an order"');
  }
  let text = JSON.stringify(payload);
  raws.forEach((raw, i) => {
    text = text.replace(slot(i), () => raw);
  });
  return text;
}
