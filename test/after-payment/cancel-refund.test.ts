import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appKeyOf, type Merchant } from '../../mock-server/merchants/merchant.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import type { TransitionNotice } from '../../mock-server/payments/payment-events.js';
import type { PaymentStatus } from '../../mock-server/payments/transaction.js';
import { toAlmatyIso } from '../../mock-server/shared/almaty-time.js';
import { createManualClock, type ManualClock } from '../../mock-server/shared/clock.js';
import { buildTestApp, createPayment, seal, settle } from '../helpers/sandbox.js';
import { driveTo, postOperation } from './drive.js';

const START = Date.parse('2026-03-01T06:00:00Z'); // 12:00 in Almaty

let app: FastifyInstance;
let clock: ManualClock;
let other: Merchant;
let widgetMerchant: Merchant;
const notices: TransitionNotice[] = [];

beforeAll(async () => {
  clock = createManualClock(START);
  app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock });
  app.sandbox.hub.on((n) => void notices.push(n));
  other = await app.sandbox.merchants.create({
    name: 'Другой магазин',
    domains: ['other.example.kz'],
    public_key: DEFAULT_MERCHANT.merchant_public_key,
  });
  widgetMerchant = await app.sandbox.merchants.create({
    name: 'Виджет-магазин',
    domains: ['widget.example.kz'],
    public_key: DEFAULT_MERCHANT.merchant_public_key,
    envelope: 'widget',
    locale: 'en',
  });
});
afterAll(() => app.close());

const validate = (
  name: Parameters<FastifyInstance['sandbox']['schemas']['validator']>[0],
  value: unknown,
) => {
  const fn = app.sandbox.schemas.validator(name);
  const ok = fn(value);
  return ok ? [] : fn.errors;
};

/** A payment of `amount` for the default merchant, driven to `status`. */
async function paymentIn(status: PaymentStatus, amount = 1000): Promise<string> {
  const hash = await createPayment(app, { amount });
  await driveTo(app, hash, status);
  return hash;
}

interface StatusPayload {
  transaction_hash: string;
  amount: number;
  status: { status: string; created_at: string; updated_at: string | null; error: unknown };
  refunds: { amount: number; created_at: string; reason: string | null }[];
  refunded_amount: number;
}

function okPayload(res: Awaited<ReturnType<typeof postOperation>>): StatusPayload {
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json() as { success: true; payload: StatusPayload };
  expect(validate('referenceSuccess', body)).toEqual([]);
  expect(validate('paymentStatus', body.payload)).toEqual([]);
  return body.payload;
}

/**
 * Runs a request that must be rejected with `code`, and proves it changed nothing: the stored
 * transaction is deep-equal to before, and no transition was announced.
 */
async function expectRejected(hash: string, code: number, run: () => ReturnType<typeof postOperation>) {
  const before = structuredClone(await app.sandbox.store.getTransaction(hash));
  const noticesBefore = notices.length;
  clock.advance(1000);
  const res = await run();
  expect(res.statusCode, res.body).toBe(Number(String(code).slice(0, 3)));
  const body = res.json() as { success: false; error: { code: number; message: string } };
  expect(body.error.code).toBe(code);
  expect(validate('referenceError', body)).toEqual([]);
  expect(await app.sandbox.store.getTransaction(hash)).toEqual(before);
  expect(notices.length).toBe(noticesBefore);
  return body;
}

describe('cancel (spec §9: pending, authorized or success → cancelled)', () => {
  it.each(['pending', 'authorized', 'success'] as const)(
    'cancels a %s payment with an empty body',
    async (status) => {
      const hash = await paymentIn(status);
      clock.advance(5000);
      const payload = okPayload(await postOperation(app, 'cancel', hash));
      expect(payload.transaction_hash).toBe(hash);
      expect(payload.status).toEqual({
        status: 'cancelled',
        created_at: toAlmatyIso(clock.now()),
        updated_at: null,
        error: null,
      });
      expect(payload.refunds).toEqual([]);
      const tx = (await app.sandbox.payments.get(hash))!;
      expect(tx.status).toBe('cancelled');
      expect(tx.status_created_at).toBe(clock.now());
      expect(tx.history.at(-1)).toEqual({ status: 'cancelled', at: clock.now(), event: 'cancel' });
    },
  );

  it('accepts an empty body without any Content-Type, and a sealed {reason}', async () => {
    const a = await paymentIn('pending');
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/merchant-widget/payment/${a}/cancel`,
      headers: { 'auth-identifier': DEFAULT_MERCHANT.app_id },
    });
    expect(okPayload(res).status.status).toBe('cancelled');

    const b = await paymentIn('authorized');
    okPayload(await postOperation(app, 'cancel', b, { reason: 'Покупатель передумал' }));
    expect((await app.sandbox.payments.get(b))!.history.at(-1)).toMatchObject({
      status: 'cancelled',
      event: 'cancel',
      detail: 'Покупатель передумал',
    });
  });

  it('rejects cancel after clearing with 4090115 and changes nothing', async () => {
    for (const status of ['completed', 'partially_refunded'] as const) {
      const hash = await paymentIn(status);
      await expectRejected(hash, 4090115, () => postOperation(app, 'cancel', hash, { reason: 'late' }));
    }
  });

  it.each(['error', 'denied', 'cancelled', 'refunded'] as const)(
    'rejects cancel of a final %s payment with 4090111 and changes nothing',
    async (status) => {
      const hash = await paymentIn(status);
      const body = await expectRejected(hash, 4090111, () => postOperation(app, 'cancel', hash));
      expect(body.error.message).toBe('Операция недоступна в текущем статусе транзакции.');
    },
  );
});

describe('refund (spec §9: completed or partially_refunded → partially_refunded or refunded)', () => {
  it('refunds the full amount when amount is omitted', async () => {
    const hash = await paymentIn('completed', 1500.5);
    clock.advance(60_000);
    const payload = okPayload(await postOperation(app, 'refund', hash, { reason: 'Возврат товара' }));
    expect(payload.status.status).toBe('refunded');
    expect(payload.refunded_amount).toBe(1500.5);
    expect(payload.refunds).toEqual([
      { amount: 1500.5, created_at: toAlmatyIso(clock.now()), reason: 'Возврат товара' },
    ]);
    expect((await app.sandbox.payments.get(hash))!.refunds).toEqual([
      { amount: 1500.5, at: clock.now(), reason: 'Возврат товара' },
    ]);
  });

  it('also refunds the full remainder with an empty body', async () => {
    const hash = await paymentIn('completed', 700);
    const payload = okPayload(await postOperation(app, 'refund', hash));
    expect(payload.status.status).toBe('refunded');
    expect(payload.refunds).toEqual([{ amount: 700, created_at: expect.any(String), reason: null }]);
  });

  it('adds partial refunds up to the captured amount: partially_refunded, then refunded', async () => {
    const hash = await paymentIn('completed', 1000);
    clock.advance(1000);
    let p = okPayload(await postOperation(app, 'refund', hash, { amount: 300, reason: 'первый' }));
    expect([p.status.status, p.refunded_amount]).toEqual(['partially_refunded', 300]);
    clock.advance(1000);
    p = okPayload(await postOperation(app, 'refund', hash, { amount: 200.55 }));
    expect([p.status.status, p.refunded_amount]).toEqual(['partially_refunded', 500.55]);
    clock.advance(1000);
    p = okPayload(await postOperation(app, 'refund', hash, { amount: 499.45, reason: 'остаток' }));
    expect([p.status.status, p.refunded_amount]).toEqual(['refunded', 1000]);
    expect(p.refunds.map((r) => [r.amount, r.reason])).toEqual([
      [300, 'первый'],
      [200.55, null],
      [499.45, 'остаток'],
    ]);
    // Each refund carries its own time, in Almaty time, one second apart.
    expect(p.refunds.map((r) => r.created_at)).toEqual(
      [2000, 1000, 0].map((ago) => toAlmatyIso(clock.now() - ago)),
    );
    const tx = (await app.sandbox.payments.get(hash))!;
    expect(tx.history.map((h) => h.status)).toEqual([
      'pending',
      'authorized',
      'success',
      'completed',
      'partially_refunded',
      'partially_refunded',
      'refunded',
    ]);
  });

  it('an omitted amount after partial refunds refunds exactly what remains', async () => {
    const hash = await paymentIn('completed', 100.1);
    okPayload(await postOperation(app, 'refund', hash, { amount: 0.2 }));
    const p = okPayload(await postOperation(app, 'refund', hash, {}));
    expect(p.status.status).toBe('refunded');
    expect(p.refunds.map((r) => r.amount)).toEqual([0.2, 99.9]);
    expect(p.refunded_amount).toBe(100.1);
  });

  it.each(['pending', 'authorized', 'success'] as const)(
    'rejects refund of a %s payment (before clearing) with 4090116 and changes nothing',
    async (status) => {
      const hash = await paymentIn(status);
      await expectRejected(hash, 4090116, () => postOperation(app, 'refund', hash, { amount: 10 }));
      await expectRejected(hash, 4090116, () => postOperation(app, 'refund', hash));
    },
  );

  it('rejects a refund above the remainder with 4220112 and changes nothing', async () => {
    const hash = await paymentIn('completed', 1000);
    await expectRejected(hash, 4220112, () => postOperation(app, 'refund', hash, { amount: 1000.01 }));
    okPayload(await postOperation(app, 'refund', hash, { amount: 600 }));
    const body = await expectRejected(hash, 4220112, () =>
      postOperation(app, 'refund', hash, { amount: 400.01 }),
    );
    expect(body.error.message).toBe('Сумма возврата превышает остаток.');
    expect((await app.sandbox.payments.get(hash))!.status).toBe('partially_refunded');
  });

  it.each([0, -1, -0.01, 10.123, 0.001])(
    'rejects the amount %s with 4220114 and changes nothing',
    async (amount) => {
      const hash = await paymentIn('completed', 1000);
      await expectRejected(hash, 4220114, () => postOperation(app, 'refund', hash, { amount }));
    },
  );

  it.each(['error', 'denied', 'cancelled', 'refunded'] as const)(
    'rejects refund of a final %s payment with 4090111 and changes nothing',
    async (status) => {
      const hash = await paymentIn(status);
      await expectRejected(hash, 4090111, () => postOperation(app, 'refund', hash, { amount: 1 }));
      await expectRejected(hash, 4090111, () => postOperation(app, 'refund', hash));
    },
  );

  it('rejects a non-number amount or reason with 4220002 and per-field messages', async () => {
    const hash = await paymentIn('completed', 1000);
    const body = await expectRejected(hash, 4220002, () =>
      postOperation(app, 'refund', hash, { amount: '100', reason: 5 }),
    );
    expect((body.error as unknown as { validation: Record<string, string[]> }).validation).toEqual({
      amount: [expect.any(String)],
      reason: [expect.any(String)],
    });
    await expectRejected(hash, 4220002, () => postOperation(app, 'cancel', hash, { reason: ['x'] }));
  });
});

describe('ownership and the request envelope', () => {
  it("answers 4040108 for another merchant's hash, and for an unknown one, on cancel and refund", async () => {
    const mine = await paymentIn('completed');
    const as = { appId: other.app_id, appKey: appKeyOf(other, clock.now()) };
    await expectRejected(mine, 4040108, () => postOperation(app, 'refund', mine, { amount: 1 }, as));
    await expectRejected(mine, 4040108, () => postOperation(app, 'cancel', mine, undefined, as));
    const unknown = 'f'.repeat(40);
    for (const op of ['cancel', 'refund'] as const) {
      const res = await postOperation(app, op, unknown);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe(4040108);
    }
  });

  it('requires a known Auth-Identifier (4220103) and a sealed body that opens (4220101/4220102)', async () => {
    const hash = await paymentIn('authorized');
    await expectRejected(hash, 4220103, () =>
      postOperation(app, 'cancel', hash, undefined, { appId: '0'.repeat(32) }),
    );
    await expectRejected(hash, 4220101, () => postOperation(app, 'cancel', hash, '{"reason":"plain json"}'));
    await expectRejected(hash, 4220102, () =>
      postOperation(
        app,
        'cancel',
        hash,
        { reason: 'sealed to the wrong key' },
        { appKey: appKeyOf(other, clock.now()) },
      ),
    );
  });

  it("answers in the merchant's dialect and locale (widget, en)", async () => {
    const appKey = appKeyOf(widgetMerchant, clock.now());
    const create = await app.inject({
      method: 'POST',
      url: '/api/v1/merchant-widget/payment',
      headers: { 'auth-identifier': widgetMerchant.app_id },
      payload: await seal({ order: { amount: 500, order_id: 'W-1', type: 'ecom' } }, appKey),
    });
    const hash = (create.json() as { response: { data: { transaction_hash: string } } }).response.data
      .transaction_hash;
    await driveTo(app, hash, 'completed');
    const ok = await postOperation(
      app,
      'refund',
      hash,
      { amount: 100 },
      { appId: widgetMerchant.app_id, appKey },
    );
    expect(ok.statusCode).toBe(200);
    const okBody = ok.json() as { error: []; response: { success: true; data: StatusPayload } };
    expect(validate('widgetSuccess', okBody)).toEqual([]);
    expect(okBody.response.data.status.status).toBe('partially_refunded');

    const bad = await postOperation(app, 'cancel', hash, undefined, { appId: widgetMerchant.app_id, appKey });
    expect(bad.statusCode).toBe(409);
    const badBody = bad.json() as { success: false; error: { code: number; messages: { error: string } } };
    expect(validate('widgetError', badBody)).toEqual([]);
    expect(badBody.error.code).toBe(4090115);
    expect(badBody.error.messages.error).toBe(
      'Cancel is not possible: the transaction has already been cleared.',
    );
  });

  it('journals each operation with its transaction, order, decrypted body and verdict', async () => {
    const hash = await paymentIn('completed');
    await settle(); // the journal note of `completed` (no callback URL), written after the transition
    const tx = (await app.sandbox.payments.get(hash))!;
    await postOperation(app, 'refund', hash, { amount: 5, reason: 'журнал', extra_field: 1 });
    await postOperation(app, 'cancel', hash);
    await settle();
    const [cancel, refund] = await app.sandbox.store.listJournal({ transaction_hash: hash });
    expect(refund).toMatchObject({
      method: 'POST',
      path: `/api/v1/merchant-widget/payment/${hash}/refund`,
      order_id: tx.order_id,
      decrypted: { amount: 5, reason: 'журнал', extra_field: 1 },
      verdict: { ok: true, error_code: null, contract_warnings: [expect.stringContaining('extra_field')] },
      response: { status: 200 },
    });
    expect(cancel).toMatchObject({
      order_id: tx.order_id,
      verdict: { ok: false, error_code: 4090115 },
      response: { status: 409 },
    });
  });
});
