import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { createMemoryStore } from '../../mock-server/store/memory-store.js';
import { createManualClock, type ManualClock } from '../../mock-server/shared/clock.js';
import { APP_ID, buildTestApp, createPayment, settle } from '../helpers/sandbox.js';
import { adminTx, card } from './journey.js';

const { validator } = createSchemaRegistry();
const apps: FastifyInstance[] = [];
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});

async function sandbox(
  flags: Parameters<typeof buildTestApp>[0] = {},
  clock: ManualClock = createManualClock(Date.UTC(2026, 2, 1, 6, 0, 0)),
) {
  const app = await buildTestApp(flags, { clock });
  apps.push(app);
  return { app, clock };
}

const pay = (app: FastifyInstance, hash: string, body: unknown) =>
  app.inject({
    method: 'POST',
    url: `/__admin/transactions/${hash}/pay`,
    payload: body as Record<string, unknown>,
  });

describe('POST /__admin/transactions/{hash}/pay', () => {
  it('walks 5522 0427 0506 6736 + OTP 1111 to success, then clearing makes it completed', async () => {
    const { app, clock } = await sandbox({ clearing_delay_ms: 2000 });
    const hash = await createPayment(app);
    const res = await pay(app, hash, card({ pan: '5522 0427 0506 6736', otp: '1111' }));
    expect(res.statusCode).toBe(200);
    const body = res.json() as { outcome: string; three_ds: string; transaction: { status: string } };
    const v = validator('adminPayResult');
    expect(v(body), JSON.stringify(v.errors)).toBe(true);
    expect(body).toMatchObject({
      outcome: 'approved',
      acquirer_code: '00',
      three_ds: 'challenge',
      transaction: { status: 'success' },
    });
    clock.advance(1999);
    await settle();
    expect((await adminTx(app, hash)).status).toBe('success');
    clock.advance(1);
    await settle();
    const tx = await adminTx(app, hash);
    expect(tx.history.map((h) => h.status)).toEqual(['pending', 'authorized', 'success', 'completed']);
    expect(tx.history.map((h) => h.at)).toEqual([
      '2026-03-01T12:00:00+06:00',
      '2026-03-01T12:00:00+06:00',
      '2026-03-01T12:00:00+06:00',
      '2026-03-01T12:00:02+06:00',
    ]);
  });

  it('a 3DS card without otp is refused (4220122) and nothing changes; a wrong otp ends in 191', async () => {
    const { app } = await sandbox({ clearing_delay_ms: 'manual' });
    const hash = await createPayment(app);
    const missing = await pay(app, hash, card({ pan: '5522042705066736' }));
    expect(missing.statusCode).toBe(422);
    expect(missing.json()).toMatchObject({
      error: { code: 4220122, validation: { otp: [expect.stringContaining('1111')] } },
    });
    const pending = await adminTx(app, hash);
    expect(pending.status).toBe('pending');
    expect(pending.acquirer?.challenge_pending).toBe(false);
    const wrong = await pay(app, hash, card({ pan: '5522042705066736', otp: '9999' }));
    expect(wrong.json()).toMatchObject({ outcome: 'declined', acquirer_code: '191', three_ds: 'challenge' });
  });

  it('bad card data is 4220122 per field with the acquirer text; the payment stays pending', async () => {
    const { app } = await sandbox({ clearing_delay_ms: 'manual' });
    const hash = await createPayment(app);
    const res = await pay(app, hash, card({ pan: '4405639704015097', exp_year: '2001' }));
    expect(res.statusCode).toBe(422);
    const err = (res.json() as { error: { validation: Record<string, string[]> } }).error;
    expect(err.validation.pan![0]).toContain('(acquirer code 14)');
    expect(err.validation.exp_month![0]).toContain('(acquirer code -9)');
    expect((await adminTx(app, hash)).status).toBe('pending');
  });

  it('validates its body against the contract, and refuses a payment that is not pending (4090111)', async () => {
    const { app } = await sandbox({ clearing_delay_ms: 'manual' });
    const hash = await createPayment(app);
    const bad = await pay(app, hash, { pan: 4405639704015096, cvc: '123', extra: 1 });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ error: { code: 4220122 } });
    expect(Object.keys((bad.json() as { error: { validation: object } }).error.validation)).toEqual(
      expect.arrayContaining(['pan', 'exp_month', 'exp_year', 'extra']),
    );
    expect((await pay(app, hash, card())).statusCode).toBe(200);
    const again = await pay(app, hash, card());
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: { code: 4090111 } });
    const unknown = await pay(app, 'b'.repeat(40), card());
    expect(unknown.json()).toMatchObject({ error: { code: 4040108 } });
  });

  it('service payments: authorized, then credited, then success; contract 0000000000 ends in denied / ERROR_SYSTEM', async () => {
    const { app } = await sandbox({ clearing_delay_ms: 'manual' });
    const ok = await createPayment(app, {
      type: 'service',
      service: { service_id: '1', contract_value: '17-25022' },
    });
    await pay(app, ok, card());
    const credited = await adminTx(app, ok);
    expect(credited.history.map((h) => [h.status, h.detail ?? null])).toEqual([
      ['pending', null],
      ['authorized', null],
      ['success', 'credited to service 1 (contract 17-25022)'],
    ]);
    const refused = await createPayment(app, {
      type: 'service',
      service: { service_id: 7, contract_value: '0000000000' },
    });
    const res = await pay(app, refused, card());
    expect(res.json()).toMatchObject({ outcome: 'approved', transaction: { status: 'denied' } });
    const denied = await adminTx(app, refused);
    expect(denied.history.map((h) => h.status)).toEqual(['pending', 'authorized', 'denied']);
    expect(denied.error).toMatchObject({ error_type: 'ERROR_SYSTEM' });
    const status = await app.inject({
      method: 'GET',
      url: `/api/v1/merchant-widget/payment/${refused}`,
      headers: { 'auth-identifier': APP_ID },
    });
    expect(status.json()).toMatchObject({
      payload: { status: { status: 'denied', error: { error_type: 'ERROR_SYSTEM' } } },
    });
  });
});

describe('GET /__admin/transactions', () => {
  it('lists newest first, filtered by app_id, status and order_id; each item matches the contract', async () => {
    const { app } = await sandbox({ clearing_delay_ms: 'manual' });
    const a = await createPayment(app, { order_id: 'list-a' });
    const b = await createPayment(app, { order_id: 'list-b' });
    await pay(app, b, card());
    const all = (await app.inject({ method: 'GET', url: '/__admin/transactions' })).json() as {
      transactions: { transaction_hash: string }[];
    };
    expect(all.transactions.map((t) => t.transaction_hash)).toEqual([b, a]);
    const v = validator('adminTransactionView');
    for (const t of all.transactions) expect(v(t), JSON.stringify(v.errors)).toBe(true);
    const q = async (query: string) =>
      (
        (await app.inject({ method: 'GET', url: `/__admin/transactions?${query}` })).json() as {
          transactions: { order_id: string }[];
        }
      ).transactions.map((t) => t.order_id);
    expect(await q('status=success')).toEqual(['list-b']);
    expect(await q('status=pending')).toEqual(['list-a']);
    expect(await q('order_id=list-a')).toEqual(['list-a']);
    expect(await q(`app_id=${APP_ID}&limit=1`)).toEqual(['list-b']);
    expect(await q('app_id=ffffffffffffffffffffffffffffffff')).toEqual([]);
    const bad = await app.inject({ method: 'GET', url: '/__admin/transactions?status=paid' });
    expect(bad.json()).toMatchObject({ error: { code: 4220122 } });
  });

  it('GET one transaction shows its history in +06:00; an unknown hash is 4040108', async () => {
    const { app } = await sandbox({ clearing_delay_ms: 'manual' });
    const hash = await createPayment(app);
    const res = await app.inject({ method: 'GET', url: `/__admin/transactions/${hash}` });
    const v = validator('adminTransactionView');
    expect(v(res.json()), JSON.stringify(v.errors)).toBe(true);
    expect(res.json()).toMatchObject({
      history: [{ status: 'pending', event: 'create', at: '2026-03-01T12:00:00+06:00' }],
    });
    expect(
      (await app.inject({ method: 'GET', url: `/__admin/transactions/${'c'.repeat(40)}` })).statusCode,
    ).toBe(404);
  });

  it('needs the admin token when one is set', async () => {
    const { app } = await sandbox({ admin_token: 's3cret' });
    expect((await app.inject({ method: 'GET', url: '/__admin/transactions' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/__admin/test-cards' })).statusCode).toBe(401);
    const ok = await app.inject({
      method: 'GET',
      url: '/__admin/transactions',
      headers: { authorization: 'Bearer s3cret' },
    });
    expect(ok.statusCode).toBe(200);
  });
});

describe('GET /__admin/test-cards', () => {
  it('lists the spec §8 table, the CODE rule and every acquirer code with its outcome', async () => {
    const { app } = await sandbox();
    const body = (await app.inject({ method: 'GET', url: '/__admin/test-cards' })).json() as {
      cards: { display: string; result: string }[];
      cardholder_code_rule: { example: string };
      three_ds: { otp: string };
      acquirer_codes: { code: string; status: string; error_type: string; error_message: string }[];
    };
    expect(body.cards.map((c) => c.display)).toContain('5522 0427 0506 6736');
    expect(body.cards).toHaveLength(8);
    expect(body.three_ds.otp).toBe('1111');
    expect(body.cardholder_code_rule.example).toBe('CODE 61');
    expect(body.acquirer_codes.find((c) => c.code === '51')).toEqual({
      code: '51',
      status: 'error',
      error_type: 'ERROR_PAYMENT',
      family: 'issuer_decline',
      error_message: 'Недостаточно средств на карте.',
    });
  });
});

describe('clearing', () => {
  it('manual: success waits until POST /__admin/transactions/{hash}/clear', async () => {
    const { app, clock } = await sandbox({ clearing_delay_ms: 'manual' });
    const hash = await createPayment(app);
    await pay(app, hash, card());
    clock.advance(24 * 3600 * 1000);
    await settle();
    expect((await adminTx(app, hash)).status).toBe('success');
    expect(clock.pendingTimers()).toBe(0);
    const cleared = await app.inject({ method: 'POST', url: `/__admin/transactions/${hash}/clear` });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json()).toMatchObject({ status: 'completed' });
    const twice = await app.inject({ method: 'POST', url: `/__admin/transactions/${hash}/clear` });
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ error: { code: 4090111 } });
  });

  it('the default delay is a few seconds (3000 ms)', async () => {
    const { app, clock } = await sandbox();
    expect(app.sandbox.config.clearing_delay_ms).toBe(3000);
    const hash = await createPayment(app);
    await pay(app, hash, card());
    clock.advance(2999);
    await settle();
    expect((await adminTx(app, hash)).status).toBe('success');
    clock.advance(1);
    await settle();
    expect((await adminTx(app, hash)).status).toBe('completed');
  });

  it('a failed or cancelled payment is never cleared, and a cancel drops the timer', async () => {
    const { app, clock } = await sandbox({ clearing_delay_ms: 1000 });
    const declined = await createPayment(app);
    await pay(app, declined, card({ pan: '4000000000000002' }));
    const cancelled = await createPayment(app);
    await pay(app, cancelled, card());
    expect(clock.pendingTimers()).toBeGreaterThanOrEqual(1);
    await app.sandbox.payments.apply(cancelled, { type: 'cancel', at: clock.now(), reason: null });
    clock.advance(5000);
    await settle();
    expect((await adminTx(app, declined)).status).toBe('error');
    expect((await adminTx(app, cancelled)).status).toBe('cancelled');
  });

  it('re-arms at startup: a success left by the last run clears at its due time', async () => {
    const clock = createManualClock(Date.UTC(2026, 2, 1, 6, 0, 0));
    const store = createMemoryStore({ journalSize: 100 });
    const first = await buildTestApp({ clearing_delay_ms: 5000 }, { clock, store });
    const hash = await createPayment(first);
    await pay(first, hash, card());
    // The first run stops before its timer fires (the memory store survives close(), like a SQLite file).
    await first.close();
    expect(clock.pendingTimers()).toBe(0);
    const secondClock = createManualClock(clock.now() + 2000);
    const second = await buildTestApp({ clearing_delay_ms: 5000 }, { clock: secondClock, store });
    apps.push(second);
    secondClock.advance(2999);
    await settle();
    expect((await store.getTransaction(hash))?.status).toBe('success');
    secondClock.advance(1);
    await settle();
    expect((await store.getTransaction(hash))?.status).toBe('completed');
    const overdue = createManualClock(clock.now() + 60_000);
    const store2 = createMemoryStore({ journalSize: 100 });
    const seed = {
      ...(await store.getTransaction(hash))!,
      hash: 'd'.repeat(40),
      order_id: 'overdue',
      status: 'success' as const,
      status_created_at: clock.now(),
    };
    await store2.putMerchant((await store.getMerchant(APP_ID))!);
    await store2.insertTransaction(seed);
    const third = await buildTestApp({ clearing_delay_ms: 5000 }, { clock: overdue, store: store2 });
    apps.push(third);
    // Overdue at startup: cleared on the first tick.
    overdue.advance(0);
    await settle();
    expect((await store2.getTransaction('d'.repeat(40)))?.status).toBe('completed');
  });
});
