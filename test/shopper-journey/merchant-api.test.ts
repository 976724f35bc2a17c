import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { bankNoticeXml } from '../../mock-server/acquirer/bank-documents.js';
import { APP_ID, buildTestApp, createPayment, seal, orderPayload, postCreate } from '../helpers/sandbox.js';
import { adminTx, AUTH, card, followRedirects, pathOf, postForm } from './journey.js';

const API = '/api/v1/merchant-widget';
const { validator } = createSchemaRegistry();
const OWN_KEY = '0X/Tkqu9KnZDgKEJb7LUgoIFOrZgvk2Z4XPYoLvVC3Y=';

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp({ clearing_delay_ms: 'manual' });
});
afterAll(async () => {
  await app.close();
});

function expectValid(schema: Parameters<typeof validator>[0], value: unknown) {
  const v = validator(schema);
  expect(v(value), JSON.stringify(v.errors)).toBe(true);
}

async function pay(hash: string, body: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: `/__admin/transactions/${hash}/pay`, payload: body });
}

describe('GET /payment/{hash}: status', () => {
  it('returns the documented status object (spec §10) for the owning merchant, in each state', async () => {
    const hash = await createPayment(app, { description: 'Статус' });
    const pending = await app.inject({ method: 'GET', url: `${API}/payment/${hash}`, headers: AUTH });
    expect(pending.statusCode).toBe(200);
    const body = pending.json() as { success: boolean; payload: Record<string, unknown> };
    expectValid('referenceSuccess', body);
    expectValid('paymentStatus', body.payload);
    expect(body.payload).toMatchObject({
      merchant_id: 1,
      description: 'Статус',
      amount: 1000,
      transaction_hash: hash,
      updated_at: null,
      status: { status: 'pending', updated_at: null, error: null },
    });

    await pay(hash, card({ pan: '4000000000009995' }));
    const failed = (
      await app.inject({ method: 'GET', url: `${API}/payment/${hash}`, headers: AUTH })
    ).json() as {
      payload: { status: { status: string; error: unknown }; updated_at: string };
    };
    expectValid('paymentStatus', failed.payload);
    expect(failed.payload.status).toMatchObject({
      status: 'error',
      error: { error_type: 'ERROR_PAYMENT', error_message: 'Недостаточно средств на карте.' },
    });
    expect(failed.payload.updated_at).toMatch(/\+06:00$/);
  });

  it('is 4040108 for another merchant, an unknown hash or a malformed one; 4220103 without Auth-Identifier', async () => {
    const hash = await createPayment(app);
    const other = await app.sandbox.merchants.create({
      name: 'Other',
      domains: ['other.kz'],
      public_key: OWN_KEY,
    });
    for (const [url, headers] of [
      [`${API}/payment/${hash}`, { 'auth-identifier': other.app_id }],
      [`${API}/payment/${'0'.repeat(40)}`, AUTH],
      [`${API}/payment/not-a-hash`, AUTH],
    ] as const) {
      const res = await app.inject({ method: 'GET', url, headers });
      expect(res.statusCode, url).toBe(404);
      expectValid('referenceError', res.json());
      expect(res.json()).toMatchObject({
        success: false,
        error: { code: 4040108, message: 'Транзакция не найдена.' },
      });
    }
    const anonymous = await app.inject({ method: 'GET', url: `${API}/payment/${hash}` });
    expect(anonymous.json()).toMatchObject({ error: { code: 4220103 } });
  });

  it('answers in the widget dialect for a widget merchant', async () => {
    const m = await app.sandbox.merchants.create({
      name: 'W',
      domains: ['localhost'],
      public_key: OWN_KEY,
      envelope: 'widget',
    });
    const { tx } = await app.sandbox.payments.create(m, orderPayload());
    const res = await app.inject({
      method: 'GET',
      url: `${API}/payment/${tx.hash}`,
      headers: { 'auth-identifier': m.app_id },
    });
    const body = res.json() as { response: { data: unknown } };
    expectValid('widgetSuccess', body);
    expectValid('paymentStatus', body.response.data);
  });

  it('is journaled', async () => {
    const hash = await createPayment(app);
    await app.inject({ method: 'GET', url: `${API}/payment/${hash}`, headers: AUTH });
    const j = await app.inject({ method: 'GET', url: `/__admin/journal?transaction_hash=${hash}` });
    const entries = (j.json() as { entries: { method: string; path: string }[] }).entries;
    expect(entries.some((e) => e.method === 'GET' && e.path === `${API}/payment/${hash}`)).toBe(true);
  });
});

describe('acquirer-options v2', () => {
  it('returns a payment_page that loads the bank card page', async () => {
    const hash = await createPayment(app);
    const res = await app.inject({ method: 'GET', url: `${API}/payment/${hash}/acquirer-options` });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { payload: { payment_page: string } };
    expectValid('acquirerOptionsV2', body.payload);
    expect(body.payload.payment_page).toBe(`http://localhost:80/acquirer/payform?params=${hash}`);
    const page = await app.inject({ method: 'GET', url: pathOf(body.payload.payment_page) });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="pan"');
  });

  it('uses PUBLIC_URL, else the forwarded or direct origin', async () => {
    const withPublic = await buildTestApp({ public_url: 'https://sandbox.example.kz' });
    try {
      const hash = await createPayment(withPublic);
      const res = await withPublic.inject({ method: 'GET', url: `${API}/payment/${hash}/acquirer-options` });
      expect((res.json() as { payload: { payment_page: string } }).payload.payment_page).toBe(
        `https://sandbox.example.kz/acquirer/payform?params=${hash}`,
      );
    } finally {
      await withPublic.close();
    }
    const hash = await createPayment(app);
    const proxied = await app.inject({
      method: 'GET',
      url: `${API}/payment/${hash}/acquirer-options`,
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'pay.shop.kz' },
    });
    expect((proxied.json() as { payload: { payment_page: string } }).payload.payment_page).toBe(
      `https://pay.shop.kz/acquirer/payform?params=${hash}`,
    );
  });

  it('is 4040108 for an unknown hash or another merchant’s Auth-Identifier', async () => {
    const hash = await createPayment(app);
    const other = await app.sandbox.merchants.create({ name: 'O2', domains: ['o2.kz'], public_key: OWN_KEY });
    const res = await app.inject({
      method: 'GET',
      url: `${API}/payment/${hash}/acquirer-options`,
      headers: { 'auth-identifier': other.app_id },
    });
    expect(res.json()).toMatchObject({ error: { code: 4040108 } });
    const unknown = await app.inject({
      method: 'GET',
      url: `${API}/payment/${'a'.repeat(40)}/acquirer-options`,
    });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('acquirer-options v1 and the legacy form flow', () => {
  let v1: Awaited<ReturnType<FastifyInstance['sandbox']['merchants']['create']>>;
  beforeAll(async () => {
    v1 = await app.sandbox.merchants.create({
      name: 'Legacy & Co',
      domains: ['localhost', 'legacy.kz'],
      public_key: OWN_KEY,
      acquirer_options_version: 1,
      callback_failed_url: 'http://legacy.kz/failed',
    });
  });

  async function create(order: Record<string, unknown> = {}) {
    return (await app.sandbox.payments.create(v1, orderPayload(order))).tx;
  }

  async function options(hash: string) {
    const res = await app.inject({
      method: 'GET',
      url: `${API}/payment/${hash}/acquirer-options`,
      headers: { 'auth-identifier': v1.app_id },
    });
    expect(res.statusCode).toBe(200);
    return (res.json() as { payload: Record<string, string> }).payload;
  }

  it('returns every documented field; signed_order decodes to the documented XML shape', async () => {
    const tx = await create({ amount: 1500.5, callback_success_url: 'http://legacy.kz/ok' });
    const o = await options(tx.hash);
    expectValid('acquirerOptionsV1', o);
    expect(Object.keys(o).sort()).toEqual(
      [
        'action',
        'back_link',
        'callback_back_url',
        'callback_failed_url',
        'callback_success_url',
        'language',
        'post_link',
        'signed_order',
        'template',
      ].sort(),
    );
    expect(o).toMatchObject({
      callback_success_url: 'http://legacy.kz/ok',
      callback_failed_url: 'http://legacy.kz/failed',
      callback_back_url: `http://localhost:80/payment-card/done?hash=${tx.hash}`,
      action: 'http://localhost:80/acquirer/epay/logon',
      language: 'rus',
      post_link: `http://localhost:80${API}/payment/${tx.hash}/post-link`,
      back_link: `http://localhost:80${API}/payment/${tx.hash}/back-link`,
      template: 'ktwidget_pay_kt.xsl',
    });
    const xml = Buffer.from(o.signed_order!, 'base64').toString('utf8');
    expect(xml).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?><document><merchant cert_id="[0-9a-f]{8}" name="Legacy &amp; Co"><order order_id="\d{6,}" amount="1500\.50" currency="398"><department merchant_id="\d{8}" amount="1500\.50" abonent_id="1"\/><\/order><\/merchant><merchant_sign type="RSA">[A-Za-z0-9+/]+=*<\/merchant_sign><\/document>$/,
    );
  });

  it('the form POST to action (multipart, as the iOS guide sends it) runs through the bank and the back-link', async () => {
    const tx = await create();
    const o = await options(tx.hash);
    const form = new FormData();
    form.set('Signed_Order_B64', o.signed_order!);
    form.set('email', 'info@ktpay.kz');
    form.set('Language', o.language!);
    form.set('BackLink', o.back_link!);
    form.set('PostLink', o.post_link!);
    form.set('template', o.template!);
    const encoded = new Response(form);
    const res = await app.inject({
      method: 'POST',
      url: pathOf(o.action),
      headers: { 'content-type': encoded.headers.get('content-type')! },
      payload: Buffer.from(await encoded.arrayBuffer()),
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/acquirer/payform?params=${tx.hash}`);
    const pagesAfter = await app.inject({ method: 'GET', url: pathOf(res.headers.location) });
    expect(pagesAfter.body).toContain('value="info@ktpay.kz"');
    const paid = await postForm(app, '/acquirer/payform', {
      params: tx.hash,
      ...card({ email: 'info@ktpay.kz' }),
    });
    expect(paid.headers.location).toBe(o.back_link);
    const { res: receipt } = await followRedirects(app, paid);
    expect(receipt.body).toContain('Оплата прошла успешно');
    const after = await adminTx(app, tx.hash);
    expect(after.status).toBe('success');
    expect(after.acquirer?.mode).toBe('v1');
    expect(after.acquirer?.notice).toContain('mail="info@ktpay.kz"');
  });

  it('only BackLink may change: a changed BackLink is where the bank returns the shopper', async () => {
    const tx = await create();
    const o = await options(tx.hash);
    const res = await postForm(app, '/acquirer/epay/logon', {
      Signed_Order_B64: o.signed_order!,
      email: 'a@b.kz',
      Language: 'rus',
      BackLink: 'http://legacy.kz/app-return',
      PostLink: o.post_link!,
      template: o.template!,
    });
    expect(res.statusCode).toBe(303);
    const declined = await postForm(app, '/acquirer/payform', {
      params: tx.hash,
      ...card({ pan: '4000000000000002' }),
    });
    expect(declined.headers.location).toBe('http://legacy.kz/app-return');
    expect((await adminTx(app, tx.hash)).status).toBe('error');
  });

  it('a changed signed order, Language, template or PostLink is refused (4220101) and the payment stays pending', async () => {
    const tx = await create();
    const o = await options(tx.hash);
    const base = {
      Signed_Order_B64: o.signed_order!,
      email: '',
      Language: 'rus',
      BackLink: o.back_link!,
      PostLink: o.post_link!,
      template: o.template!,
    };
    const tampered = Buffer.from(
      Buffer.from(o.signed_order!, 'base64')
        .toString()
        .replace(/amount="1000"/g, 'amount="1"'),
    ).toString('base64');
    for (const change of [
      { Signed_Order_B64: tampered },
      { Language: 'eng' },
      { template: 'other.xsl' },
      { PostLink: 'http://evil.kz/post' },
      { BackLink: 'javascript:alert(1)' },
    ]) {
      const res = await postForm(app, '/acquirer/epay/logon', { ...base, ...change });
      expect(res.statusCode, JSON.stringify(change)).toBe(422);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('4220101');
    }
    expect((await adminTx(app, tx.hash)).status).toBe('pending');
  });
});

describe('post-link and back-link', () => {
  it('post-link accepts the bank notice again (idempotent) and refuses an altered or foreign one', async () => {
    const hash = await createPayment(app);
    const paid = (await pay(hash, card())).json() as { transaction: { acquirer: { notice: string } } };
    const notice = paid.transaction.acquirer.notice;
    const again = await postForm(app, `${API}/payment/${hash}/post-link`, { response: notice });
    expect(again.statusCode).toBe(200);
    expect(again.body).toBe('0');
    expect((await adminTx(app, hash)).history).toHaveLength(3);

    const altered = notice.replace('response_code="00"', 'response_code="05"');
    const bad = await postForm(app, `${API}/payment/${hash}/post-link`, { response: altered });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ error: { code: 4220101 } });

    const other = await createPayment(app);
    const foreign = await app.inject({
      method: 'POST',
      url: `${API}/payment/${other}/post-link`,
      headers: { 'content-type': 'text/xml' },
      payload: notice,
    });
    expect(foreign.statusCode).toBe(422);
    expect((await adminTx(app, other)).status).toBe('pending');

    const empty = await postForm(app, `${API}/payment/${hash}/post-link`, {});
    expect(empty.json()).toMatchObject({ error: { code: 4220101 } });
  });

  it('a bank-signed notice for a pending payment applies it, exactly as the bank page does', async () => {
    const hash = await createPayment(app);
    const tx = (await app.sandbox.store.getTransaction(hash))!;
    const merchant = (await app.sandbox.store.getMerchant(APP_ID))!;
    const notice = bankNoticeXml(tx, merchant, {
      response_code: '61',
      card: {
        masked: '411111******1111',
        brand: 'visa',
        cardholder: 'A B',
        exp_month: '12',
        exp_year: '2030',
      },
      email: '',
      three_ds: 'frictionless',
      reference: '000000000001',
      approval_code: '',
      at: Date.now(),
    });
    const res = await app.inject({
      method: 'POST',
      url: `${API}/payment/${hash}/post-link`,
      headers: { 'content-type': 'text/xml' },
      payload: notice,
    });
    expect(res.statusCode).toBe(200);
    const after = await adminTx(app, hash);
    expect(after.status).toBe('error');
    expect(after.error).toEqual({
      error_type: 'ERROR_PAYMENT',
      error_message: 'Сумма превышает допустимый лимит.',
      code: '61',
    });
    expect(after.card?.masked).toBe('411111******1111');
  });

  it('back-link of a pending payment leads to the back URL; of a paid one to the receipt', async () => {
    const hash = await createPayment(app, { callback_back_url: 'http://shop.example.kz/b' });
    const pending = await app.inject({ method: 'GET', url: `${API}/payment/${hash}/back-link` });
    expect(pending.headers.location).toBe('http://shop.example.kz/b');
    await pay(hash, card());
    const paid = await app.inject({ method: 'GET', url: `${API}/payment/${hash}/back-link` });
    expect(paid.headers.location).toBe(`/payment-card/receipt?hash=${hash}`);
  });
});

describe('create-payment from the browser', () => {
  it('a sealed create through the API works with the status endpoint afterwards', async () => {
    const res = await postCreate(app, await seal(orderPayload({ order_id: 'status-check-1' })));
    const hash = (res.json() as { payload: { transaction_hash: string } }).payload.transaction_hash;
    const status = await app.inject({
      method: 'GET',
      url: `${API}/payment/${hash}`,
      headers: { 'auth-identifier': APP_ID },
    });
    expect((status.json() as { payload: { order_id: string } }).payload.order_id).toBe('status-check-1');
  });
});
