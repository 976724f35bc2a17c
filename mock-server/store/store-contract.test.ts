import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deliveryFixture,
  journalFixture,
  merchantFixture,
  transactionFixture,
} from '../../test/helpers/store-fixtures.js';
import { createMemoryStore } from './memory-store.js';
import { createSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/**
 * One suite, run against every Store implementation, so the memory and SQLite stores cannot drift
 * apart: whatever a route or service sees from one, it sees from the other.
 */
const dir = mkdtempSync(join(tmpdir(), 'ktpay-store-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;

const implementations: [string, (journalSize: number) => Store][] = [
  ['memory', (journalSize) => createMemoryStore({ journalSize })],
  [
    'sqlite',
    (journalSize) => createSqliteStore({ path: join(dir, `contract-${++fileSeq}.db`), journalSize }),
  ],
];

describe.each(implementations)('Store contract: %s', (kind, open) => {
  let store: Store;
  beforeEach(() => {
    store = open(5);
  });
  afterEach(() => store.close());

  it('reports its kind', () => {
    expect(store.kind).toBe(kind);
  });

  describe('merchants', () => {
    it('puts, gets and lists them in insertion order; an update keeps the position', () => {
      const a = merchantFixture('a'.repeat(32), { builtin: true });
      const b = merchantFixture('b'.repeat(32), { scenario: 'slow-callbacks' });
      store.putMerchant(a);
      store.putMerchant(b);
      store.putMerchant({ ...a, name: 'Переименован' });
      expect(store.getMerchant(b.app_id)).toEqual(b);
      expect(store.getMerchant('c'.repeat(32))).toBeUndefined();
      expect(store.listMerchants().map((m) => [m.app_id, m.name])).toEqual([
        [a.app_id, 'Переименован'],
        [b.app_id, b.name],
      ]);
    });

    it('deletes one and says whether it existed', () => {
      store.putMerchant(merchantFixture('a'.repeat(32)));
      expect(store.deleteMerchant('a'.repeat(32))).toBe(true);
      expect(store.deleteMerchant('a'.repeat(32))).toBe(false);
      expect(store.getMerchant('a'.repeat(32))).toBeUndefined();
      expect(store.listMerchants()).toEqual([]);
    });
  });

  describe('transactions', () => {
    it('hands out increasing ids starting at 1', () => {
      expect([store.nextTransactionId(), store.nextTransactionId(), store.nextTransactionId()]).toEqual([
        1, 2, 3,
      ]);
    });

    it('round-trips a transaction exactly, nested payload and Cyrillic included', () => {
      const tx = transactionFixture(1);
      expect(store.insertTransaction(tx)).toBe(true);
      expect(store.getTransaction(tx.hash)).toEqual(tx);
      expect(store.findTransactionByOrder(tx.app_id, tx.order_id)).toEqual(tx);
      expect(store.getTransaction('f'.repeat(40))).toBeUndefined();
      expect(store.findTransactionByOrder(tx.app_id, 'no-such-order')).toBeUndefined();
    });

    it('refuses a second transaction with the same (app_id, order_id) and keeps the first', () => {
      const first = transactionFixture(1);
      expect(store.insertTransaction(first)).toBe(true);
      expect(store.insertTransaction(transactionFixture(2, { order_id: first.order_id, amount: 5 }))).toBe(
        false,
      );
      expect(store.countTransactions()).toBe(1);
      expect(store.findTransactionByOrder(first.app_id, first.order_id)).toEqual(first);
      // The same order_id under another merchant is a different order.
      expect(
        store.insertTransaction(transactionFixture(3, { order_id: first.order_id, app_id: 'b'.repeat(32) })),
      ).toBe(true);
      expect(store.countTransactions()).toBe(2);
    });

    it('updates a transaction in place; lookups by hash and by order see the new version', () => {
      const tx = transactionFixture(1);
      store.insertTransaction(tx);
      const next = {
        ...tx,
        status: 'partially_refunded' as const,
        refunds: [{ amount: 100, at: tx.created_at + 5000, reason: 'возврат' }],
        history: [
          ...tx.history,
          { status: 'partially_refunded' as const, at: tx.created_at + 5000, event: 'refund' },
        ],
      };
      store.updateTransaction(next);
      expect(store.getTransaction(tx.hash)).toEqual(next);
      expect(store.findTransactionByOrder(tx.app_id, tx.order_id)).toEqual(next);
      expect(store.listTransactions({ status: 'partially_refunded' })).toEqual([next]);
      expect(store.listTransactions({ status: 'pending' })).toEqual([]);
      expect(store.countTransactions()).toBe(1);
    });

    it('lists newest first, filtered by app_id, status and order_id, 100 by default', () => {
      for (let i = 1; i <= 105; i++) {
        store.insertTransaction(
          transactionFixture(i, {
            app_id: i % 2 ? 'a'.repeat(32) : 'b'.repeat(32),
            status: i % 3 ? 'pending' : 'completed',
          }),
        );
      }
      const all = store.listTransactions({});
      expect(all).toHaveLength(100);
      expect(all[0]!.id).toBe(105);
      expect(all[99]!.id).toBe(6);
      expect(store.listTransactions({ limit: 3 }).map((t) => t.id)).toEqual([105, 104, 103]);
      expect(store.listTransactions({ limit: 0 })).toEqual([]);
      expect(
        store.listTransactions({ app_id: 'b'.repeat(32), status: 'completed', limit: 4 }).map((t) => t.id),
      ).toEqual([102, 96, 90, 84]);
      expect(store.listTransactions({ order_id: 'Order-7' }).map((t) => t.id)).toEqual([7]);
      expect(store.listTransactions({ order_id: 'Order-7', app_id: 'b'.repeat(32) })).toEqual([]);
      expect(store.countTransactions()).toBe(105);
    });
  });

  describe('journal', () => {
    it('numbers entries and keeps only the newest journalSize of them, newest first', () => {
      const ids = [];
      for (let i = 1; i <= 8; i++) ids.push(store.appendJournal(journalFixture(1000 + i)).id);
      expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const listed = store.listJournal({});
      expect(listed.map((e) => e.id)).toEqual([8, 7, 6, 5, 4]);
      expect(listed[0]).toEqual({ ...journalFixture(1008), id: 8 });
    });

    it('filters by app_id, order_id, transaction_hash, since and limit', () => {
      store.appendJournal(journalFixture(10, { order_id: 'A', transaction_hash: 'h1' }));
      store.appendJournal(journalFixture(20, { order_id: 'B', app_id: 'other' }));
      store.appendJournal(journalFixture(30, { order_id: 'A', transaction_hash: 'h2' }));
      store.appendJournal(journalFixture(40, { order_id: null, app_id: null }));
      expect(store.listJournal({ order_id: 'A' }).map((e) => e.at)).toEqual([30, 10]);
      expect(store.listJournal({ app_id: 'other' }).map((e) => e.at)).toEqual([20]);
      expect(store.listJournal({ transaction_hash: 'h1' }).map((e) => e.at)).toEqual([10]);
      expect(store.listJournal({ since: 20 }).map((e) => e.at)).toEqual([40, 30, 20]);
      expect(store.listJournal({ since: 20, limit: 2 }).map((e) => e.at)).toEqual([40, 30]);
      expect(store.listJournal({ order_id: 'A', since: 11 }).map((e) => e.at)).toEqual([30]);
    });
  });

  describe('callback deliveries', () => {
    it('puts, updates and lists them in creation order with filters', () => {
      store.putDelivery(deliveryFixture('d1'));
      store.putDelivery(deliveryFixture('d2', { transaction_hash: 'b'.repeat(40), app_id: 'other' }));
      store.putDelivery(deliveryFixture('d3', { state: 'retrying' }));
      const acked = deliveryFixture('d1', {
        state: 'acknowledged',
        next_attempt_at: null,
        attempts: [
          {
            attempt: 1,
            trigger: 'schedule',
            due_at: 1_767_225_615_000,
            at: 1_767_225_615_000,
            request_headers: { 'content-type': 'application/json', 'x-ktpay-attempt': '1' },
            request_body: '{"order_id":"1","status":{"status":"completed"}}',
            sent: true,
            response_status: 200,
            response_headers: { 'content-type': 'application/json' },
            response_body: '{"status":"ok"}',
            latency_ms: 12,
            verdict: 'acknowledged',
            reason: 'answered {"status":"ok"}',
          },
        ],
      });
      store.putDelivery(acked);
      expect(store.getDelivery('d1')).toEqual(acked);
      expect(store.getDelivery('nope')).toBeUndefined();
      expect(store.listDeliveries({}).map((d) => d.id)).toEqual(['d1', 'd2', 'd3']);
      expect(store.listDeliveries({ transaction_hash: 'a'.repeat(40) }).map((d) => d.id)).toEqual([
        'd1',
        'd3',
      ]);
      expect(store.listDeliveries({ state: 'retrying' }).map((d) => d.id)).toEqual(['d3']);
      expect(store.listDeliveries({ app_id: 'other' }).map((d) => d.id)).toEqual(['d2']);
      expect(store.listDeliveries({ app_id: 'other', state: 'retrying' })).toEqual([]);
    });

    it('lists as open every delivery not acknowledged and not failed', () => {
      store.putDelivery(deliveryFixture('p', { state: 'pending' }));
      store.putDelivery(deliveryFixture('r', { state: 'retrying' }));
      store.putDelivery(deliveryFixture('i', { state: 'delivering' }));
      store.putDelivery(deliveryFixture('a', { state: 'acknowledged' }));
      store.putDelivery(deliveryFixture('f', { state: 'failed' }));
      expect(store.listOpenDeliveries().map((d) => d.id)).toEqual(['p', 'r', 'i']);
    });
  });

  describe('reset', () => {
    it('drops transactions, journal, deliveries and runtime merchants, keeps builtins, and ids keep counting', () => {
      const builtin = merchantFixture('a'.repeat(32), { builtin: true });
      store.putMerchant(builtin);
      store.putMerchant(merchantFixture('b'.repeat(32)));
      const tx = transactionFixture(store.nextTransactionId());
      store.insertTransaction(tx);
      store.appendJournal(journalFixture(1));
      store.appendJournal(journalFixture(2));
      store.putDelivery(deliveryFixture('d1'));

      store.reset();

      expect(store.listMerchants()).toEqual([builtin]);
      expect(store.countTransactions()).toBe(0);
      expect(store.getTransaction(tx.hash)).toBeUndefined();
      expect(store.findTransactionByOrder(tx.app_id, tx.order_id)).toBeUndefined();
      expect(store.listJournal({})).toEqual([]);
      expect(store.listDeliveries({})).toEqual([]);
      expect(store.listOpenDeliveries()).toEqual([]);
      // The order_id is free again; ids do not restart.
      expect(
        store.insertTransaction(transactionFixture(store.nextTransactionId(), { order_id: tx.order_id })),
      ).toBe(true);
      expect(store.listTransactions({})[0]!.id).toBe(2);
      expect(store.appendJournal(journalFixture(3)).id).toBe(3);
    });
  });
});
