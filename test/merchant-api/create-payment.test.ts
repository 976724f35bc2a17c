import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { cryptoReady, generateKeypair, sealToBase64 } from '../../mock-server/crypto/sealed-box.js';
import {
  addMerchant,
  API,
  APP_ID,
  buildTestApp,
  nextOrderId,
  orderPayload,
  postCreate,
  seal,
} from '../helpers/sandbox.js';

const registry = createSchemaRegistry();
const entry = (code: number) => errorCatalog.ktpay.find((e) => e.code === code)!;

/** Asserts a reference-dialect error with the documented message and hint, and its contract. */
function expectReferenceError(res: { statusCode: number; json(): unknown }, code: number) {
  const body = res.json() as { success: boolean; error: { code: number; message: string; hint: string } };
  expect(res.statusCode).toBe(Number(String(code).slice(0, 3)));
  expect(res.statusCode).toBeLessThan(500);
  expect(body.success).toBe(false);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toBe(entry(code).message);
  expect(body.error.hint.startsWith(entry(code).hint)).toBe(true);
  const validate = registry.validator('referenceError');
  expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
  return body;
}

describe('POST /payment (reference dialect, built-in merchant)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(() => app.close());

  for (const contentType of ['text/plain', 'application/json', 'application/octet-stream', undefined]) {
    it(`accepts a sealed order sent with Content-Type ${contentType ?? '(none)'}`, async () => {
      const res = await postCreate(app, await seal(orderPayload()), { 'content-type': contentType });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(Object.keys(body)).toEqual(['success', 'payload']);
      expect(body.success).toBe(true);
      expect(Object.keys(body.payload).sort()).toEqual(['show_close_button', 'transaction_hash']);
      expect(body.payload.transaction_hash).toMatch(/^[0-9a-f]{40}$/);
      expect(body.payload.show_close_button).toBe(true);
      expect(registry.validator('referenceSuccess')(body)).toBe(true);
      expect(registry.validator('createPaymentResult')(body.payload)).toBe(true);
      const tx = (await app.sandbox.payments.get(body.payload.transaction_hash))!;
      expect(tx.status).toBe('pending');
    });
  }

  it('accepts a body wrapped in whitespace and newlines', async () => {
    const res = await postCreate(app, `\n  ${await seal(orderPayload())}\r\n\n`);
    expect(res.statusCode).toBe(200);
  });

  it('echoes show_close_button=false from the order', async () => {
    const res = await postCreate(app, await seal(orderPayload({ show_close_button: false })));
    expect(res.json().payload.show_close_button).toBe(false);
  });

  it('answers 4220101 for an empty body', async () => {
    expectReferenceError(await postCreate(app, ''), 4220101);
  });

  it('answers 4220101 for a body that is not base64', async () => {
    expectReferenceError(await postCreate(app, 'this is not base64 at all!'), 4220101);
  });

  it('answers 4220101 for URL-safe base64 and names the variant in the hint', async () => {
    let urlSafe = '';
    for (let i = 0; i < 50 && !/[-_]/.test(urlSafe); i++) {
      urlSafe = (await seal(orderPayload())).replace(/\+/g, '-').replace(/\//g, '_');
    }
    const body = expectReferenceError(await postCreate(app, urlSafe), 4220101);
    expect(body.error.hint).toContain('ORIGINAL');
  });

  it('answers 4220102 for a body sealed to a foreign key', async () => {
    await cryptoReady();
    const foreign = generateKeypair();
    const body = expectReferenceError(
      await postCreate(app, sealToBase64(JSON.stringify(orderPayload()), foreign.publicKey)),
      4220102,
    );
    expect(body.error.hint).toContain('is app_key set to');
  });

  it('answers 4220101 for plaintext that is not a JSON object', async () => {
    for (const plaintext of ['[1,2,3]', '"a string"', '42', 'not json {', 'null']) {
      expectReferenceError(await postCreate(app, await seal(plaintext)), 4220101);
    }
  });

  it('answers 4220103 with validation.app_id when Auth-Identifier is missing or unknown', async () => {
    const sealed = await seal(orderPayload());
    for (const id of [undefined, 'ffffffffffffffffffffffffffffffff', '']) {
      const body = expectReferenceError(
        await postCreate(app, sealed, { 'auth-identifier': id }),
        4220103,
      ) as unknown as {
        error: { validation: Record<string, string[]> };
      };
      expect(body.error.validation).toEqual({
        app_id: ['Неверный/несуществующий идентификатор приложения мерчанта.'],
      });
    }
  });

  it('answers 4220002 naming each bad field as an array of strings', async () => {
    const res = await postCreate(
      app,
      await seal({ order: { amount: -5, type: 'barter', description: 42, callback_post_url: 'not a url' } }),
    );
    const body = expectReferenceError(res, 4220002) as unknown as {
      error: { validation: Record<string, string[]> };
    };
    expect(Object.keys(body.error.validation).sort()).toEqual(
      ['order.amount', 'order.callback_post_url', 'order.description', 'order.order_id', 'order.type'].sort(),
    );
    expect(body.error.validation['order.order_id']).toEqual(['Обязательное поле.']);
    for (const list of Object.values(body.error.validation)) {
      expect(list.length).toBeGreaterThan(0);
      for (const m of list) expect(typeof m).toBe('string');
    }
  });

  it('rejects amounts with more than two decimals and accepts two', async () => {
    expectReferenceError(await postCreate(app, await seal(orderPayload({ amount: 10.001 }))), 4220002);
    expect((await postCreate(app, await seal(orderPayload({ amount: 10.01 })))).statusCode).toBe(200);
  });

  it('requires service when type=service, and accepts service_id as string or number', async () => {
    const res = await postCreate(app, await seal(orderPayload({ type: 'service' })));
    const body = expectReferenceError(res, 4220002) as unknown as {
      error: { validation: Record<string, string[]> };
    };
    expect(body.error.validation['order.service']).toEqual(['Обязательное поле.']);
    for (const service_id of ['1', 1]) {
      const ok = await postCreate(
        app,
        await seal(orderPayload({ type: 'service', service: { service_id, contract_value: '17-25022' } })),
      );
      expect(ok.statusCode).toBe(200);
    }
  });

  it('answers 4220002 on order.order_id for a duplicate order_id', async () => {
    const order_id = nextOrderId('dup');
    expect((await postCreate(app, await seal(orderPayload({ order_id })))).statusCode).toBe(200);
    const body = expectReferenceError(
      await postCreate(app, await seal(orderPayload({ order_id }))),
      4220002,
    ) as unknown as {
      error: { validation: Record<string, string[]> };
    };
    expect(body.error.validation).toEqual({ 'order.order_id': ['Заказ с таким order_id уже существует.'] });
  });

  it("answers 4220002 for a callback URL outside the merchant's domains, and allows subdomains and ports", async () => {
    const bad = await postCreate(
      app,
      await seal(orderPayload({ callback_post_url: 'https://evil.example.com/cb' })),
    );
    const body = expectReferenceError(bad, 4220002) as unknown as {
      error: { validation: Record<string, string[]> };
    };
    expect(Object.keys(body.error.validation)).toEqual(['order.callback_post_url']);
    const ok = await postCreate(
      app,
      await seal(
        orderPayload({
          callback_post_url: 'https://pay.shop.example.kz:8443/cb',
          callback_success_url: 'http://localhost:3000/ok',
        }),
      ),
    );
    expect(ok.statusCode).toBe(200);
  });

  it('refuses a link-local callback_post_url at creation time', async () => {
    const res = await postCreate(
      app,
      await seal(orderPayload({ callback_post_url: 'http://169.254.169.254/latest' })),
    );
    expectReferenceError(res, 4220002);
  });

  it('accepts unknown fields and records them as contract warnings in the journal', async () => {
    const order_id = nextOrderId('warn');
    const res = await postCreate(
      app,
      await seal(orderPayload({ order_id, currency: 'KZT' }, { extra: true })),
    );
    expect(res.statusCode).toBe(200);
    const journal = await app.inject({ url: `/__admin/journal?order_id=${order_id}` });
    const [last] = journal.json().entries;
    expect([...last.verdict.contract_warnings].sort()).toEqual([
      'unknown field extra: not in the ktpay contract, ignored',
      'unknown field order.currency: not in the ktpay contract, ignored',
    ]);
  });

  it('answers a 5 MiB body with 413 / 4130120, never a 5xx', async () => {
    const res = await postCreate(app, 'A'.repeat(5 * 1024 * 1024));
    expect(res.statusCode).toBe(413);
    expectReferenceError(res, 4130120);
  });

  it('journals the decrypted payload of the last request', async () => {
    const payload = orderPayload({ description: 'Журнал' });
    await postCreate(app, await seal(payload), { 'x-trace': 'abc' });
    const journal = await app.inject({ url: `/__admin/journal?app_id=${APP_ID}&limit=1` });
    const [last] = journal.json().entries;
    expect(last.decrypted).toEqual(payload);
    expect(last.order_id).toBe(payload.order.order_id);
    expect(last.method).toBe('POST');
    expect(last.path).toBe(`${API}/payment`);
    expect(last.headers['x-trace']).toBe('abc');
    expect(last.raw_body_size).toBeGreaterThan(100);
    expect(last.verdict).toMatchObject({ ok: true, error_code: null });
    expect(last.response.status).toBe(200);
    expect(last.response.body.payload.transaction_hash).toMatch(/^[0-9a-f]{40}$/);
  });

  it('journals failures with their code and a plain-words explanation', async () => {
    await postCreate(app, 'garbage!!', { 'x-trace': 'fail' });
    const [last] = (await app.inject({ url: `/__admin/journal?limit=1` })).json().entries;
    expect(last.verdict.error_code).toBe(4220101);
    expect(last.verdict.explanation).toBe('the body is not base64 text (character "!", U+0021, at 7)');
    expect(last.decrypted).toBeNull();
  });
});

describe('merchants created at runtime', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp();
    await cryptoReady();
  });
  afterAll(() => app.close());

  async function createMerchant(extra: Record<string, unknown>) {
    const merchant = await addMerchant(app, extra);
    expect(registry.validator('merchantView')(merchant)).toBe(true);
    return merchant;
  }

  it('serves exactly the widget dialect shapes to an envelope:"widget" merchant', async () => {
    const m = await createMerchant({ envelope: 'widget' });
    const ok = await postCreate(app, await seal(orderPayload(), m.app_key), { 'auth-identifier': m.app_id });
    expect(ok.statusCode).toBe(200);
    const body = ok.json();
    expect(body).toEqual({
      error: [],
      response: {
        success: true,
        data: { transaction_hash: expect.stringMatching(/^[0-9a-f]{40}$/), show_close_button: true },
      },
    });
    expect(registry.validator('widgetSuccess')(body)).toBe(true);

    const bad = await postCreate(app, 'garbage!!', { 'auth-identifier': m.app_id });
    expect(bad.statusCode).toBe(422);
    const err = bad.json();
    expect(registry.validator('widgetError')(err)).toBe(true);
    expect(err).toMatchObject({
      success: false,
      data: [],
      error: { code: 4220101, messages: { error: entry(4220101).message } },
      response: { success: false, data: [] },
    });

    const invalid = await postCreate(app, await seal({ order: { amount: 'x' } }, m.app_key), {
      'auth-identifier': m.app_id,
    });
    const inv = invalid.json();
    expect(registry.validator('widgetError')(inv)).toBe(true);
    expect(inv.error.code).toBe(4220002);
    expect(inv.error.messages['order.amount']).toEqual(expect.any(String));
    expect(inv.error.messages['order.order_id']).toBe('Обязательное поле.');
  });

  it('answers 4010103 for an unknown app_id when the default dialect is widget', async () => {
    const widgetApp = await buildTestApp({ envelope: 'widget' });
    try {
      const res = await postCreate(widgetApp, await seal(orderPayload()), { 'auth-identifier': 'nope' });
      expect(res.statusCode).toBe(401);
      const body = res.json();
      expect(registry.validator('widgetError')(body)).toBe(true);
      expect(body.error.code).toBe(4010103);
      expect(body.error.messages.error).toBe(entry(4010103).message);
      expect(body.error.hint.startsWith(entry(4010103).hint)).toBe(true);
    } finally {
      await widgetApp.close();
    }
  });

  it('uses English field messages for locale:"en" and keeps documented texts Russian', async () => {
    const m = await createMerchant({ locale: 'en' });
    const res = await postCreate(app, await seal({ order: { amount: 1 } }, m.app_key), {
      'auth-identifier': m.app_id,
    });
    const body = res.json();
    expect(body.error.message).toBe(entry(4220002).message);
    expect(body.error.validation['order.order_id']).toEqual(['This field is required.']);
  });

  it('accepts a request sealed to any live key and answers 4220104 for an expired one', async () => {
    const current = generateKeypair();
    const old = generateKeypair();
    const expired = generateKeypair();
    const m = await createMerchant({
      server_keys: [
        { public_key: current.publicKey, secret_key: current.secretKey },
        { public_key: old.publicKey, secret_key: old.secretKey, expires_at: '2999-01-01T00:00:00Z' },
        { public_key: expired.publicKey, secret_key: expired.secretKey, expires_at: '2020-01-01T00:00:00Z' },
      ],
    });
    expect(m.app_key).toBe(current.publicKey);
    for (const key of [current, old]) {
      const ok = await postCreate(app, await seal(orderPayload(), key.publicKey), {
        'auth-identifier': m.app_id,
      });
      expect(ok.statusCode).toBe(200);
    }
    const res = await postCreate(app, await seal(orderPayload(), expired.publicKey), {
      'auth-identifier': m.app_id,
    });
    expectReferenceError(res, 4220104);
  });

  it('never shows secret keys in GET /__admin/merchants', async () => {
    await createMerchant({});
    const res = await app.inject({ url: '/__admin/merchants' });
    expect(res.body).not.toContain('secret');
    for (const m of res.json().merchants) expect(registry.validator('merchantView')(m)).toBe(true);
  });

  it('rejects a merchant whose public_key is not 32 bytes, naming the field', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/__admin/merchants',
      payload: { name: 'x', domains: ['x.kz'], public_key: Buffer.alloc(16).toString('base64') },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe(4220122);
    expect(Object.keys(res.json().error.validation)).toEqual(['public_key']);
  });

  it('deletes a merchant, after which its app_id is unknown', async () => {
    const m = await createMerchant({});
    expect((await app.inject({ method: 'DELETE', url: `/__admin/merchants/${m.app_id}` })).statusCode).toBe(
      200,
    );
    const res = await postCreate(app, await seal(orderPayload(), m.app_key), { 'auth-identifier': m.app_id });
    expect(res.json().error.code).toBe(4220103);
    expect((await app.inject({ method: 'DELETE', url: `/__admin/merchants/${m.app_id}` })).statusCode).toBe(
      404,
    );
  });
});
