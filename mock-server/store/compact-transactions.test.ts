import { describe, expect, it } from 'vitest';
import { merchantFixture, transactionFixture } from '../../test/helpers/store-fixtures.js';
import { testConfig } from '../../test/helpers/sandbox.js';
import { DEFAULT_MERCHANT } from '../merchants/default-merchant.js';
import type { Transaction } from '../payments/transaction.js';
import { createSandboxContext } from '../sandbox-context.js';
import { createManualClock } from '../shared/clock.js';
import { createTransactionCompactor, CreatedRecord, isJustCreated } from './compact-transactions.js';
import { createMemoryStore } from './memory-store.js';

const START = 1_767_225_600_000;

/** A create payload as the route hands it over: freshly parsed JSON text. */
const parsedPayload = (orderId: string, extra: Record<string, unknown> = {}) =>
  JSON.parse(
    JSON.stringify({
      order: {
        amount: 1234.25,
        order_id: orderId,
        description: `Заказ ${orderId}: тестовый товар`,
        type: 'ecom',
        callback_post_url: 'http://127.0.0.1:9/callback',
        callback_success_url: 'http://localhost/shop/ok',
        show_close_button: true,
      },
      user: { merchant_user_id: 'user-1', phone: '+77778889900', email: 'buyer@example.kz' },
      ...extra,
    }),
  ) as Record<string, unknown>;

async function sandbox() {
  const clock = createManualClock(START);
  const ctx = await createSandboxContext(testConfig(), { clock });
  const merchant = (await ctx.merchants.get(DEFAULT_MERCHANT.app_id))!;
  return { ctx, clock, merchant };
}

describe('memory store: a transaction as create-payment made it', () => {
  it('is kept compactly and read back as a new object equal to it, in the same key order', async () => {
    const { ctx, merchant } = await sandbox();
    const { tx } = await ctx.payments.create(merchant, parsedPayload('C-1'));
    const read = (await ctx.store.getTransaction(tx.hash))!;
    expect(read).not.toBe(tx); // rebuilt from the compact record
    expect(read).toStrictEqual(tx);
    expect(JSON.stringify(read)).toBe(JSON.stringify(tx));
    expect(await ctx.store.findTransactionByOrder(merchant.app_id, 'C-1')).toStrictEqual(tx);
    expect(await ctx.store.listTransactions({ status: 'pending' })).toStrictEqual([tx]);
    expect(await ctx.store.listTransactions({ status: 'authorized' })).toEqual([]);
  });

  it('keeps a create-time scenario, and the payload exactly as received', async () => {
    const { ctx, merchant } = await sandbox();
    const payload = parsedPayload('C-2', { extra_field: { nested: [1, 'два', null] } });
    const received = structuredClone(payload);
    const { tx } = await ctx.payments.create(merchant, payload, { scenario: 'slow-callbacks' });
    const read = (await ctx.store.getTransaction(tx.hash))!;
    expect(read.scenario).toBe('slow-callbacks');
    expect(JSON.stringify(read)).toBe(JSON.stringify(tx));
    expect(read.payload).toStrictEqual(received);
    expect(JSON.stringify(read.payload)).toBe(JSON.stringify(received));
  });

  it('is stored whole again once something happened to it', async () => {
    const { ctx, clock, merchant } = await sandbox();
    const { tx } = await ctx.payments.create(merchant, parsedPayload('C-3'));
    const after = await ctx.payments.apply(tx.hash, { type: 'authorize', at: clock.now() + 10, card: null });
    const read = (await ctx.store.getTransaction(tx.hash))!;
    expect(read).toBe(after);
    expect(read.status).toBe(after.status);
    expect(read.history).toHaveLength(2);
    expect(read.urls).toBe(tx.urls);
  });

  it('shares one frozen urls object among transactions with the same URLs, not among others', async () => {
    const { ctx, merchant } = await sandbox();
    const a = (await ctx.payments.create(merchant, parsedPayload('S-1'))).tx;
    const b = (await ctx.payments.create(merchant, parsedPayload('S-2'))).tx;
    const other = parsedPayload('S-3');
    (other.order as Record<string, unknown>).callback_success_url = 'http://localhost/shop/thanks';
    const c = (await ctx.payments.create(merchant, other)).tx;
    expect((await ctx.store.getTransaction(a.hash))!.urls).toBe(
      (await ctx.store.getTransaction(b.hash))!.urls,
    );
    expect(Object.isFrozen(a.urls)).toBe(true);
    expect(c.urls).not.toBe(a.urls);
    expect(c.urls).toStrictEqual({
      callback_post_url: 'http://127.0.0.1:9/callback',
      callback_success_url: 'http://localhost/shop/thanks',
    });
  });
});

describe('createTransactionCompactor', () => {
  it('packs a just-created transaction into a record that gives it back', () => {
    const compact = createTransactionCompactor();
    const tx = transactionFixture(1);
    const stored = compact.pack(tx);
    expect(stored).toBeInstanceOf(CreatedRecord);
    expect(compact.unpack(stored)).toStrictEqual(tx);
    expect(JSON.stringify(compact.unpack(stored))).toBe(JSON.stringify(tx));
  });

  const history = transactionFixture(1).history;
  const at = transactionFixture(1).created_at;
  const touched: [string, Partial<Transaction>][] = [
    ['another status', { status: 'authorized' }],
    [
      'a second history entry',
      { history: [...history, { status: 'authorized', at: at + 1, event: 'authorize' }] },
    ],
    ['a history entry with a detail', { history: [{ status: 'pending', at, event: 'create', detail: 'x' }] }],
    ['a history entry from another time', { history: [{ status: 'pending', at: at + 1, event: 'create' }] }],
    ['a status time of its own', { status_created_at: at + 1 }],
    ['a refund', { refunds: [{ amount: 1, at, reason: null }] }],
    [
      'a card',
      { card: { masked: '4111…1111', brand: 'VISA', cardholder: 'X', exp_month: '01', exp_year: '30' } },
    ],
    ['an update time', { updated_at: at + 1 }],
    ['an error', { error: { error_type: 'ERROR_PAYMENT', error_message: 'x' } }],
    ['an acquirer session', { acquirer: { mode: 'v2', back_link: 'http://x/', framed: false, attempts: 0 } }],
    ['an empty scenario', { scenario: '' }],
  ];
  it.each(touched)('keeps a transaction with %s as it is', (_what, patch) => {
    const tx = transactionFixture(1, patch);
    expect(isJustCreated(tx)).toBe(false);
    expect(createTransactionCompactor().pack(tx)).toBe(tx);
  });

  it('keeps a transaction whose keys are in another order as it is (JSON output must not change)', () => {
    const { id, hash, ...rest } = transactionFixture(1);
    const tx = { hash, id, ...rest } as Transaction;
    expect(createTransactionCompactor().pack(tx)).toBe(tx);
  });

  it('leaves the payload and user equal, including a user that is not the payload’s own object', () => {
    const compact = createTransactionCompactor();
    const payload = parsedPayload('P-1');
    const tx = transactionFixture(1, { payload, user: { email: 'buyer@example.kz', phone: '+77778889900' } });
    const before = structuredClone(tx);
    const back = compact.unpack(compact.pack(tx));
    expect(back).toStrictEqual(before);
    expect(JSON.stringify(back)).toBe(JSON.stringify(before));
  });

  it('shares URL sets only with the same keys in the same order, and only up to its bound', () => {
    const compact = createTransactionCompactor();
    const url = 'https://shop.example.kz/cb';
    const a = compact.unpack(
      compact.pack(transactionFixture(1, { urls: { callback_post_url: url, callback_back_url: url } })),
    );
    const b = compact.unpack(
      compact.pack(transactionFixture(2, { urls: { callback_post_url: url, callback_back_url: url } })),
    );
    const swapped = compact.unpack(
      compact.pack(transactionFixture(3, { urls: { callback_back_url: url, callback_post_url: url } })),
    );
    expect(b.urls).toBe(a.urls);
    expect(swapped.urls).not.toBe(a.urls);
    expect(Object.keys(swapped.urls)).toEqual(['callback_back_url', 'callback_post_url']);
    for (let i = 0; i < 1000; i++)
      compact.pack(transactionFixture(10 + i, { urls: { callback_post_url: `${url}?${i}` } }));
    const beyond = transactionFixture(5000, { urls: { callback_post_url: `${url}?new` } });
    const kept = compact.unpack(compact.pack(beyond));
    expect(Object.isFrozen(kept.urls)).toBe(false);
    expect(kept.urls).toStrictEqual({ callback_post_url: `${url}?new` });
  });

  it('forgets its shared values on clear', () => {
    const compact = createTransactionCompactor();
    const urls = () => ({ callback_post_url: 'https://shop.example.kz/cb' });
    const a = compact.unpack(compact.pack(transactionFixture(1, { urls: urls() })));
    compact.clear();
    const b = compact.unpack(compact.pack(transactionFixture(2, { urls: urls() })));
    expect(b.urls).not.toBe(a.urls);
    expect(b.urls).toStrictEqual(a.urls);
  });
});

describe('memory store reset', () => {
  it('drops compact records and shared values with the transactions', async () => {
    const store = createMemoryStore({ journalSize: 10 });
    await store.putMerchant(merchantFixture(transactionFixture(0).app_id, { builtin: true }));
    const tx = transactionFixture(await store.nextTransactionId());
    await store.insertTransaction(tx);
    await store.reset();
    expect(await store.getTransaction(tx.hash)).toBeUndefined();
    expect(await store.countTransactions()).toBe(0);
    const again = transactionFixture(1, { urls: { callback_post_url: 'https://shop.example.kz/cb' } });
    expect(await store.insertTransaction(again)).toEqual({ inserted: true });
    expect(again.urls).not.toBe(tx.urls);
    expect(await store.getTransaction(again.hash)).toStrictEqual(again);
  });
});
