import { describe, expect, it } from 'vitest';
import { merchantFixture, transactionFixture } from '../../test/helpers/store-fixtures.js';
import { testConfig } from '../../test/helpers/sandbox.js';
import { DEFAULT_MERCHANT } from '../merchants/default-merchant.js';
import type { Transaction } from '../payments/transaction.js';
import { createSandboxContext } from '../sandbox-context.js';
import { createManualClock } from '../shared/clock.js';
import {
  createTransactionCompactor,
  CreatedRecord,
  isJustCreated,
  RecordShape,
} from './compact-transactions.js';
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

describe('createTransactionCompactor: the payload and what records share', () => {
  /** A just-created transaction whose payload is what create-payment receives, parsed. */
  const created = (id: number, payload: Record<string, unknown> = parsedPayload(`Order-${id}`)) => {
    const order = payload.order as Record<string, unknown>;
    return transactionFixture(id, {
      order_id: order.order_id as string,
      amount: order.amount as number,
      description: order.description as string,
      urls: {
        callback_post_url: order.callback_post_url as string,
        callback_success_url: order.callback_success_url as string,
      },
      show_close_button: order.show_close_button as boolean,
      user: (payload.user ?? null) as Transaction['user'],
      payload,
    });
  };
  const record = (stored: unknown) => {
    expect(stored).toBeInstanceOf(CreatedRecord);
    return stored as CreatedRecord;
  };

  it('rebuilds a payload that holds only what the transaction holds, equal and in the same key order', () => {
    const compact = createTransactionCompactor();
    const tx = created(1);
    const received = structuredClone(tx);
    const stored = record(compact.pack(tx));
    expect(stored.kept).toBeUndefined(); // no payload objects kept
    expect(stored.shape.orderKeys).toEqual(Object.keys((received.payload as { order: object }).order));
    const back = compact.unpack(stored);
    expect(back.payload).not.toBe(tx.payload);
    expect(back).toStrictEqual(received);
    expect(JSON.stringify(back)).toBe(JSON.stringify(received));
    expect((back.payload as { user: unknown }).user).toBe(back.user);
  });

  it('rebuilds `{ order }` without a user, and an order in another key order in that order', () => {
    const compact = createTransactionCompactor();
    const { order } = parsedPayload('K-1') as { order: Record<string, unknown> };
    const reordered = Object.fromEntries(Object.entries(order).reverse());
    const tx = created(2, { order: reordered });
    expect(tx.user).toBeNull();
    const received = structuredClone(tx);
    const back = compact.unpack(record(compact.pack(tx)));
    expect(JSON.stringify(back)).toBe(JSON.stringify(received));
    expect(Object.keys(back.payload as object)).toEqual(['order']);
    expect(Object.keys((back.payload as { order: object }).order)).toEqual(Object.keys(reordered));
  });

  const kept: [string, (p: Record<string, unknown>) => void][] = [
    ['an extra top-level key', (p) => void (p.extra = { nested: [1, 'два', null] })],
    [
      'the user first',
      (p) => {
        const order = p.order;
        delete p.order;
        p.order = order;
      },
    ],
    ['an unknown order key', (p) => void ((p.order as Record<string, unknown>).note = 'x')],
    [
      'an amount the transaction does not hold',
      (p) => void ((p.order as Record<string, unknown>).amount = 1),
    ],
    [
      'an empty URL (not in urls)',
      (p) => void ((p.order as Record<string, unknown>).callback_failed_url = ''),
    ],
    ['a frozen order', (p) => void Object.freeze(p.order)],
  ];
  it.each(kept)('keeps a payload with %s as received', (_what, change) => {
    const compact = createTransactionCompactor();
    const tx = created(3);
    change(tx.payload as Record<string, unknown>);
    const payload = tx.payload;
    const stored = record(compact.pack(tx));
    expect(stored.kept).toBe(payload);
    expect(stored.shape.orderKeys).toBeNull();
    expect(compact.unpack(stored).payload).toBe(payload);
  });

  it('keeps the payload when the user is not the payload’s own object', () => {
    const compact = createTransactionCompactor();
    const tx = created(4);
    tx.user = { ...tx.user! };
    const stored = record(compact.pack(tx));
    expect(stored.kept).toBe(tx.payload);
    expect(compact.unpack(stored).user).toBe(tx.user);
  });

  it('gives a service back from the payload it was copied from, and keeps a service of its own whole', () => {
    const compact = createTransactionCompactor();
    const payload = parsedPayload('SV-1');
    Object.assign(payload.order as object, {
      type: 'service',
      service: { service_id: 17, contract_value: '42' },
    });
    const tx = created(5, payload);
    tx.type = 'service';
    tx.service = { service_id: 17, contract_value: '42' };
    const received = structuredClone(tx);
    const stored = record(compact.pack(tx));
    expect(stored.shape.serviceFromPayload).toBe(true);
    expect(stored.kept).toBe(payload);
    expect(compact.unpack(stored)).toStrictEqual(received);
    expect(JSON.stringify(compact.unpack(stored))).toBe(JSON.stringify(received));

    const other = created(6, structuredClone(payload));
    other.type = 'service';
    other.service = { service_id: 17, contract_value: '43' }; // not the payload's
    expect(compact.pack(other)).toBe(other);
  });

  it('shares one frozen copy of an equal user (same keys, order and values) among rebuilt payloads', () => {
    const compact = createTransactionCompactor();
    const a = created(11);
    const b = created(12); // the same user, parsed again: another object
    const other = created(13);
    (other.payload as { user: Record<string, unknown> }).user.email = 'someone@example.kz';
    const swapped = created(14);
    const { merchant_user_id, phone, email } = swapped.user!;
    swapped.user = { phone: phone!, merchant_user_id: merchant_user_id!, email: email! };
    (swapped.payload as { user: unknown }).user = swapped.user;
    const [ra, rb, ro, rs] = [a, b, other, swapped].map((tx) => record(compact.pack(tx)));
    expect(a.user).not.toBe(b.user);
    expect(rb!.user).toBe(ra!.user);
    expect(Object.isFrozen(ra!.user)).toBe(true);
    expect(ra!.user).not.toBe(a.user); // a copy: the caller's object is left as it was
    expect(Object.isFrozen(a.user)).toBe(false);
    expect(ro!.user).not.toBe(ra!.user);
    expect(rs!.user).not.toBe(ra!.user);
    expect(Object.keys(compact.unpack(rs!).user!)).toEqual(['phone', 'merchant_user_id', 'email']);
    const back = compact.unpack(rb!);
    expect(back).toStrictEqual(structuredClone(b));
    expect((back.payload as { user: unknown }).user).toBe(back.user);
    compact.clear();
    expect(record(compact.pack(created(15))).user).not.toBe(ra!.user);
  });

  it('does not share a user with a value other than a string or number', () => {
    const compact = createTransactionCompactor();
    const odd = () => {
      const tx = created(16);
      (tx.user as Record<string, unknown>).merchant_user_id = true;
      return tx;
    };
    const [a, b] = [odd(), odd()];
    expect(record(compact.pack(a)).user).toBe(a.user);
    expect(record(compact.pack(b)).user).toBe(b.user);
  });

  it('shares one shape among records of one merchant and layout, not across merchants or scenarios', () => {
    const compact = createTransactionCompactor();
    const a = record(compact.pack(created(7)));
    const b = record(compact.pack(created(8)));
    const otherMerchant = record(compact.pack({ ...created(9), app_id: 'f'.repeat(32) }));
    const withScenario = record(compact.pack({ ...created(10), scenario: 'slow-callbacks' }));
    expect(b.shape).toBe(a.shape);
    expect(a.shape).toBeInstanceOf(RecordShape);
    expect(otherMerchant.shape).not.toBe(a.shape);
    expect(withScenario.shape).not.toBe(a.shape);
    expect(compact.unpack(otherMerchant).app_id).toBe('f'.repeat(32));
    expect(compact.unpack(withScenario).scenario).toBe('slow-callbacks');
    expect(otherMerchant.app_id).toBe('f'.repeat(32)); // listTransactions filters on the record
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
