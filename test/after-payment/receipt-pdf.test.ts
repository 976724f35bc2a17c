import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../mock-server/envelope/error-handler.js';
import { requestJournal } from '../../mock-server/journal/request-journal.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { appKeyOf } from '../../mock-server/merchants/merchant.js';
import { createReceiptRenderer } from '../../mock-server/payments/receipt-pdf.js';
import type { PaymentStatus } from '../../mock-server/payments/transaction.js';
import { paymentOperations } from '../../mock-server/routes/payment-operations.js';
import { createSandboxContext } from '../../mock-server/sandbox-context.js';
import { createManualClock, type ManualClock } from '../../mock-server/shared/clock.js';
import { API, APP_ID, buildTestApp, createPayment, seal, settle, testConfig } from '../helpers/sandbox.js';
import { driveTo, postOperation } from './drive.js';

// 2026-03-01 12:00:00 in Almaty.
const START = Date.parse('2026-03-01T06:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'ktpay-receipt-'));

/**
 * The PDF's text as a reader's copy-and-paste gets it, through the font's Unicode map (unpdf, the
 * PDF.js text layer): one line per text line, pages separated by a form feed, as pdftotext does.
 */
async function pdfText(bytes: Buffer): Promise<string> {
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(bytes)), { mergePages: false });
  return text.join('\f');
}

let app: FastifyInstance;
let clock: ManualClock;

beforeAll(async () => {
  clock = createManualClock(START);
  app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock });
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const getPdf = (hash: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url: `${API}/payment/${hash}/pdf`, headers });

describe('GET /payment/{hash}/pdf (spec §7)', () => {
  it('answers 200 with exactly the documented headers and a payment<id>-<YYYYMMDDHHmmss>.pdf file name', async () => {
    const hash = await createPayment(app, { amount: 1000 });
    const tx = await driveTo(app, hash, 'completed');
    clock.advance(90_000); // the receipt is generated at 12:01:30 Almaty time
    const res = await getPdf(hash);
    expect(res.statusCode, res.body).toBe(200);
    const name = `payment${tx.id}-20260301120130.pdf`;
    expect(name).toMatch(/^payment\d+-\d{14}\.pdf$/);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="${name}"; filename*=UTF-8''${name}`,
    );
    expect(res.headers['cache-control']).toBe('must-revalidate, post-check=0, pre-check=0, private');
    expect(res.headers.pragma).toBe('public');
    expect(res.headers.expires).toBe('0');
    const filename = /filename="([^"]+)"/.exec(String(res.headers['content-disposition']))![1];
    expect(filename).toMatch(/^payment\d+-\d{14}\.pdf$/);
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    expect(res.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('is a real PDF whose text (as copied out of it) shows merchant in Cyrillic, order, amount in ₸, card, status, date and hash', async () => {
    const hash = await createPayment(app, {
      amount: 1500.5,
      order_id: 'Заказ-№42',
      description: 'Чайник электрический',
    });
    await driveTo(app, hash, 'completed');
    const res = await getPdf(hash, { 'auth-identifier': APP_ID });
    expect(res.statusCode, res.body).toBe(200);
    const text = await pdfText(res.rawPayload);
    expect(text).toContain('Тестовый магазин'); // the built-in merchant's name
    expect(text).toContain(DEFAULT_MERCHANT.name);
    expect(text).toContain('Заказ-№42');
    expect(text).toContain('Чайник электрический');
    expect(text).toContain('1500.50 ₸');
    expect(text).toContain('440563******5096');
    expect(text).toContain('VISA');
    expect(text).toMatch(/Оплачено \(клиринг проведён\) \(completed\)/);
    expect(text).toContain('01.03.2026');
    expect(text).toContain(hash);
  });

  it('renders Kazakh letters and lists refunds on the receipt of a partially refunded payment', async () => {
    const shop = await app.sandbox.merchants.create({
      name: 'ТОО «Әлем Маркет»',
      domains: ['alem.example.kz'],
      public_key: DEFAULT_MERCHANT.merchant_public_key,
    });
    const appKey = appKeyOf(shop, clock.now());
    const create = await app.inject({
      method: 'POST',
      url: `${API}/payment`,
      headers: { 'auth-identifier': shop.app_id },
      payload: await seal({ order: { amount: 25000, order_id: 'ALEM-1', type: 'ecom' } }, appKey),
    });
    const hash = (create.json() as { payload: { transaction_hash: string } }).payload.transaction_hash;
    await driveTo(app, hash, 'completed');
    await postOperation(
      app,
      'refund',
      hash,
      { amount: 5000, reason: 'Қайтару' },
      { appId: shop.app_id, appKey },
    );
    const text = await pdfText((await getPdf(hash)).rawPayload);
    expect(text).toContain('ТОО «Әлем Маркет»');
    expect(text).toContain('25000.00 ₸');
    expect(text).toContain('5000.00 ₸');
    expect(text).toContain('Қайтару');
    expect(text).toContain('(partially_refunded)');
  });

  it('continues on a second page when the refunds do not fit on one', async () => {
    const hash = await createPayment(app, { amount: 1000 });
    await driveTo(app, hash, 'completed');
    for (let i = 1; i <= 40; i++) {
      clock.advance(1000);
      await app.sandbox.payments.apply(hash, {
        type: 'refund',
        at: clock.now(),
        amount: 1,
        reason: `возврат ${i}`,
      });
    }
    const text = await pdfText((await getPdf(hash)).rawPayload);
    const pages = text.split('\f').filter((p) => p.trim() !== '');
    expect(pages.length).toBeGreaterThan(1);
    for (let i = 1; i <= 40; i++) expect(text).toMatch(new RegExp(`возврат ${i}\\b`));
    expect(pages.at(-1)).toContain(hash);
  });

  it('cuts a description of 1,024 characters without a space into lines, in one pass (it took 34 s of CPU)', async () => {
    // The longest description and order_id the contract allows, each one unbroken "word".
    const description = '0123456789'.repeat(102) + 'abcd';
    const orderId = 'Z'.repeat(200) + '💳'.repeat(27);
    const hash = await createPayment(app, { amount: 1000, description, order_id: orderId });
    await driveTo(app, hash, 'completed');
    const res = await getPdf(hash);
    expect(res.statusCode, res.body).toBe(200);
    const text = await pdfText(res.rawPayload);
    const lines = text.split('\n').filter((l) => /^\s*(Описание\s+)?[0-9abcd]{10,}\s*$/.test(l));
    expect(lines.length).toBeGreaterThan(10);
    expect(text.replace(/\s+/g, '')).toContain(description);
    expect(text.replace(/\s+/g, '')).toContain('Z'.repeat(200));
  });

  it.each(['success', 'partially_refunded', 'refunded'] as const)(
    'serves a receipt for a %s payment',
    async (status) => {
      const hash = await createPayment(app);
      await driveTo(app, hash, status);
      const res = await getPdf(hash);
      expect(res.statusCode).toBe(200);
      expect(await pdfText(res.rawPayload)).toContain(`(${status})`);
    },
  );

  it.each([
    'pending',
    'authorized',
    'error',
    'denied',
    'cancelled',
  ] as const satisfies readonly PaymentStatus[])(
    'answers 4090113 for a %s (unpaid) payment',
    async (status) => {
      const hash = await createPayment(app);
      await driveTo(app, hash, status);
      const res = await getPdf(hash);
      expect(res.statusCode).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json() as { success: false; error: { code: number; message: string } };
      expect(body.error).toMatchObject({
        code: 4090113,
        message: 'Чек доступен только для оплаченной транзакции.',
      });
      const validate = app.sandbox.schemas.validator('referenceError');
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    },
  );

  it("needs no Auth-Identifier, but a sent one must be the owner's (4040108) and known (4220103)", async () => {
    const hash = await createPayment(app);
    await driveTo(app, hash, 'success');
    expect((await getPdf(hash)).statusCode).toBe(200);
    expect((await getPdf(hash, { 'auth-identifier': APP_ID })).statusCode).toBe(200);
    const other = await app.sandbox.merchants.create({
      name: 'Чужой',
      domains: ['other.example.kz'],
      public_key: DEFAULT_MERCHANT.merchant_public_key,
    });
    const foreign = await getPdf(hash, { 'auth-identifier': other.app_id });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe(4040108);
    const unknown = await getPdf(hash, { 'auth-identifier': '0'.repeat(32) });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().error.code).toBe(4220103);
  });

  it('answers 4040108 for an unknown hash', async () => {
    const res = await getPdf('0'.repeat(40));
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe(4040108);
  });

  it('journals the request with its transaction, without the PDF bytes', async () => {
    const hash = await createPayment(app);
    await driveTo(app, hash, 'completed');
    await settle(); // the journal note of `completed` (no callback URL), written after the transition
    const res = await getPdf(hash);
    await settle();
    const [entry] = await app.sandbox.store.listJournal({ transaction_hash: hash });
    expect(entry).toMatchObject({
      method: 'GET',
      path: `${API}/payment/${hash}/pdf`,
      app_id: APP_ID,
      verdict: { ok: true },
      response: { status: 200, body: `<${res.rawPayload.length} bytes>` },
    });
  });
});

describe('receipt failures: 5000110 (the generator module) and 5000109 (one receipt)', () => {
  it('answers 5000110 over HTTP when the receipt font cannot be loaded', async () => {
    const config = testConfig({ clearing_delay_ms: 'manual' });
    const ctx = await createSandboxContext(config, { clock: createManualClock(START) });
    const broken = Fastify();
    broken.decorate('sandbox', ctx);
    await broken.register(errorHandler, { config });
    await broken.register(requestJournal, { store: ctx.store, clock: ctx.clock });
    await broken.register(paymentOperations, {
      prefix: API,
      ctx,
      receipts: createReceiptRenderer({ fontPath: join(dir, 'no-such-font.ttf') }),
    });
    try {
      const { tx } = await ctx.payments.create((await ctx.merchants.get(APP_ID))!, {
        order: { amount: 10, order_id: 'F-1', type: 'ecom' },
      });
      await driveTo(broken, tx.hash, 'completed');
      const res = await broken.inject({ method: 'GET', url: `${API}/payment/${tx.hash}/pdf` });
      expect(res.statusCode).toBe(500);
      const body = res.json() as { success: false; error: { code: number; message: string; hint: string } };
      expect(body.error.code).toBe(5000110);
      expect(body.error.message).toBe(
        'Непредвиденная ошибка в работе модуле генерации чека транзакции мерчанта.',
      );
      expect(body.error.hint).toContain('no-such-font.ttf');
    } finally {
      await broken.close();
      await ctx.store.close();
    }
  });

  it('reports a font file that is not a font as 5000110', async () => {
    const notAFont = join(dir, 'not-a-font.ttf');
    writeFileSync(notAFont, 'plain text');
    const hash = await createPayment(app);
    const tx = await driveTo(app, hash, 'completed');
    await expect(
      createReceiptRenderer({ fontPath: notAFont }).render({
        tx,
        merchant: DEFAULT_MERCHANT,
        at: clock.now(),
      }),
    ).rejects.toMatchObject({ name: 'KtpayError', code: 5000110 });
  });

  it('reports a receipt that fails to render as 5000109', async () => {
    const hash = await createPayment(app);
    const tx = await driveTo(app, hash, 'completed');
    const exploding = {
      merchant_id: 1,
      get name(): string {
        throw new Error('merchant record unreadable');
      },
    };
    await expect(
      createReceiptRenderer().render({ tx, merchant: exploding, at: clock.now() }),
    ).rejects.toMatchObject({
      name: 'KtpayError',
      code: 5000109,
      diagnostic: expect.stringContaining('merchant record unreadable'),
    });
  });
});
