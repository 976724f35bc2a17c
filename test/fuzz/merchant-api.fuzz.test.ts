import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import type { Merchant } from '../../mock-server/merchants/merchant.js';
import type { PaymentEvent } from '../../mock-server/payments/payment-state.js';
import { API, APP_ID, seal } from '../helpers/sandbox.js';
import {
  anyText,
  checkApiResponse,
  contentTypes,
  deepJsonText,
  fuzzApp,
  fuzzRuns,
  fuzzTimeout,
  headerValue,
  mutatedBase64,
  oddNumber,
  rawNumberLiteral,
  runTarget,
  wrongType,
} from './fuzz-harness.js';
import { watchInvariants, type InvariantChecker } from './store-invariants.js';

/**
 * Fuzz targets for the merchant API (issue 11 §1): create, status, cancel and refund bodies, and
 * the headers. Two merchants answer, one per dialect, so both envelopes are checked. Properties:
 * no 5xx, the documented envelope with a catalog code, no unhandled rejection, and the store
 * invariants after every run.
 */

const RUNS = fuzzRuns();
const FINAL_ERROR = {
  error_type: 'ERROR_PAYMENT',
  error_message: 'KKB rejected payment',
  code: '05',
} as const;

let app: FastifyInstance;
let invariants: InvariantChecker;
let widget: { app_id: string; app_key: string };
let merchants: { reference: Merchant; widget: Merchant };
let seq = 0;

beforeAll(async () => {
  app = await fuzzApp();
  invariants = await watchInvariants(app);
  const res = await app.inject({
    method: 'POST',
    url: '/__admin/merchants',
    payload: {
      name: 'Fuzz widget shop',
      domains: ['fuzz.kz', 'localhost'],
      public_key: generateKeypair().publicKey,
      envelope: 'widget',
      locale: 'en',
    },
  });
  widget = res.json() as { app_id: string; app_key: string };
  merchants = {
    reference: (await app.sandbox.merchants.get(APP_ID))!,
    widget: (await app.sandbox.merchants.get(widget.app_id))!,
  };
});
afterAll(() => app.close());

type Who = 'reference' | 'widget';
const who = fc.constantFrom<Who>('reference', 'widget');
const appIdOf = (w: Who) => (w === 'reference' ? APP_ID : widget.app_id);
const keyOf = (w: Who) => (w === 'reference' ? undefined : widget.app_key);

/** A transaction of `w` in `state`, made through the payments service (the same path as the API). */
const STATES = [
  'pending',
  'authorized',
  'success',
  'completed',
  'partially_refunded',
  'refunded',
  'error',
  'denied',
  'cancelled',
] as const;
type State = (typeof STATES)[number];
/** A transaction to make in a run: whose, and in which state. */
interface Named {
  who: Who;
  state: State;
}
async function transactionIn(w: Who, state: State): Promise<string> {
  const { payments, clock } = app.sandbox;
  const { tx } = await payments.create(merchants[w], {
    order: { amount: 1000, order_id: `fx-${++seq}`, description: 'fuzz fixture' },
  });
  const at = clock.now();
  const steps: Record<State, PaymentEvent[]> = {
    pending: [],
    authorized: [{ type: 'authorize', at, card: null }],
    success: [
      { type: 'authorize', at, card: null },
      { type: 'confirm', at },
    ],
    completed: [
      { type: 'authorize', at, card: null },
      { type: 'confirm', at },
      { type: 'clear', at },
    ],
    partially_refunded: [
      { type: 'authorize', at, card: null },
      { type: 'confirm', at },
      { type: 'clear', at },
      { type: 'refund', at, amount: 250.5, reason: null },
    ],
    refunded: [
      { type: 'authorize', at, card: null },
      { type: 'confirm', at },
      { type: 'clear', at },
      { type: 'refund', at, amount: 1000, reason: null },
    ],
    error: [{ type: 'fail', at, status: 'error', error: FINAL_ERROR }],
    denied: [
      { type: 'authorize', at, card: null },
      { type: 'fail', at, status: 'denied', error: { ...FINAL_ERROR, error_type: 'ERROR_SYSTEM' } },
    ],
    cancelled: [{ type: 'cancel', at, reason: null }],
  };
  for (const e of steps[state]) await payments.apply(tx.hash, e);
  return tx.hash;
}

/** Auth-Identifier as merchants get it wrong: missing, another merchant's, duplicated, huge, garbage. */
const authHeader = (w: Who) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant<string | string[] | undefined>(appIdOf(w)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(appIdOf(w === 'reference' ? 'widget' : 'reference')) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<string[]>([appIdOf(w), appIdOf(w)], [appIdOf(w), '0'.repeat(32)]),
    },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 60_000 }).map((n) => 'a'.repeat(n)) },
    { weight: 1, arbitrary: headerValue(80) },
    { weight: 1, arbitrary: fc.constant(` ${appIdOf(w).toUpperCase()} `) },
  );

function inject(
  method: 'GET' | 'POST',
  url: string,
  body: string | Buffer | undefined,
  ct: string | undefined,
  auth: string | string[] | undefined,
) {
  const headers: Record<string, string | string[]> = {};
  if (ct !== undefined) headers['content-type'] = ct;
  if (auth !== undefined) headers['auth-identifier'] = auth;
  const opts: InjectOptions = { method, url, headers };
  if (body !== undefined) opts.payload = body;
  return app.inject(opts);
}

/** Random order payloads: mostly plausible, with every field sometimes of the wrong type. */
const orderish = fc.record(
  {
    amount: fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), oddNumber, wrongType),
    order_id: fc.oneof(anyText(40), fc.string({ minLength: 250, maxLength: 300 }), wrongType),
    description: fc.oneof(anyText(200), wrongType),
    type: fc.oneof(fc.constantFrom('ecom', 'service', 'ECOM', ''), wrongType),
    service: fc.oneof(
      fc.record(
        {
          service_id: fc.oneof(fc.constant('1'), fc.integer(), wrongType),
          contract_value: fc.oneof(anyText(20), wrongType),
        },
        { requiredKeys: [] },
      ),
      wrongType,
    ),
    callback_post_url: fc.oneof(
      fc.webUrl(),
      fc.constantFrom(
        'http://localhost:1/cb',
        'http://169.254.169.254/',
        'javascript:alert(1)',
        'http://[::1]/',
      ),
      wrongType,
    ),
    callback_success_url: fc.oneof(fc.webUrl(), anyText(30)),
    callback_force_failed_url: fc.oneof(fc.webUrl(), wrongType),
    show_close_button: fc.oneof(fc.boolean(), wrongType),
    unknown_field: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
const userish = fc.record(
  {
    merchant_user_id: fc.oneof(anyText(20), fc.integer(), wrongType),
    phone: fc.oneof(anyText(40), wrongType),
    email: fc.oneof(fc.emailAddress(), anyText(30), wrongType),
  },
  { requiredKeys: [] },
);

/** Plaintexts a merchant might seal: random JSON, near-valid orders, raw number literals, deep nesting, non-JSON. */
const createPlaintext = fc.oneof(
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? 'null') },
  {
    weight: 6,
    arbitrary: fc
      .record({ order: orderish, user: userish }, { requiredKeys: ['order'] })
      .map((v) => JSON.stringify(v)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(rawNumberLiteral, fc.nat())
      .map(([n, i]) => `{"order":{"amount":${n},"order_id":"raw-${i}-${Date.now()}"}}`),
  },
  { weight: 1, arbitrary: deepJsonText.map((d) => `{"order":{"amount":1,"order_id":"deep","x":${d}}}`) },
  { weight: 1, arbitrary: deepJsonText },
  {
    weight: 1,
    arbitrary: fc.oneof(
      anyText(100),
      fc.constantFrom('', 'null', '[]', '"order"', '1', 'true', '{', '{"order":', '\uFEFF{}'),
    ),
  },
);

describe('merchant API fuzz', () => {
  it(
    `create: random bytes, text and base64 as the raw body (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS) },
    async () => {
      const body = fc.oneof(
        fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
        anyText(512),
        fc.base64String({ maxLength: 400 }),
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
      );
      await runTarget({
        target: 'create: raw bodies',
        app,
        invariants,
        runs: RUNS,
        seed: 20261127,
        arbitrary: fc.tuple(who, body, contentTypes),
        run: async ([w, b, ct]) =>
          checkApiResponse(await inject('POST', `${API}/payment`, b, ct, appIdOf(w))),
      });
    },
  );

  it(`create: mutated valid sealed bodies (${RUNS} runs)`, { timeout: fuzzTimeout(RUNS) }, async () => {
    const valid = {
      reference: await seal({ order: { amount: 1000, order_id: 'mutated' } }),
      widget: await seal({ order: { amount: 1000, order_id: 'mutated' } }, widget.app_key),
    };
    const arb = who.chain((w) => fc.tuple(fc.constant(w), mutatedBase64(valid[w]), contentTypes));
    await runTarget({
      target: 'create: mutated base64',
      app,
      invariants,
      runs: RUNS,
      seed: 7,
      arbitrary: arb,
      run: async ([w, b, ct]) => checkApiResponse(await inject('POST', `${API}/payment`, b, ct, appIdOf(w))),
    });
  });

  it(
    `create: valid sealed boxes holding random JSON (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS, 40) },
    async () => {
      await runTarget({
        target: 'create: sealed random JSON',
        app,
        invariants,
        runs: RUNS,
        seed: 11,
        arbitrary: fc.tuple(who, createPlaintext),
        run: async ([w, text]) =>
          checkApiResponse(
            await inject('POST', `${API}/payment`, await seal(text, keyOf(w)), 'text/plain', appIdOf(w)),
          ),
      });
    },
  );

  it(
    `headers: missing, duplicated, oversized Auth-Identifier and odd Content-Types on every endpoint (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS) },
    async () => {
      const endpoint = fc.constantFrom('create', 'status', 'cancel', 'refund');
      const arb = who.chain((w) =>
        fc.tuple(
          fc.constant(w),
          endpoint,
          authHeader(w),
          contentTypes,
          fc.boolean(),
          fc.constantFrom(...STATES),
        ),
      );
      await runTarget({
        target: 'headers',
        app,
        invariants,
        runs: RUNS,
        seed: 99,
        arbitrary: arb,
        run: async ([w, ep, auth, ct, sealedBody, state]) => {
          const body = sealedBody
            ? await seal(ep === 'create' ? { order: { amount: 10, order_id: `h-${++seq}` } } : {}, keyOf(w))
            : 'not a sealed box';
          if (ep === 'create')
            return checkApiResponse(await inject('POST', `${API}/payment`, body, ct, auth));
          const hash = await transactionIn(w, state);
          if (ep === 'status')
            return checkApiResponse(await inject('GET', `${API}/payment/${hash}`, undefined, ct, auth));
          checkApiResponse(await inject('POST', `${API}/payment/${hash}/${ep}`, body, ct, auth));
        },
      });
    },
  );

  it(
    `status, acquirer-options and receipt: random hashes and paths (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS, 80) },
    async () => {
      // A transaction in a state is named here and made in the run (creating one is asynchronous).
      const hashArb = (w: Who) =>
        fc.oneof(
          {
            weight: 4,
            arbitrary: fc.constantFrom(...STATES).map((state): string | Named => ({ who: w, state })),
          },
          {
            weight: 1,
            arbitrary: fc
              .constantFrom(...STATES)
              .map((state): string | Named => ({ who: w === 'reference' ? 'widget' : 'reference', state })),
          },
          {
            weight: 1,
            arbitrary: fc.string({
              unit: fc.constantFrom(...'0123456789abcdef'),
              minLength: 40,
              maxLength: 40,
            }),
          },
          {
            weight: 1,
            arbitrary: fc
              .string({ unit: 'grapheme', maxLength: 80 })
              .map((s) => encodeURIComponent(s) || '%20'),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom('%', '%zz', '..%2f..', 'A'.repeat(5000), '%00', '0'.repeat(41)),
          },
        );
      const arb = who.chain((w) =>
        fc.tuple(
          fc.constant(w),
          hashArb(w),
          fc.constantFrom('', '', '', '/acquirer-options', '/acquirer-options', '/pdf'),
          authHeader(w),
        ),
      );
      await runTarget({
        target: 'status and reads',
        app,
        invariants,
        runs: RUNS,
        seed: 31,
        arbitrary: arb,
        run: async ([, named, tail, auth]) => {
          const hash = typeof named === 'string' ? named : await transactionIn(named.who, named.state);
          const res = await inject('GET', `${API}/payment/${hash}${tail}`, undefined, undefined, auth);
          if (tail === '/pdf' && res.statusCode === 200) {
            expect(res.headers['content-type']).toBe('application/pdf');
            expect(res.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
            return;
          }
          checkApiResponse(res);
        },
      });
    },
  );

  /** Bodies for cancel/refund: empty, garbage, mutated sealed, sealed random JSON, sealed near-valid payloads. */
  const operationBody = (w: Who, payload: fc.Arbitrary<unknown>) =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom<string | Buffer>('', '   \n') },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }).map((b): string | Buffer => Buffer.from(b)) },
      { weight: 1, arbitrary: anyText(200) },
      {
        weight: 6,
        arbitrary: fc
          .oneof(
            payload.map((p) => JSON.stringify(p) ?? 'null'),
            fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? '1'),
            deepJsonText,
            rawNumberLiteral.map((n) => `{"amount":${n}}`),
          )
          .map((text) => ({ text, w })),
      },
    );

  async function sealedOrRaw(b: string | Buffer | { text: string; w: Who }): Promise<string | Buffer> {
    return typeof b === 'object' && !Buffer.isBuffer(b) ? seal(b.text, keyOf(b.w)) : b;
  }

  it(
    `cancel: bodies on transactions in every status (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS) },
    async () => {
      const payload = fc.record(
        { reason: fc.oneof(anyText(1100), wrongType), extra: wrongType },
        { requiredKeys: [] },
      );
      const arb = who.chain((w) =>
        fc.tuple(
          fc.constant(w),
          fc.constantFrom(...STATES),
          operationBody(w, payload),
          contentTypes,
          authHeader(w),
        ),
      );
      await runTarget({
        target: 'cancel bodies',
        app,
        invariants,
        runs: RUNS,
        seed: 41,
        arbitrary: arb,
        run: async ([w, state, body, ct, auth]) => {
          const hash = await transactionIn(w, state);
          checkApiResponse(
            await inject('POST', `${API}/payment/${hash}/cancel`, await sealedOrRaw(body), ct, auth),
          );
        },
      });
    },
  );

  it(
    `refund: bodies and amounts on transactions in every status (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS) },
    async () => {
      const payload = fc.record(
        {
          amount: fc.oneof(
            fc.constantFrom(1, 250.5, 749.5, 1000, 1000.01, 0.01, 0.005, 999.999),
            oddNumber,
            wrongType,
          ),
          reason: fc.oneof(anyText(100), wrongType),
        },
        { requiredKeys: [] },
      );
      const arb = who.chain((w) =>
        fc.tuple(
          fc.constant(w),
          fc.constantFrom(...STATES),
          operationBody(w, payload),
          contentTypes,
          authHeader(w),
          fc.nat(3),
        ),
      );
      await runTarget({
        target: 'refund bodies',
        app,
        invariants,
        runs: RUNS,
        seed: 43,
        arbitrary: arb,
        run: async ([w, state, body, ct, auth, repeats]) => {
          const hash = await transactionIn(w, state);
          // The same refund up to four times: the remainder must hold across repeats.
          for (let i = 0; i <= repeats; i++) {
            checkApiResponse(
              await inject('POST', `${API}/payment/${hash}/refund`, await sealedOrRaw(body), ct, auth),
            );
          }
        },
      });
    },
  );
});
