import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, describe, it } from 'vitest';
import { generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import { APP_ID } from '../helpers/sandbox.js';
import {
  anyText,
  checkAdminResponse,
  contentTypes,
  fuzzApp,
  fuzzRuns,
  fuzzTimeout,
  nearValid,
  oddNumber,
  runTarget,
  wrongType,
} from './fuzz-harness.js';
import { watchInvariants } from './store-invariants.js';

/**
 * Fuzz targets for the admin API bodies (issue 11 §1): merchants, headless pay, scenarios, and the
 * query strings of the admin lists. Each target gets its own sandbox, so a merchant or scenario one
 * target creates never changes another. Properties: no 5xx; errors in the reference envelope with
 * a catalog code and its HTTP status; no unhandled rejection; the store invariants.
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
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function sandbox() {
  const app = await fuzzApp();
  apps.push(app);
  return app;
}

/** Sends a body as JSON, as other text, or with an odd Content-Type. */
function send(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  body: unknown,
  how: 'json' | 'text' | 'odd',
  ct: string | undefined,
) {
  const opts: InjectOptions = { method, url };
  if (body !== undefined) {
    if (how === 'json') opts.payload = JSON.stringify(body) ?? 'null';
    else opts.payload = typeof body === 'string' ? body : String(JSON.stringify(body));
    opts.headers = {
      'content-type': how === 'json' ? 'application/json' : how === 'text' ? 'text/plain' : (ct ?? ''),
    };
  }
  return app.inject(opts);
}
const how = fc.constantFrom<'json' | 'text' | 'odd'>('json', 'json', 'json', 'json', 'text', 'odd');

const base64ish = fc.oneof(
  fc.constant(null).map(() => generateKeypair().publicKey),
  fc.base64String({ minLength: 40, maxLength: 48 }),
  fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')),
);
const domain = fc.oneof(
  fc.domain(),
  fc.constantFrom('localhost', '127.0.0.1', '[::1]', '169.254.169.254', '', 'a..b', '*.kz'),
  anyText(20),
);

describe('admin API fuzz', () => {
  it(`merchants: create, read and delete bodies (${RUNS} runs)`, { timeout: fuzzTimeout(RUNS) }, async () => {
    const app = await sandbox();
    const merchantFields = {
      name: fc.oneof(anyText(40), fc.string({ minLength: 250, maxLength: 300 }), wrongType),
      domains: fc.oneof(fc.array(domain, { maxLength: 4 }), wrongType),
      public_key: fc.oneof(base64ish, wrongType),
      app_id: fc.oneof(
        fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }),
        fc.constant(APP_ID),
        anyText(40),
      ),
      merchant_id: fc.oneof(fc.integer(), oddNumber),
      server_keys: fc.oneof(
        fc.array(
          fc.record(
            {
              public_key: base64ish,
              secret_key: base64ish,
              expires_at: fc.oneof(
                fc.constant(null),
                fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
                anyText(20),
              ),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 2 },
        ),
        wrongType,
      ),
      callback_post_url: fc.oneof(fc.webUrl(), anyText(30)),
      callback_success_url: fc.oneof(fc.webUrl(), wrongType),
      envelope: fc.oneof(fc.constantFrom('reference', 'widget'), anyText(8)),
      locale: fc.oneof(fc.constantFrom('ru', 'en'), anyText(4)),
      strict_domains: fc.oneof(fc.boolean(), wrongType),
      acquirer_options_version: fc.oneof(fc.constantFrom(1, 2), oddNumber),
      notify_on: fc.oneof(
        fc.array(fc.constantFrom('cancelled', 'refunded', 'completed'), { maxLength: 3 }),
        wrongType,
      ),
      scenario: fc.oneof(fc.constantFrom('flaky-create', 'callback-duplicate'), anyText(20)),
      extra: fc.jsonValue({ maxDepth: 2 }),
    };
    const merchantish = fc.record(merchantFields, { requiredKeys: [] });
    const validMerchant = fc.record({
      name: fc.string({ minLength: 1, maxLength: 40 }),
      domains: fc.array(fc.domain(), { minLength: 1, maxLength: 3 }),
      public_key: fc
        .uint8Array({ minLength: 32, maxLength: 32 })
        .map((b) => Buffer.from(b).toString('base64')),
    });
    const body = fc.oneof(
      { weight: 4, arbitrary: nearValid(validMerchant, merchantFields) as fc.Arbitrary<unknown> },
      { weight: 3, arbitrary: merchantish as fc.Arbitrary<unknown> },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
      { weight: 1, arbitrary: anyText(200) },
    );
    const action = fc.constantFrom('create', 'create', 'create', 'read', 'delete');
    await runTarget({
      target: 'admin merchants',
      app,
      runs: RUNS,
      seed: 701,
      arbitrary: fc.tuple(action, body, how, contentTypes, anyText(40)),
      run: async ([a, b, h, ct, id]) => {
        if (a === 'create')
          return checkAdminResponse(await send(app, 'POST', '/__admin/merchants', b, h, ct));
        // Read or delete one that exists (never the built-in merchant), or a random id.
        const existing = (await app.sandbox.merchants.list()).filter((m) => m.app_id !== APP_ID);
        const target =
          existing.length > 0 && id.length % 2 === 0
            ? existing[id.length % existing.length]!.app_id
            : encodeURIComponent(id.replace(/[\uD800-\uDFFF]/g, '')) || 'x';
        checkAdminResponse(
          await app.inject({ method: a === 'read' ? 'GET' : 'DELETE', url: `/__admin/merchants/${target}` }),
        );
      },
    });
  });

  it(
    `headless pay bodies on transactions in every status (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS) },
    async () => {
      const app = await sandbox();
      const invariants = await watchInvariants(app);
      let seq = 0;
      const payFields = {
        pan: fc.oneof(
          fc.constantFrom(...TEST_PANS),
          fc.string({ unit: fc.constantFrom(...'0123456789 '), maxLength: 24 }),
          wrongType,
        ),
        exp_month: fc.oneof(fc.constantFrom('12', 12, '1', '13', 0), wrongType),
        exp_year: fc.oneof(fc.constantFrom('30', 2030, '2031', '1999', 99), wrongType),
        cvc: fc.oneof(fc.constantFrom('123', '1234', '12'), wrongType),
        cardholder: fc.oneof(
          fc.constantFrom('CODE 05', 'CODE 51', 'CODE -19', 'CODE 1A', 'CODE 999', 'IVAN'),
          anyText(140),
          wrongType,
        ),
        email: fc.oneof(fc.emailAddress(), anyText(30), wrongType),
        otp: fc.oneof(fc.constantFrom('1111', '0000', ''), wrongType),
        extra: wrongType,
      };
      const payish = fc.record(payFields, { requiredKeys: [] });
      const validPay = fc
        .record({
          pan: fc.constantFrom(...TEST_PANS),
          exp_month: fc.constantFrom('01', '12', 7),
          exp_year: fc.constantFrom('30', 2031),
          cvc: fc.constant('123'),
          otp: fc.constantFrom('1111', '0000'),
        })
        .map((b) => ({ ...b, cvc: b.pan.length === 15 ? '1234' : b.cvc }));
      const state = fc.constantFrom(
        'pending',
        'pending',
        'pending',
        'cancelled',
        'error',
        'completed',
        'random-hash',
      );
      await runTarget({
        target: 'admin pay',
        app,
        invariants,
        runs: RUNS,
        seed: 702,
        arbitrary: fc.tuple(
          state,
          fc.oneof(
            { weight: 4, arbitrary: nearValid(validPay, payFields) as fc.Arbitrary<unknown> },
            { weight: 3, arbitrary: payish as fc.Arbitrary<unknown> },
            { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
          ),
          how,
          contentTypes,
          fc.boolean(),
        ),
        run: async ([s, b, h, ct, alsoClear]) => {
          let hash = 'f'.repeat(40);
          if (s !== 'random-hash') {
            const { payments, clock, merchants } = app.sandbox;
            const { tx } = await payments.create((await merchants.get(APP_ID))!, {
              order: {
                amount: 100,
                order_id: `ap-${++seq}`,
                ...(seq % 5 === 0
                  ? {
                      type: 'service',
                      service: { service_id: '1', contract_value: seq % 10 === 0 ? '0000000000' : '17-1' },
                    }
                  : {}),
              },
            });
            hash = tx.hash;
            const at = clock.now();
            if (s === 'cancelled') await payments.apply(hash, { type: 'cancel', at, reason: null });
            if (s === 'error')
              await payments.apply(hash, {
                type: 'fail',
                at,
                status: 'error',
                error: { error_type: 'ERROR_PAYMENT', error_message: 'x' },
              });
            if (s === 'completed') {
              await payments.apply(hash, { type: 'authorize', at, card: null });
              await payments.apply(hash, { type: 'confirm', at });
              await payments.apply(hash, { type: 'clear', at });
            }
          }
          checkAdminResponse(await send(app, 'POST', `/__admin/transactions/${hash}/pay`, b, h, ct));
          if (alsoClear)
            checkAdminResponse(
              await app.inject({ method: 'POST', url: `/__admin/transactions/${hash}/clear` }),
            );
        },
      });
    },
  );

  it(
    `scenario definitions and activation bodies (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS) },
    async () => {
      const app = await sandbox();
      // A merchant of its own, so activations never touch the built-in merchant.
      const created = await app.inject({
        method: 'POST',
        url: '/__admin/merchants',
        payload: { name: 'Scenario target', domains: ['s.kz'], public_key: generateKeypair().publicKey },
      });
      const target = (created.json() as { app_id: string }).app_id;
      const effect = fc.oneof(
        fc.record(
          {
            type: fc.constant('respond_error'),
            code: fc.oneof(fc.constantFrom(4220101, 5000105, 4040108, 1234567, 9999999), oddNumber),
          },
          { requiredKeys: ['type'] },
        ),
        fc.record(
          {
            type: fc.constant('delay'),
            ms: fc.oneof(fc.nat(5), oddNumber),
            min_ms: fc.nat(5),
            max_ms: fc.nat(5),
          },
          { requiredKeys: ['type'] },
        ),
        fc.record(
          {
            type: fc.constant('http_fault'),
            fault: fc.oneof(
              fc.constantFrom(
                'connection_reset',
                'empty_reply',
                'malformed_json',
                'html_502',
                'unavailable_503',
              ),
              anyText(10),
            ),
          },
          { requiredKeys: ['type'] },
        ),
        fc.record(
          {
            type: fc.constant('acquirer_outcome'),
            code: fc.oneof(fc.constantFrom('05', '-19', '1A', '00'), anyText(5)),
            three_ds: fc.constantFrom('frictionless', 'challenge', 'x'),
            shopper: fc.constantFrom('timeout', 'abandon', 'x'),
          },
          { requiredKeys: ['type'] },
        ),
        fc.record(
          {
            type: fc.constant('callback'),
            action: fc.oneof(
              fc.constantFrom(
                'drop',
                'duplicate',
                'delay',
                'out_of_order',
                'extra_fields',
                'slow_cadence',
                'fail_first',
              ),
              anyText(8),
            ),
            factor: oddNumber,
            attempts: oddNumber,
          },
          { requiredKeys: ['type'] },
        ),
        fc.record({ type: anyText(15) }),
        wrongType,
      );
      const step = fc.record(
        {
          match: fc.record(
            {
              endpoint: fc.oneof(
                fc.constantFrom('create', 'status', 'pay', 'callback', 'refund'),
                anyText(8),
              ),
              order_id: fc.oneof(fc.constantFrom('^x', '.*', '(', '[', 'a{2,1}', '\\'), anyText(12)),
              amount: oddNumber,
              card: fc.oneof(fc.constantFrom('4405', '5522 0427'), anyText(6)),
              app_id: anyText(10),
            },
            { requiredKeys: [] },
          ),
          times: fc.oneof(fc.constantFrom(1, 3, 'always'), oddNumber, anyText(5)),
          effect,
        },
        { requiredKeys: [] },
      );
      const definition = fc.record(
        {
          name: fc.oneof(
            fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
            anyText(20),
            fc.constant('flaky-create'),
          ),
          description: fc.oneof(anyText(40), wrongType),
          tags: fc.oneof(fc.array(anyText(8), { maxLength: 3 }), wrongType),
          reproduces: fc.array(fc.oneof(fc.integer(), anyText(8)), { maxLength: 3 }),
          steps: fc.oneof(fc.array(step, { maxLength: 3 }), wrongType),
        },
        { requiredKeys: [] },
      );
      const call = fc.oneof(
        {
          weight: 4,
          arbitrary: definition.map((d) => ({
            method: 'POST' as const,
            url: '/__admin/scenarios',
            body: d as unknown,
          })),
        },
        {
          weight: 2,
          arbitrary: fc
            .oneof(
              fc.record({
                name: fc.oneof(
                  fc.constantFrom('flaky-create', 'callback-duplicate', 'nope'),
                  anyText(10),
                  wrongType,
                ),
              }),
              fc.record({ scenario: definition }),
              fc.jsonValue({ maxDepth: 2 }),
            )
            .map((b) => ({
              method: 'PUT' as const,
              url: `/__admin/merchants/${target}/scenario`,
              body: b as unknown,
            })),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            {
              method: 'DELETE' as const,
              url: `/__admin/merchants/${target}/scenario`,
              body: undefined as unknown,
            },
            { method: 'POST' as const, url: '/__admin/scenarios/reset', body: undefined as unknown },
            { method: 'GET' as const, url: '/__admin/scenarios', body: undefined as unknown },
            {
              method: 'PUT' as const,
              url: '/__admin/merchants/0123456789abcdef0123456789abcdef/scenario',
              body: { name: 'flaky-create' } as unknown,
            },
          ),
        },
      );
      await runTarget({
        target: 'admin scenarios',
        app,
        runs: RUNS,
        seed: 703,
        arbitrary: fc.tuple(call, how, contentTypes),
        run: async ([c, h, ct]) => checkAdminResponse(await send(app, c.method, c.url, c.body, h, ct)),
      });
    },
  );

  it(`admin list query strings and ids (${RUNS} runs)`, { timeout: fuzzTimeout(RUNS) }, async () => {
    const app = await sandbox();
    const value = fc.oneof(
      fc.constantFrom(
        '',
        '0',
        '1',
        '1000',
        '1001',
        '-1',
        '1.5',
        'NaN',
        '2026-01-01T00:00:00+06:00',
        'pending',
        'acknowledged',
        APP_ID,
      ),
      anyText(20),
    );
    const qs = fc.array(
      fc.tuple(
        fc.constantFrom('app_id', 'order_id', 'transaction_hash', 'since', 'limit', 'status', 'state', 'x'),
        value,
      ),
      { maxLength: 5 },
    );
    const path = fc.constantFrom(
      '/__admin/journal',
      '/__admin/transactions',
      '/__admin/callbacks',
      '/__admin/transactions/:id',
      '/__admin/callbacks/:id',
      '/__admin/transactions/:id/callbacks',
      '/__admin/test-cards',
      '/__admin/health',
    );
    const enc = (s: string) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?'));
    await runTarget({
      target: 'admin query strings',
      app,
      runs: RUNS,
      seed: 704,
      arbitrary: fc.tuple(path, qs, anyText(50), fc.boolean()),
      run: async ([p, q, id, post]) => {
        const url = `${p.replace(':id', enc(id) || 'x')}?${q.map(([k, v]) => `${k}=${enc(v)}`).join('&')}`;
        checkAdminResponse(await app.inject({ method: 'GET', url }));
        if (post) {
          checkAdminResponse(
            await app.inject({ method: 'POST', url: `/__admin/callbacks/${enc(id) || 'x'}/redeliver` }),
          );
          checkAdminResponse(await app.inject({ method: 'POST', url: '/__admin/callbacks/flush' }));
        }
      },
    });
  });
});
