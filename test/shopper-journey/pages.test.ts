import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeButtonParam } from '../../mock-server/routes/widget-pages.js';
import { APP_ID, buildTestApp, createPayment } from '../helpers/sandbox.js';
import { adminTx, card, followRedirects, pathOf, postForm } from './journey.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp({ clearing_delay_ms: 'manual' });
});
afterAll(async () => {
  await app.close();
});

async function openBank(hash: string, query = '') {
  const widget = await app.inject({ method: 'GET', url: `/payment-card?hash=${hash}${query}` });
  expect(widget.statusCode).toBe(303);
  expect(widget.headers.location).toBe(`/acquirer/payform?params=${hash}`);
  return app.inject({ method: 'GET', url: pathOf(widget.headers.location) });
}

describe('the widget page /payment-card', () => {
  it('understands show_close_button=false, show_close_buttonfalse (the public client quirk) and their true forms', () => {
    expect(closeButtonParam({ show_close_button: 'false' })).toBe(false);
    expect(closeButtonParam({ show_close_buttonfalse: '' })).toBe(false);
    expect(closeButtonParam({ show_close_button: 'true' })).toBe(true);
    expect(closeButtonParam({ show_close_buttontrue: '' })).toBe(true);
    expect(closeButtonParam({})).toBeUndefined();
  });

  it('sends a pending payment to the bank card page, with the close button as the URL says', async () => {
    const hash = await createPayment(app, { description: 'Кофе и круассан' });
    const shown = await openBank(hash, '&show_close_buttontrue');
    expect(shown.statusCode).toBe(200);
    expect(shown.headers['content-type']).toMatch(/^text\/html/);
    expect(shown.body).toContain('<title>Оплата картой — эмулятор банка</title>');
    expect(shown.body).toContain('Тестовый магазин');
    expect(shown.body).toContain('1\u00a0000\u00a0₸');
    expect(shown.body).toContain('Кофе и круассан');
    expect(shown.body).toContain(`href="/payment-card/close?hash=${hash}"`);
    for (const name of ['pan', 'exp_month', 'exp_year', 'cvc', 'cardholder', 'email']) {
      expect(shown.body).toContain(`<label for="${name}">`);
      expect(shown.body).toContain(`name="${name}"`);
    }

    const hidden = await openBank(hash, '&show_close_buttonfalse');
    expect(hidden.body).not.toContain('data-close');
    const hiddenEq = await openBank(hash, '&show_close_button=false');
    expect(hiddenEq.body).not.toContain('data-close');
  });

  it('without a flag in the URL, uses the show_close_button sent at create', async () => {
    const hash = await createPayment(app, { show_close_button: false });
    expect((await openBank(hash)).body).not.toContain('data-close');
    const shown = await createPayment(app);
    expect((await openBank(shown)).body).toContain('data-close');
  });

  it('answers an unknown or malformed hash with an HTML page carrying 4040108', async () => {
    for (const url of [
      '/payment-card?hash=' + 'f'.repeat(40),
      '/payment-card',
      '/payment-card?hash=<script>',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('4040108');
      expect(res.body).toContain('Транзакция не найдена.');
      expect(res.body).not.toContain('<script>');
    }
  });
});

describe('paying through the pages', () => {
  it('frictionless: the receipt shows the masked card and "Продолжить" leads to the sandbox default page', async () => {
    const hash = await createPayment(app);
    await openBank(hash);
    const post = await postForm(app, '/acquirer/payform', { params: hash, ...card() });
    expect(post.statusCode).toBe(303);
    const { res, chain } = await followRedirects(app, post);
    expect(chain[0]).toMatch(new RegExp(`/api/v1/merchant-widget/payment/${hash}/back-link$`));
    expect(chain.at(-1)).toBe(`/payment-card/receipt?hash=${hash}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<title>Чек об оплате — ktpay</title>');
    expect(res.body).toContain('Оплата прошла успешно');
    expect(res.body).toContain('440563******5096');
    expect(res.body).toContain('>Продолжить<');
    expect(res.body).toContain(`id="continue" href="http://localhost:80/payment-card/done?hash=${hash}"`);
    const tx = await adminTx(app, hash);
    expect(tx.history.map((h) => h.status)).toEqual(['pending', 'authorized', 'success']);
    const done = await app.inject({ method: 'GET', url: `/payment-card/done?hash=${hash}` });
    expect(done.body).toContain('Спасибо! Платёж принят');
    // the receipt links to the PDF, which is a real PDF for this paid payment
    expect(res.body).toContain(`id="receipt-pdf" href="/api/v1/merchant-widget/payment/${hash}/pdf"`);
    const pdf = await app.inject({ method: 'GET', url: `/api/v1/merchant-widget/payment/${hash}/pdf` });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
  });

  it('3DS: the ACS page asks for the OTP; 1111 approves', async () => {
    const hash = await createPayment(app);
    await openBank(hash);
    const post = await postForm(app, '/acquirer/payform', {
      params: hash,
      ...card({ pan: '5522 0427 0506 6736' }),
    });
    expect(post.headers.location).toBe(`/acquirer/3ds?params=${hash}`);
    const acs = await app.inject({ method: 'GET', url: pathOf(post.headers.location) });
    expect(acs.body).toContain('<title>3-D Secure — подтверждение платежа</title>');
    expect(acs.body).toContain('<label for="otp">');
    expect(acs.body).toContain('name="action" value="cancel"');
    expect(acs.body).toContain('552204******6736');
    expect((await adminTx(app, hash)).acquirer?.challenge_pending).toBe(true);
    const ok = await postForm(app, '/acquirer/3ds', { params: hash, otp: '1111', action: 'confirm' });
    const { res } = await followRedirects(app, ok);
    expect(res.body).toContain('Оплата прошла успешно');
    const tx = await adminTx(app, hash);
    expect(tx.status).toBe('success');
    expect(tx.acquirer?.notice).toContain('secure="Yes"');
  });

  it('3DS: a wrong OTP ends in 191 / ERROR_INPUT, and so does Cancel', async () => {
    for (const answer of [
      { otp: '0000', action: 'confirm' },
      { otp: '', action: 'cancel' },
    ]) {
      const hash = await createPayment(app);
      await openBank(hash);
      await postForm(app, '/acquirer/payform', { params: hash, ...card({ pan: '5522042705066736' }) });
      const res = await postForm(app, '/acquirer/3ds', { params: hash, ...answer });
      const { res: receipt } = await followRedirects(app, res);
      expect(receipt.body).toContain('Оплата не прошла');
      expect(receipt.body).toContain('3DSecure/Securecode не введен или введен неверно.');
      const tx = await adminTx(app, hash);
      expect(tx.status).toBe('error');
      expect(tx.error).toEqual({
        error_type: 'ERROR_INPUT',
        error_message: '3DSecure/Securecode не введен или введен неверно.',
        code: '191',
      });
    }
  });

  it('a Luhn-invalid PAN or a past expiry shows the form again with inline errors; the payment stays pending; a retry succeeds', async () => {
    const hash = await createPayment(app);
    await openBank(hash);
    const bad = await postForm(app, '/acquirer/payform', {
      params: hash,
      ...card({
        pan: '4405 6397 0401 5097',
        exp_month: '01',
        exp_year: '2020',
        cardholder: 'Иван <b>Иванов</b>',
      }),
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.body).toContain('Недействительный номер карточки');
    expect(bad.body).toContain('(код 14)');
    expect(bad.body).toContain('Некорректно введен срок действия карты.');
    expect(bad.body).toContain('aria-invalid="true" aria-describedby="err-pan"');
    expect(bad.body).toContain('value="4405 6397 0401 5097"');
    expect(bad.body).toContain('value="Иван &lt;b&gt;Иванов&lt;/b&gt;"');
    expect(bad.body).not.toContain('<b>Иванов</b>');
    expect((await adminTx(app, hash)).status).toBe('pending');
    const good = await postForm(app, '/acquirer/payform', { params: hash, ...card() });
    expect(good.statusCode).toBe(303);
    const tx = await adminTx(app, hash);
    expect(tx.status).toBe('success');
    expect(tx.acquirer?.attempts).toBe(2);
  });

  it('a decline (51) ends in error / ERROR_PAYMENT with the catalog message on the receipt', async () => {
    const hash = await createPayment(app);
    await openBank(hash);
    const { res } = await followRedirects(
      app,
      await postForm(app, '/acquirer/payform', { params: hash, ...card({ pan: '4000 0000 0000 9995' }) }),
    );
    expect(res.body).toContain('Недостаточно средств на карте.');
    expect(res.body).toContain('(код 51)');
    expect(res.body).not.toContain('receipt-pdf');
    expect((await adminTx(app, hash)).error).toMatchObject({ error_type: 'ERROR_PAYMENT', code: '51' });
  });

  it('a paid transaction sends /payment-card and the bank page on to the receipt', async () => {
    const hash = await createPayment(app);
    await openBank(hash);
    await postForm(app, '/acquirer/payform', { params: hash, ...card() });
    const widget = await app.inject({ method: 'GET', url: `/payment-card?hash=${hash}` });
    expect(widget.headers.location).toBe(`/payment-card/receipt?hash=${hash}`);
    const again = await app.inject({ method: 'GET', url: `/acquirer/payform?params=${hash}` });
    expect(again.statusCode).toBe(303);
    expect(String(again.headers.location)).toMatch(/\/back-link$/);
    const resubmit = await postForm(app, '/acquirer/payform', {
      params: hash,
      ...card({ pan: '4000000000009995' }),
    });
    expect(resubmit.statusCode).toBe(303);
    expect((await adminTx(app, hash)).status).toBe('success');
  });
});

describe('redirect targets', () => {
  async function payAndReceipt(order: Record<string, unknown>, pan = '4405639704015096') {
    const hash = await createPayment(app, order);
    await openBank(hash);
    return {
      hash,
      ...(await followRedirects(
        app,
        await postForm(app, '/acquirer/payform', { params: hash, ...card({ pan }) }),
      )),
    };
  }

  it('"Продолжить" uses the transaction success/failed URL first', async () => {
    const ok = await payAndReceipt({
      callback_success_url: 'http://shop.example.kz/ok?a=1&b=2',
      callback_failed_url: 'http://shop.example.kz/fail',
      callback_back_url: 'http://shop.example.kz/back',
    });
    expect(ok.res.body).toContain('id="continue" href="http://shop.example.kz/ok?a=1&amp;b=2"');
    const fail = await payAndReceipt(
      {
        callback_success_url: 'http://shop.example.kz/ok',
        callback_failed_url: 'http://shop.example.kz/fail',
      },
      '4000000000000002',
    );
    expect(fail.res.body).toContain('id="continue" href="http://shop.example.kz/fail"');
  });

  it('falls back to the back URL, then to the merchant settings, then to the default page', async () => {
    const back = await payAndReceipt({ callback_back_url: 'http://shop.example.kz/back' });
    expect(back.res.body).toContain('id="continue" href="http://shop.example.kz/back"');
    const withMerchant = await buildTestApp({ clearing_delay_ms: 'manual' });
    try {
      await withMerchant.sandbox.merchants.update(APP_ID, (m) => ({
        ...m,
        callback_success_url: 'http://shop.example.kz/merchant-ok',
      }));
      const hash = await createPayment(withMerchant);
      await withMerchant.inject({ method: 'GET', url: `/payment-card?hash=${hash}` });
      const post = await postForm(withMerchant, '/acquirer/payform', { params: hash, ...card() });
      const { res } = await followRedirects(withMerchant, post);
      expect(res.body).toContain('id="continue" href="http://shop.example.kz/merchant-ok"');
    } finally {
      await withMerchant.close();
    }
  });

  it('a force URL skips the receipt page', async () => {
    const ok = await payAndReceipt({
      callback_force_success_url: 'http://shop.example.kz/force-ok',
      callback_success_url: 'http://shop.example.kz/ok',
    });
    expect(ok.chain.at(-1)).toBe('http://shop.example.kz/force-ok');
    expect(ok.chain.some((c) => c.includes('/receipt'))).toBe(false);
    const failed = await payAndReceipt(
      { callback_force_back_url: 'http://shop.example.kz/force-back' },
      '4000000000000119',
    );
    expect(failed.chain.at(-1)).toBe('http://shop.example.kz/force-back');
  });

  it('inside an iframe with JavaScript, a force URL goes through the postMessage exit page', async () => {
    const hash = await createPayment(app, { callback_force_failed_url: 'http://shop.example.kz/force-fail' });
    await openBank(hash);
    const post = await postForm(app, '/acquirer/payform', {
      params: hash,
      framed: '1',
      ...card({ pan: '5578342710750560' }),
    });
    const { res, chain } = await followRedirects(app, post);
    expect(chain.at(-1)).toBe(`/payment-card/redirect?hash=${hash}`);
    expect(res.body).toContain('id="exit" href="http://shop.example.kz/force-fail"');
    expect(res.body).toContain('data-exit');
    expect(res.body).toContain(
      '<noscript><meta http-equiv="refresh" content="0;url=http://shop.example.kz/force-fail"></noscript>',
    );
    expect((await adminTx(app, hash)).status).toBe('denied');
  });

  it('the close link without JavaScript leads to the back URL; the payment stays pending', async () => {
    const hash = await createPayment(app, { callback_back_url: 'http://shop.example.kz/catalog' });
    const res = await app.inject({ method: 'GET', url: `/payment-card/close?hash=${hash}` });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('http://shop.example.kz/catalog');
    expect((await adminTx(app, hash)).status).toBe('pending');
  });
});

describe('escaping', () => {
  it('merchant and shopper strings never become markup', async () => {
    const evil = '<img src=x onerror=alert(1)>"\'&';
    const m = await app.sandbox.merchants.create({
      name: `Shop ${evil}`,
      domains: ['localhost'],
      public_key: '0X/Tkqu9KnZDgKEJb7LUgoIFOrZgvk2Z4XPYoLvVC3Y=',
    });
    const { tx } = await app.sandbox.payments.create(m, {
      order: { amount: 10, order_id: `o-${evil}`, description: `d ${evil}` },
    });
    const page = await openBank(tx.hash);
    expect(page.body).not.toContain('<img src=x');
    expect(page.body).toContain('Shop &lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;');
    expect(page.body).toContain('o-&lt;img');
    await postForm(app, '/acquirer/payform', { params: tx.hash, ...card({ cardholder: evil }) });
    const receipt = await app.inject({ method: 'GET', url: `/payment-card/receipt?hash=${tx.hash}` });
    expect(receipt.body).not.toContain('<img src=x');
    expect(receipt.body).toContain('d &lt;img src=x');
  });
});

describe('static assets', () => {
  it('serves the stylesheet, the frame script and libsodium for the demo', async () => {
    for (const [name, type] of [
      ['styles.css', 'text/css'],
      ['frame.js', 'text/javascript'],
      ['demo.js', 'text/javascript'],
      ['libsodium-wrappers.mjs', 'text/javascript'],
      ['libsodium.mjs', 'text/javascript'],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: `/static/ktpay-mock/${name}` });
      expect(res.statusCode, name).toBe(200);
      expect(res.headers['content-type']).toContain(type);
      expect(res.body.length).toBeGreaterThan(100);
    }
    const missing = await app.inject({ method: 'GET', url: '/static/ktpay-mock/secret.txt' });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('4040119');
  });
});
