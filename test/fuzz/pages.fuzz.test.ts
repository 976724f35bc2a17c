import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import type { Merchant } from '../../mock-server/merchants/merchant.js';
import { API, APP_ID } from '../helpers/sandbox.js';
import {
  anyText,
  checkApiResponse,
  checkPageResponse,
  contentTypes,
  fuzzApp,
  fuzzRuns,
  fuzzTimeout,
  runTarget,
  wrongType,
} from './fuzz-harness.js';
import { watchInvariants, type InvariantChecker } from './store-invariants.js';

/**
 * Fuzz targets for the hosted pages (issue 11 §1): the query strings of every GET page, and the
 * form posts — the bank's card form, the 3-D Secure form, the legacy v1 form and the demo
 * checkout — as url-encoded, multipart and broken bodies. Properties: no 5xx; a redirect carries a
 * Location; an error is an HTML page naming a catalog code with that code's HTTP status; no
 * unhandled rejection; the store invariants after every run.
 */

const RUNS = fuzzRuns();
const TEST_PANS = [
  '4405639704015096',
  '5522042705066736',
  '377514500004820',
  '4003032704547597',
  '5578342710750560',
  '4000000000000002',
  '4000000000009995',
  '4000000000000119',
];
const ACQUIRER_CODES = errorCatalog.acquirer.flatMap((g) => g.codes);

let app: FastifyInstance;
let invariants: InvariantChecker;
let v1Merchant: Merchant;
let seq = 0;

beforeAll(async () => {
  app = await fuzzApp();
  invariants = await watchInvariants(app);
  const res = await app.inject({
    method: 'POST',
    url: '/__admin/merchants',
    payload: {
      name: 'Fuzz v1 shop',
      domains: ['fuzz.kz', 'localhost'],
      public_key: generateKeypair().publicKey,
      acquirer_options_version: 1,
    },
  });
  v1Merchant = (await app.sandbox.merchants.get((res.json() as { app_id: string }).app_id))!;
});
afterAll(() => app.close());

type Kind = 'pending' | 'challenge' | 'approved' | 'declined' | 'cancelled' | 'v1';
const KINDS: Kind[] = ['pending', 'challenge', 'approved', 'declined', 'cancelled', 'v1'];

/** A payment in a page-relevant state, reached through the same routes a shopper uses. */
async function paymentFor(kind: Kind): Promise<string> {
  const merchant = kind === 'v1' ? v1Merchant : (await app.sandbox.merchants.get(APP_ID))!;
  const { tx } = await app.sandbox.payments.create(merchant, {
    order: {
      amount: 500,
      order_id: `pg-${++seq}`,
      description: 'fuzz page fixture',
      ...(seq % 3 === 0
        ? {
            callback_force_success_url: 'http://localhost/force-ok',
            callback_force_failed_url: 'http://localhost/force-failed',
          }
        : {}),
      ...(seq % 2 === 0
        ? { callback_success_url: 'http://localhost/ok', callback_failed_url: 'http://localhost/failed' }
        : {}),
    },
  });
  const card = (pan: string) => ({
    method: 'POST' as const,
    url: '/acquirer/payform',
    payload: { params: tx.hash, pan, exp_month: '12', exp_year: '30', cvc: '123', cardholder: 'FUZZ' },
  });
  if (kind === 'challenge') await app.inject(card('5522042705066736'));
  if (kind === 'approved') await app.inject(card('4405639704015096'));
  if (kind === 'declined') await app.inject(card('4000000000000002'));
  if (kind === 'cancelled')
    await app.sandbox.payments.apply(tx.hash, { type: 'cancel', at: app.sandbox.clock.now(), reason: null });
  return tx.hash;
}

const hashValue = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...KINDS).map((k) => ({ kind: k })) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 40, maxLength: 40 }),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(anyText(60), fc.constantFrom('', 'A'.repeat(3000), '0'.repeat(39), 'G'.repeat(40))),
  },
);

async function resolveValue(v: string | { kind: Kind }): Promise<string> {
  return typeof v === 'string' ? v : paymentFor(v.kind);
}

/** Encodes text for a URL or form; lone surrogates (which encodeURIComponent refuses) go in as raw UTF-8 bytes. */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

type Pair = [string, string | { kind: Kind }];

/** A form or query as key/value pairs: the expected keys with odd values, repeated keys, unknown keys. */
const pairs = (keys: string[], values: Record<string, fc.Arbitrary<string | { kind: Kind }>>) =>
  fc.array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(...keys).chain((k) => fc.tuple(fc.constant(k), values[k] ?? anyText(40))),
      },
      { weight: 1, arbitrary: fc.tuple(anyText(12), anyText(30)) },
    ),
    { maxLength: keys.length + 3 },
  ) as fc.Arbitrary<Pair[]>;

async function urlEncoded(ps: Pair[]): Promise<string> {
  const out: string[] = [];
  for (const [k, v] of ps) out.push(`${enc(k)}=${enc(await resolveValue(v))}`);
  return out.join('&');
}

async function multipart(ps: Pair[], boundary: string): Promise<string> {
  let body = '';
  for (const [k, v] of ps) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${k.replace(/["\r\n]/g, '_')}"\r\n\r\n${await resolveValue(v)}\r\n`;
  }
  return `${body}--${boundary}--\r\n`;
}

type Encoding = 'urlencoded' | 'multipart' | 'garbage' | 'odd-type';
const encoding = fc.constantFrom<Encoding>(
  'urlencoded',
  'urlencoded',
  'urlencoded',
  'multipart',
  'garbage',
  'odd-type',
);

/** POSTs a form the way browsers, scripts and broken clients send them. */
async function postForm(url: string, ps: Pair[], how: Encoding, garbage: Uint8Array, ct: string | undefined) {
  const opts: InjectOptions = { method: 'POST', url, headers: {} };
  if (how === 'urlencoded') {
    opts.headers = { 'content-type': 'application/x-www-form-urlencoded' };
    opts.payload = await urlEncoded(ps);
  } else if (how === 'multipart') {
    const boundary = `----fuzz${seq}`;
    opts.headers = { 'content-type': `multipart/form-data; boundary=${boundary}` };
    opts.payload = await multipart(ps, boundary);
  } else if (how === 'garbage') {
    opts.headers = {
      'content-type':
        garbage.length % 2 ? 'multipart/form-data; boundary=x' : 'application/x-www-form-urlencoded',
    };
    opts.payload = Buffer.from(garbage);
  } else {
    if (ct !== undefined) opts.headers = { 'content-type': ct };
    opts.payload = await urlEncoded(ps);
  }
  return app.inject(opts);
}

const formArgs = (keys: string[], values: Record<string, fc.Arbitrary<string | { kind: Kind }>>) =>
  fc.tuple(pairs(keys, values), encoding, fc.uint8Array({ maxLength: 300 }), contentTypes);

describe('hosted pages fuzz', () => {
  it(`page query strings on every GET page (${RUNS} runs)`, { timeout: fuzzTimeout(RUNS, 30) }, async () => {
    const path = fc.constantFrom(
      '/payment-card',
      '/payment-card/receipt',
      '/payment-card/done',
      '/payment-card/redirect',
      '/payment-card/close',
      '/acquirer/payform',
      '/acquirer/3ds',
      '/demo',
      '/demo/result',
    );
    const query = fc.oneof(
      {
        weight: 5,
        arbitrary: pairs(
          [
            'hash',
            'params',
            'show_close_button',
            'show_close_buttonfalse',
            'show_close_buttontrue',
            'order_id',
            'outcome',
          ],
          {
            hash: hashValue,
            params: hashValue,
            show_close_button: fc.oneof(
              fc.constantFrom('true', 'false', '0', '1', 'yes', '', 'TRUE '),
              anyText(10),
            ),
            outcome: fc.oneof(fc.constantFrom('success', 'failed'), anyText(10)),
          },
        ).map((ps) => ({ ps })),
      },
      {
        weight: 1,
        arbitrary: fc.string({ unit: fc.constantFrom(...'%&=?+;#/abcdef0123456789zZ[]'), maxLength: 40 }),
      },
    );
    await runTarget({
      target: 'page query strings',
      app,
      invariants,
      runs: RUNS,
      seed: 501,
      arbitrary: fc.tuple(path, query),
      run: async ([p, q]) => {
        const qs = typeof q === 'string' ? q : (await urlEncoded(q.ps)).replace(/=$/, '');
        checkPageResponse(await app.inject({ method: 'GET', url: `${p}?${qs}` }));
      },
    });
  });

  it(`bank card form posts (${RUNS} runs)`, { timeout: fuzzTimeout(RUNS, 30) }, async () => {
    const digits = (min: number, max: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    const values = {
      params: hashValue,
      pan: fc.oneof(
        fc.constantFrom(...TEST_PANS),
        digits(12, 19),
        fc.constantFrom('4405 6397 0401 5096', '4405-6397-0401-5096', ''),
        anyText(30),
      ),
      exp_month: fc.oneof(fc.constantFrom('01', '12', '13', '00', '1', '99'), digits(0, 3), anyText(5)),
      exp_year: fc.oneof(fc.constantFrom('30', '2030', '20', '1999', '99', '0'), digits(0, 5), anyText(5)),
      cvc: fc.oneof(digits(0, 5), anyText(6)),
      cardholder: fc.oneof(
        fc.constantFrom(...ACQUIRER_CODES).map((c) => `CODE ${c}`),
        anyText(140).map((s) => `CODE ${s}`),
        anyText(140),
      ),
      email: fc.oneof(fc.emailAddress(), anyText(60)),
      framed: fc.constantFrom('0', '1', 'yes', ''),
    };
    await runTarget({
      target: 'bank card form',
      app,
      invariants,
      runs: RUNS,
      seed: 502,
      arbitrary: formArgs(Object.keys(values), values),
      run: async ([ps, how, garbage, ct]) =>
        checkPageResponse(await postForm('/acquirer/payform', ps, how, garbage, ct)),
    });
  });

  it(`3-D Secure form posts (${RUNS} runs)`, { timeout: fuzzTimeout(RUNS, 30) }, async () => {
    const values = {
      params: fc.oneof(
        { weight: 4, arbitrary: fc.constant({ kind: 'challenge' as Kind }) },
        { weight: 2, arbitrary: hashValue },
      ),
      otp: fc.oneof(fc.constantFrom('1111', '0000', '', '1111 ', '１１１１'), anyText(20)),
      action: fc.oneof(fc.constantFrom('confirm', 'cancel', 'CANCEL', ''), anyText(10)),
    };
    await runTarget({
      target: '3DS form',
      app,
      invariants,
      runs: RUNS,
      seed: 503,
      arbitrary: formArgs(Object.keys(values), values),
      run: async ([ps, how, garbage, ct]) =>
        checkPageResponse(await postForm('/acquirer/3ds', ps, how, garbage, ct)),
    });
  });

  it(
    `legacy v1 form posts, mutated from real acquirer-options (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS, 30) },
    async () => {
      type Mutation = 'keep' | 'drop' | 'random' | 'duplicate' | 'truncate';
      const mutation = fc.constantFrom<Mutation>(
        'keep',
        'keep',
        'keep',
        'drop',
        'random',
        'duplicate',
        'truncate',
      );
      const fields = ['Signed_Order_B64', 'email', 'Language', 'BackLink', 'PostLink', 'template'] as const;
      const arb = fc.tuple(
        fc.array(fc.tuple(mutation, anyText(80)), { minLength: fields.length, maxLength: fields.length }),
        fc.oneof(fc.webUrl(), fc.constantFrom('javascript:alert(1)', 'ftp://x', '', 'http://'), anyText(40)),
        encoding,
        fc.uint8Array({ maxLength: 300 }),
        contentTypes,
      );
      await runTarget({
        target: 'v1 form',
        app,
        invariants,
        runs: RUNS,
        seed: 504,
        arbitrary: arb,
        run: async ([muts, backLink, how, garbage, ct]) => {
          const hash = await paymentFor('v1');
          const optsRes = await app.inject({ url: `${API}/payment/${hash}/acquirer-options` });
          checkApiResponse(optsRes);
          const o = (optsRes.json() as { payload: Record<string, string> }).payload;
          const original: Record<(typeof fields)[number], string> = {
            Signed_Order_B64: o.signed_order!,
            email: 'buyer@fuzz.kz',
            Language: o.language!,
            BackLink: backLink,
            PostLink: o.post_link!,
            template: o.template!,
          };
          const ps: Pair[] = [];
          fields.forEach((f, i) => {
            const [m, text] = muts[i]!;
            if (m === 'drop') return;
            const value =
              m === 'random' ? text : m === 'truncate' ? original[f].slice(0, text.length) : original[f];
            ps.push([f, value]);
            if (m === 'duplicate') ps.push([f, text]);
          });
          checkPageResponse(await postForm('/acquirer/epay/logon', ps, how, garbage, ct));
        },
      });
    },
  );

  it(`demo checkout posts (${RUNS} runs)`, { timeout: fuzzTimeout(RUNS, 30) }, async () => {
    const values = {
      amount: fc.oneof(
        fc.constantFrom('14990', '0', '-1', '1e309', '0,5', '1,005', 'NaN', '', ' 10 ', '0x10', '1e-28'),
        fc.double().map(String),
        anyText(12),
      ),
      description: anyText(1100),
      show_close_button: fc.oneof(fc.constantFrom('true', 'false', 'on'), anyText(8)),
    };
    await runTarget({
      target: 'demo checkout',
      app,
      invariants,
      runs: RUNS,
      seed: 505,
      arbitrary: formArgs(Object.keys(values), values),
      run: async ([ps, how, garbage, ct]) => {
        const res = await postForm('/demo/checkout', ps, how, garbage, ct);
        // The no-JS checkout creates through the payments service: a refused order is its JSON error.
        if (res.statusCode === 422 && String(res.headers['content-type']).startsWith('application/json'))
          return checkApiResponse(res);
        checkPageResponse(res);
      },
    });
  });

  it(
    `JSON bodies with wrongly typed values on the form routes (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS) },
    async () => {
      // JSON bodies on form routes: objects, arrays and numbers where strings belong.
      await runTarget({
        target: 'form routes with JSON bodies',
        app,
        invariants,
        runs: RUNS,
        seed: 506,
        arbitrary: fc.tuple(
          fc.constantFrom('/acquirer/payform', '/acquirer/3ds', '/acquirer/epay/logon', '/demo/checkout'),
          fc.dictionary(
            fc.constantFrom('params', 'pan', 'otp', 'PostLink', 'amount', 'description', 'action'),
            wrongType,
          ),
        ),
        run: async ([url, body]) => {
          const res = await app.inject({ method: 'POST', url, payload: body });
          if (String(res.headers['content-type']).startsWith('application/json'))
            return checkApiResponse(res);
          checkPageResponse(res);
        },
      });
    },
  );
});
