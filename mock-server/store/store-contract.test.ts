import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deliveryFixture,
  journalFixture,
  merchantFixture,
  scenarioFixture,
  transactionFixture,
} from '../../test/helpers/store-fixtures.js';
import type { Delivery } from '../callbacks/delivery.js';
import { createMemoryStore } from './memory-store.js';
import { createSqliteStore } from './sqlite-store.js';
import {
  findPostgresBin,
  POSTGRES_RUNTIME,
  startPostgres,
  type PostgresServer,
} from '../../test/helpers/postgres-server.js';
import { foreignRuntime } from '../../test/helpers/foreign-runtime.js';
import { createPostgresStore } from './postgres-store.js';
import type { NewMerchant, Store } from './store.js';

/**
 * One suite, run against every Store implementation, so the stores cannot drift apart: whatever a
 * route or service sees from one, it sees from the others.
 */
const dir = mkdtempSync(join(tmpdir(), 'ktpay-store-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;

/** A merchant without a merchant_id, for the store to number. */
function unnumbered(appId: string): NewMerchant {
  const m: NewMerchant = merchantFixture(appId);
  delete m.merchant_id;
  return m;
}

export type StoreFactory = (journalSize: number) => Promise<Store>;

// A real PostgreSQL server, started once for the file when its binaries are there; each test
// gets a fresh database on it.
const pgBin = findPostgresBin();
const withPostgres = foreignRuntime(POSTGRES_RUNTIME, 'Store contract: postgres', pgBin !== undefined);
let pgServer: Promise<PostgresServer> | undefined;
let pgUrl = '';
afterAll(async () => {
  if (pgServer) await (await pgServer).stop();
});

const implementations: [string, StoreFactory][] = [
  ['memory', async (journalSize) => createMemoryStore({ journalSize })],
  [
    'sqlite',
    async (journalSize) => createSqliteStore({ path: join(dir, `contract-${++fileSeq}.db`), journalSize }),
  ],
  ...(withPostgres
    ? ([
        [
          'postgres',
          async (journalSize: number) => {
            // One database for the file, emptied before each test (a CREATE DATABASE each costs ~1 s).
            pgServer ??= startPostgres({ bin: pgBin! }).then(async (server) => {
              pgUrl = await server.createDatabase('contract');
              return server;
            });
            await pgServer;
            const store = await createPostgresStore({ url: pgUrl, journalSize });
            await store.sql
              .unsafe(`TRUNCATE merchants, transactions, deliveries, journal, scenarios, scenario_uses
              RESTART IDENTITY; ALTER SEQUENCE transaction_id_blocks RESTART`);
            return store;
          },
        ],
      ] as [string, StoreFactory][])
    : []),
];

describe.each(implementations)('Store contract: %s', (kind, open) => {
  let store: Store;
  beforeEach(async () => {
    store = await open(5);
  });
  afterEach(() => store.close());

  it('reports its kind', () => {
    expect(store.kind).toBe(kind);
  });

  describe('merchants', () => {
    it('puts, gets and lists them in insertion order; an update keeps the position', async () => {
      const a = merchantFixture('a'.repeat(32), { builtin: true });
      const b = merchantFixture('b'.repeat(32), { scenario: 'slow-callbacks' });
      await store.putMerchant(a);
      await store.putMerchant(b);
      await store.putMerchant({ ...a, name: 'Переименован' });
      expect(await store.getMerchant(b.app_id)).toEqual(b);
      expect(await store.getMerchant('c'.repeat(32))).toBeUndefined();
      expect((await store.listMerchants()).map((m) => [m.app_id, m.name])).toEqual([
        [a.app_id, 'Переименован'],
        [b.app_id, b.name],
      ]);
    });

    it('inserts a new one, numbering it when it has no merchant_id, and refuses a taken app_id', async () => {
      await store.putMerchant(merchantFixture('a'.repeat(32), { merchant_id: 7 }));
      const draft = unnumbered('b'.repeat(32));
      const b = await store.insertMerchant(draft);
      expect(b).toEqual({ ...draft, merchant_id: 8 });
      expect(await store.getMerchant(draft.app_id)).toEqual(b);
      expect(await store.insertMerchant({ ...draft, name: 'Другой' })).toBeUndefined();
      expect((await store.getMerchant(draft.app_id))?.name).toBe(draft.name);
      expect(await store.insertMerchant(merchantFixture('c'.repeat(32), { merchant_id: 42 }))).toMatchObject({
        merchant_id: 42,
      });
    });

    it('numbers concurrent inserts apart, and of two inserts of one app_id exactly one wins', async () => {
      const drafts = ['1', '2', '3', '4'].map((c) => unnumbered(c.repeat(32)));
      const made = await Promise.all(drafts.map((d) => store.insertMerchant(d)));
      expect(new Set(made.map((m) => m?.merchant_id)).size).toBe(4);
      const same = await Promise.all([store.insertMerchant(drafts[0]!), store.insertMerchant(drafts[0]!)]);
      expect(same).toEqual([undefined, undefined]);
      const fresh = unnumbered('f'.repeat(32));
      const race = await Promise.all([store.insertMerchant(fresh), store.insertMerchant(fresh)]);
      expect(race.filter(Boolean)).toHaveLength(1);
    });

    it('updates one through a change function; undefined writes nothing; an unknown app_id is undefined', async () => {
      const a = merchantFixture('a'.repeat(32));
      await store.putMerchant(a);
      const changed = await store.updateMerchant(a.app_id, (m) => ({ ...m, scenario: 'flaky-create' }));
      expect(changed?.before).toEqual(a);
      expect(changed?.after).toEqual({ ...a, scenario: 'flaky-create' });
      expect(await store.getMerchant(a.app_id)).toEqual({ ...a, scenario: 'flaky-create' });
      const same = await store.updateMerchant(a.app_id, () => undefined);
      expect(same?.after).toBe(same?.before);
      expect(await store.updateMerchant('c'.repeat(32), (m) => m)).toBeUndefined();
    });

    it('deletes one and says whether it existed', async () => {
      await store.putMerchant(merchantFixture('a'.repeat(32)));
      expect(await store.deleteMerchant('a'.repeat(32))).toBe(true);
      expect(await store.deleteMerchant('a'.repeat(32))).toBe(false);
      expect(await store.getMerchant('a'.repeat(32))).toBeUndefined();
      expect(await store.listMerchants()).toEqual([]);
    });
  });

  describe('transactions', () => {
    // A transaction belongs to a merchant the store holds (the fixtures' app_id).
    beforeEach(() => store.putMerchant(merchantFixture(transactionFixture(0).app_id)));

    it('refuses a transaction whose merchant it does not hold, or no longer holds, as unknown_merchant', async () => {
      const stray = transactionFixture(1, { app_id: 'c'.repeat(32) });
      expect(await store.insertTransaction(stray)).toEqual({ inserted: false, reason: 'unknown_merchant' });
      expect(await store.getTransaction(stray.hash)).toBeUndefined();
      await store.putMerchant(merchantFixture('c'.repeat(32)));
      await store.purgeMerchant('c'.repeat(32));
      expect(await store.insertTransaction(stray)).toEqual({ inserted: false, reason: 'unknown_merchant' });
      expect(await store.countTransactions()).toBe(0);
    });

    it('of inserts racing with a purge of their merchant, none outlives it', async () => {
      const A = 'd'.repeat(32);
      await store.putMerchant(merchantFixture(A));
      const ids = await Promise.all(Array.from({ length: 20 }, () => store.nextTransactionId()));
      const txs = ids.map((id) => transactionFixture(id, { app_id: A }));
      const [purge, ...inserts] = await Promise.all([
        store.purgeMerchant(A),
        ...txs.map((tx) => store.insertTransaction(tx)),
      ]);
      // Each insert went in before the purge (and was purged with it) or found the merchant gone.
      const before = inserts.filter((r) => r.inserted).length;
      expect(purge?.transactions).toBe(before);
      for (const r of inserts) if (!r.inserted) expect(r.reason).toBe('unknown_merchant');
      expect(await store.listTransactions({ app_id: A })).toEqual([]);
    });

    it('hands out increasing ids starting at 1, also when asked concurrently', async () => {
      expect([await store.nextTransactionId(), await store.nextTransactionId()]).toEqual([1, 2]);
      const ids = await Promise.all(Array.from({ length: 20 }, () => store.nextTransactionId()));
      expect(new Set(ids).size).toBe(20);
      expect(Math.min(...ids)).toBeGreaterThan(2);
    });

    it('round-trips a transaction exactly, nested payload and Cyrillic included', async () => {
      const tx = transactionFixture(1);
      expect(await store.insertTransaction(tx)).toEqual({ inserted: true });
      expect(await store.getTransaction(tx.hash)).toEqual(tx);
      expect(await store.findTransactionByOrder(tx.app_id, tx.order_id)).toEqual(tx);
      expect(await store.getTransaction('f'.repeat(40))).toBeUndefined();
      expect(await store.findTransactionByOrder(tx.app_id, 'no-such-order')).toBeUndefined();
    });

    it('answers duplicate_order for a second (app_id, order_id) and keeps the first', async () => {
      const first = transactionFixture(1);
      expect(await store.insertTransaction(first)).toEqual({ inserted: true });
      expect(
        await store.insertTransaction(transactionFixture(2, { order_id: first.order_id, amount: 5 })),
      ).toEqual({ inserted: false, reason: 'duplicate_order' });
      expect(await store.countTransactions()).toBe(1);
      expect(await store.findTransactionByOrder(first.app_id, first.order_id)).toEqual(first);
      // The same order_id under another merchant is a different order.
      await store.putMerchant(merchantFixture('b'.repeat(32)));
      expect(
        await store.insertTransaction(
          transactionFixture(3, { order_id: first.order_id, app_id: 'b'.repeat(32) }),
        ),
      ).toEqual({ inserted: true });
      expect(await store.countTransactions()).toBe(2);
    });

    it('of ten concurrent inserts of one order exactly one is stored', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.insertTransaction(transactionFixture(i + 1, { order_id: 'same' })),
        ),
      );
      expect(results.filter((r) => r.inserted)).toHaveLength(1);
      expect(await store.countTransactions()).toBe(1);
    });

    it('updates a transaction through a change function; lookups by hash and by order see the new version', async () => {
      const tx = transactionFixture(1);
      await store.insertTransaction(tx);
      const next = {
        ...tx,
        status: 'partially_refunded' as const,
        refunds: [{ amount: 100, at: tx.created_at + 5000, reason: 'возврат' }],
        history: [
          ...tx.history,
          { status: 'partially_refunded' as const, at: tx.created_at + 5000, event: 'refund' },
        ],
      };
      const result = await store.updateTransaction(tx.hash, (cur) => {
        expect(cur).toEqual(tx);
        return { tx: next };
      });
      expect(result).toEqual({ before: tx, after: next });
      expect(await store.getTransaction(tx.hash)).toEqual(next);
      expect(await store.findTransactionByOrder(tx.app_id, tx.order_id)).toEqual(next);
      expect(await store.listTransactions({ status: 'partially_refunded' })).toEqual([next]);
      expect(await store.listTransactions({ status: 'pending' })).toEqual([]);
      expect(await store.countTransactions()).toBe(1);
    });

    it('writes nothing when the change function returns undefined or throws, and says so for an unknown hash', async () => {
      const tx = transactionFixture(1);
      await store.insertTransaction(tx);
      const same = await store.updateTransaction(tx.hash, () => undefined);
      expect(same?.after).toBe(same?.before);
      await expect(
        store.updateTransaction(tx.hash, () => {
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect(await store.getTransaction(tx.hash)).toEqual(tx);
      expect(await store.updateTransaction('f'.repeat(40), (t) => ({ tx: t }))).toBeUndefined();
    });

    it('stores the deliveries a change returns together with it, and none when it writes nothing', async () => {
      const tx = transactionFixture(1);
      await store.insertTransaction(tx);
      const d = deliveryFixture('d1', { transaction_hash: tx.hash });
      await store.updateTransaction(tx.hash, (t) => ({ tx: { ...t, status: 'completed' }, deliveries: [d] }));
      expect(await store.listDeliveries({ transaction_hash: tx.hash })).toEqual([d]);
      await store.updateTransaction(tx.hash, () => undefined);
      await expect(
        store.updateTransaction(tx.hash, () => {
          throw new Error('no');
        }),
      ).rejects.toThrow();
      expect(await store.listDeliveries({})).toEqual([d]);
    });

    it('applies concurrent changes one after the other: none is lost', async () => {
      const tx = transactionFixture(1);
      await store.insertTransaction(tx);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.updateTransaction(tx.hash, (t) => ({
            tx: { ...t, history: [...t.history, { status: 'pending', at: i, event: `touch-${i}` }] },
          })),
        ),
      );
      expect((await store.getTransaction(tx.hash))!.history).toHaveLength(11);
    });

    it('lists newest first, filtered by app_id, status and order_id, 100 by default', async () => {
      for (const appId of ['a'.repeat(32), 'b'.repeat(32)]) await store.putMerchant(merchantFixture(appId));
      for (let i = 1; i <= 105; i++) {
        await store.insertTransaction(
          transactionFixture(i, {
            app_id: i % 2 ? 'a'.repeat(32) : 'b'.repeat(32),
            status: i % 3 ? 'pending' : 'completed',
          }),
        );
      }
      const all = await store.listTransactions({});
      expect(all).toHaveLength(100);
      expect(all[0]!.id).toBe(105);
      expect(all[99]!.id).toBe(6);
      expect((await store.listTransactions({ limit: 3 })).map((t) => t.id)).toEqual([105, 104, 103]);
      expect(await store.listTransactions({ limit: 0 })).toEqual([]);
      expect(
        (await store.listTransactions({ app_id: 'b'.repeat(32), status: 'completed', limit: 4 })).map(
          (t) => t.id,
        ),
      ).toEqual([102, 96, 90, 84]);
      expect((await store.listTransactions({ order_id: 'Order-7' })).map((t) => t.id)).toEqual([7]);
      expect(await store.listTransactions({ order_id: 'Order-7', app_id: 'b'.repeat(32) })).toEqual([]);
      expect(await store.countTransactions()).toBe(105);
    });
  });

  describe('journal', () => {
    it('numbers entries and keeps only the newest journalSize of them, newest first', async () => {
      const ids = [];
      for (let i = 1; i <= 8; i++) ids.push((await store.appendJournal(journalFixture(1000 + i))).id);
      expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const listed = await store.listJournal({});
      expect(listed.map((e) => e.id)).toEqual([8, 7, 6, 5, 4]);
      expect(listed[0]).toEqual({ ...journalFixture(1008), id: 8 });
    });

    it('filters by app_id, order_id, transaction_hash, since and limit', async () => {
      await store.appendJournal(journalFixture(10, { order_id: 'A', transaction_hash: 'h1' }));
      await store.appendJournal(journalFixture(20, { order_id: 'B', app_id: 'other' }));
      await store.appendJournal(journalFixture(30, { order_id: 'A', transaction_hash: 'h2' }));
      await store.appendJournal(journalFixture(40, { order_id: null, app_id: null }));
      const at = async (f: Parameters<Store['listJournal']>[0]) =>
        (await store.listJournal(f)).map((e) => e.at);
      expect(await at({ order_id: 'A' })).toEqual([30, 10]);
      expect(await at({ app_id: 'other' })).toEqual([20]);
      expect(await at({ transaction_hash: 'h1' })).toEqual([10]);
      expect(await at({ since: 20 })).toEqual([40, 30, 20]);
      expect(await at({ since: 20, limit: 2 })).toEqual([40, 30]);
      expect(await at({ order_id: 'A', since: 11 })).toEqual([30]);
    });
  });

  describe('callback deliveries', () => {
    const acked = (d: Delivery): Delivery => ({
      ...d,
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

    it('inserts, updates and lists them in creation order with filters', async () => {
      await store.insertDeliveries([
        deliveryFixture('d1'),
        deliveryFixture('d2', { transaction_hash: 'b'.repeat(40), app_id: 'other' }),
      ]);
      await store.insertDeliveries([deliveryFixture('d3', { state: 'retrying' })]);
      const result = await store.updateDelivery('d1', acked);
      expect(result?.before).toEqual(deliveryFixture('d1'));
      expect(result?.after).toEqual(acked(deliveryFixture('d1')));
      expect(await store.getDelivery('d1')).toEqual(acked(deliveryFixture('d1')));
      expect(await store.getDelivery('nope')).toBeUndefined();
      const ids = async (f: Parameters<Store['listDeliveries']>[0]) =>
        (await store.listDeliveries(f)).map((d) => d.id);
      expect(await ids({})).toEqual(['d1', 'd2', 'd3']);
      expect(await ids({ transaction_hash: 'a'.repeat(40) })).toEqual(['d1', 'd3']);
      expect(await ids({ state: 'retrying' })).toEqual(['d3']);
      expect(await ids({ app_id: 'other' })).toEqual(['d2']);
      expect(await ids({ app_id: 'other', state: 'retrying' })).toEqual([]);
    });

    it('never brings back a delivery that is gone: an update of an unknown id is undefined', async () => {
      expect(await store.updateDelivery('gone', (d) => d)).toBeUndefined();
      expect(await store.getDelivery('gone')).toBeUndefined();
      await store.insertDeliveries([deliveryFixture('d1')]);
      await store.reset();
      expect(await store.updateDelivery('d1', acked)).toBeUndefined();
      expect(await store.listDeliveries({})).toEqual([]);
    });

    it('applies concurrent delivery changes one after the other', async () => {
      await store.insertDeliveries([deliveryFixture('d1')]);
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          store.updateDelivery('d1', (d) => ({ ...d, note: `${d.note ?? ''}${i}` })),
        ),
      );
      expect((await store.getDelivery('d1'))!.note).toHaveLength(6);
    });

    it('lists as open every delivery not acknowledged and not failed', async () => {
      await store.insertDeliveries([
        deliveryFixture('p', { state: 'pending' }),
        deliveryFixture('r', { state: 'retrying' }),
        deliveryFixture('i', { state: 'delivering' }),
        deliveryFixture('a', { state: 'acknowledged' }),
        deliveryFixture('f', { state: 'failed' }),
      ]);
      expect((await store.listOpenDeliveries()).map((d) => d.id)).toEqual(['p', 'r', 'i']);
    });
  });

  describe('delivery leases (claim / record)', () => {
    const lease = (owner: string, now: number, ms = 10_000) => ({ owner, now, lease_ms: ms });

    it('claims an open delivery for one owner; another owner gets nothing until the lease expires', async () => {
      await store.insertDeliveries([deliveryFixture('d1', { state: 'retrying' })]);
      const a = await store.claimDelivery('d1', lease('A', 1000));
      expect(a?.before.state).toBe('retrying');
      expect(a?.after.state).toBe('delivering');
      expect((await store.getDelivery('d1'))?.state).toBe('delivering');
      expect(await store.claimDelivery('d1', lease('B', 5000))).toBeUndefined();
      expect(await store.claimDelivery('d1', lease('B', 11_000))).toBeDefined();
      expect(await store.claimDelivery('gone', lease('A', 1000))).toBeUndefined();
    });

    it('claims a closed delivery only when asked to (a redelivery)', async () => {
      await store.insertDeliveries([deliveryFixture('d1', { state: 'acknowledged', next_attempt_at: null })]);
      expect(await store.claimDelivery('d1', lease('A', 1000))).toBeUndefined();
      const claimed = await store.claimDelivery('d1', lease('A', 1000), { closed: true });
      expect(claimed?.before.state).toBe('acknowledged');
    });

    it('records an attempt only while the owner holds the lease, and frees it', async () => {
      await store.insertDeliveries([deliveryFixture('d1')]);
      await store.claimDelivery('d1', lease('A', 1000));
      const ack = (d: Delivery): Delivery => ({ ...d, state: 'acknowledged', next_attempt_at: null });
      expect(await store.settleDelivery('d1', 'B', ack)).toBeUndefined();
      const done = await store.settleDelivery('d1', 'A', ack);
      expect(done?.after.state).toBe('acknowledged');
      expect(await store.getDelivery('d1')).toEqual(ack(deliveryFixture('d1')));
      // The lease is gone: a second record by A is refused too.
      expect(await store.settleDelivery('d1', 'A', ack)).toBeUndefined();
      // A lease that expired and was taken by B cannot be recorded by A any more.
      await store.insertDeliveries([deliveryFixture('d2')]);
      await store.claimDelivery('d2', lease('A', 1000, 100));
      await store.claimDelivery('d2', lease('B', 2000));
      expect(await store.settleDelivery('d2', 'A', ack)).toBeUndefined();
      expect((await store.settleDelivery('d2', 'B', ack))?.after.state).toBe('acknowledged');
    });

    it('claims what is due, oldest first, and what a dead owner left in flight once its lease expired', async () => {
      await store.insertDeliveries([
        deliveryFixture('later', { next_attempt_at: 5000 }),
        deliveryFixture('due2', { state: 'retrying', next_attempt_at: 2000 }),
        deliveryFixture('due1', { next_attempt_at: 1000 }),
        deliveryFixture('closed', { state: 'failed', next_attempt_at: null }),
        deliveryFixture('stuck', { next_attempt_at: 500 }),
      ]);
      await store.claimDelivery('stuck', lease('dead', 0, 2500));
      const first = await store.claimDueDeliveries(lease('A', 2000), 10);
      expect(first.map((c) => c.before.id)).toEqual(['due1', 'due2']);
      expect(first.every((c) => c.after.state === 'delivering')).toBe(true);
      // Leased now: nobody else takes them; the dead owner's delivery comes back after its lease.
      expect(await store.claimDueDeliveries(lease('B', 2400), 10)).toEqual([]);
      expect((await store.claimDueDeliveries(lease('B', 3000), 10)).map((c) => c.before.id)).toEqual([
        'stuck',
      ]);
      expect((await store.claimDueDeliveries(lease('B', 6000), 1)).map((c) => c.before.id)).toEqual([
        'later',
      ]);
    });

    it('takes fractional milliseconds (a scaled retry schedule) in due times, leases and journal times', async () => {
      await store.insertDeliveries([deliveryFixture('frac', { next_attempt_at: 1000.5 })]);
      const claimed = await store.claimDueDeliveries({ owner: 'A', now: 1002.25, lease_ms: 7.5 }, 5);
      expect(claimed.map((c) => c.before.id)).toEqual(['frac']);
      const settled = await store.settleDelivery('frac', 'A', (d) => ({
        ...d,
        state: 'retrying',
        next_attempt_at: 1003.0001,
      }));
      expect(settled?.after.next_attempt_at).toBe(1003.0001);
      expect((await store.getDelivery('frac'))?.next_attempt_at).toBe(1003.0001);
      expect(
        await store.claimDelivery('frac', { owner: 'B', now: 1010.5, lease_ms: 0.5 }, { due: true }),
      ).toBeDefined();
      expect((await store.appendJournal(journalFixture(1234.5))).id).toBe(1);
      await store.putMerchant(merchantFixture(transactionFixture(1).app_id));
      await store.insertTransaction(transactionFixture(1, { status_created_at: 99.5, created_at: 99.5 }));
      expect((await store.getTransaction(transactionFixture(1).hash))?.created_at).toBe(99.5);
    });

    it('gives each due delivery to exactly one of several owners claiming at once', async () => {
      await store.insertDeliveries(
        Array.from({ length: 30 }, (_, i) => deliveryFixture(`d${i}`, { next_attempt_at: i })),
      );
      const claims = await Promise.all(
        ['A', 'B', 'C', 'D', 'E', 'F'].map((o) => store.claimDueDeliveries(lease(o, 100), 8)),
      );
      const ids = claims.flat().map((c) => c.before.id);
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
    });
  });

  describe('scenarios', () => {
    it('keeps user-defined scenarios by name; a second put replaces the first', async () => {
      await store.putScenario(scenarioFixture('one'));
      await store.putScenario(scenarioFixture('two'));
      await store.putScenario(scenarioFixture('one', 'заменён'));
      expect(await store.getScenario('one')).toEqual(scenarioFixture('one', 'заменён'));
      expect(await store.getScenario('three')).toBeUndefined();
      expect((await store.listScenarios()).map((s) => [s.scenario.name, s.app_id])).toEqual([
        ['one', null],
        ['two', null],
      ]);
      await store.putScenario(scenarioFixture('two', 'своё'), 'b'.repeat(32));
      expect(await store.listScenarios()).toEqual([
        { scenario: scenarioFixture('one', 'заменён'), app_id: null },
        { scenario: scenarioFixture('two', 'своё'), app_id: 'b'.repeat(32) },
      ]);
    });

    it('takes step uses up to the limit, never more, also when asked concurrently', async () => {
      const key = 'merchant:a|flaky-create|0';
      const taken = await Promise.all(Array.from({ length: 7 }, () => store.useScenarioStep(key, 3)));
      expect(taken.filter(Boolean)).toHaveLength(3);
      expect(await store.useScenarioStep(key, 3)).toBe(false);
      expect(await store.useScenarioStep('other|x|1', Infinity)).toBe(true);
      expect(await store.useScenarioStep('zero|x|0', 0)).toBe(false);
      expect(await store.listScenarioUses()).toEqual([
        { key, used: 3 },
        { key: 'other|x|1', used: 1 },
      ]);
      await store.resetScenarioUses();
      expect(await store.listScenarioUses()).toEqual([]);
      expect(await store.useScenarioStep(key, 3)).toBe(true);
    });
  });

  describe('purgeMerchant', () => {
    const A = 'a'.repeat(32);
    const B = 'b'.repeat(32);
    /** Two merchants, each with a transaction, deliveries, journal entries, scenarios and use counts. */
    async function twoMerchants() {
      await store.putMerchant(merchantFixture(A, { scenario: 'mine-a' }));
      await store.putMerchant(merchantFixture(B, { merchant_id: 8 }));
      const txA = transactionFixture(await store.nextTransactionId(), { app_id: A });
      const txB = transactionFixture(await store.nextTransactionId(), { app_id: B });
      await store.insertTransaction(txA);
      await store.insertTransaction(txB);
      await store.insertDeliveries([
        deliveryFixture('da', { app_id: A, transaction_hash: txA.hash }),
        deliveryFixture('db', { app_id: B, transaction_hash: txB.hash }),
      ]);
      await store.appendJournal(journalFixture(1, { app_id: A, order_id: txA.order_id }));
      // A page request knows the transaction, not the merchant.
      await store.appendJournal(journalFixture(2, { app_id: null, transaction_hash: txA.hash }));
      await store.appendJournal(journalFixture(3, { app_id: B, transaction_hash: txB.hash }));
      await store.putScenario(scenarioFixture('mine-a'), A);
      await store.putScenario(scenarioFixture('mine-b'), B);
      await store.putScenario(scenarioFixture('shared'));
      for (const key of [
        `merchant:${A}|mine-a|0`,
        `header:${A}|x|0`,
        `order:${A}|x|0`,
        `tx:${txA.hash}|x|0`,
        `merchant:${B}|mine-b|0`,
        `tx:${txB.hash}|x|0`,
        'global|x|0',
      ])
        await store.useScenarioStep(key, 5);
      return { txA, txB };
    }

    async function expectBUntouched(txB: ReturnType<typeof transactionFixture>) {
      expect(await store.getMerchant(B)).toEqual(merchantFixture(B, { merchant_id: 8 }));
      expect(await store.getTransaction(txB.hash)).toEqual(txB);
      expect((await store.listDeliveries({})).map((d) => d.id)).toEqual(['db']);
      expect((await store.listJournal({})).map((e) => e.at)).toEqual([3]);
      expect((await store.listScenarioUses()).map((u) => u.key).sort()).toEqual(
        ['global|x|0', `merchant:${B}|mine-b|0`, `tx:${txB.hash}|x|0`].sort(),
      );
    }

    it("deletes a merchant with its transactions, deliveries, journal, scenarios and use counts, and nobody else's", async () => {
      const { txA, txB } = await twoMerchants();
      expect(await store.purgeMerchant(A)).toEqual({
        merchant: true,
        transactions: 1,
        deliveries: 1,
        journal_entries: 2,
        scenarios: 1,
        scenario_uses: 4,
      });
      expect(await store.getMerchant(A)).toBeUndefined();
      expect(await store.getTransaction(txA.hash)).toBeUndefined();
      expect(await store.findTransactionByOrder(A, txA.order_id)).toBeUndefined();
      expect(await store.getDelivery('da')).toBeUndefined();
      expect(await store.listOpenDeliveries()).toHaveLength(1);
      expect(await store.countTransactions()).toBe(1);
      expect((await store.listScenarios()).map((s) => s.scenario.name)).toEqual(['mine-b', 'shared']);
      await expectBUntouched(txB);
      // Gone means gone: a second purge finds nothing, and the order_id is free for a new merchant A.
      expect(await store.purgeMerchant(A)).toBeUndefined();
      await store.putMerchant(merchantFixture(A));
      expect(await store.insertTransaction({ ...txA, id: await store.nextTransactionId() })).toEqual({
        inserted: true,
      });
    });

    it('with keep_merchant (a reset) keeps the merchant, its settings and its scenarios', async () => {
      const { txA, txB } = await twoMerchants();
      expect(await store.purgeMerchant(A, { keep_merchant: true })).toEqual({
        merchant: false,
        transactions: 1,
        deliveries: 1,
        journal_entries: 2,
        scenarios: 0,
        scenario_uses: 4,
      });
      expect(await store.getMerchant(A)).toEqual(merchantFixture(A, { scenario: 'mine-a' }));
      expect(await store.getTransaction(txA.hash)).toBeUndefined();
      expect((await store.listScenarios()).map((s) => s.scenario.name)).toEqual([
        'mine-a',
        'mine-b',
        'shared',
      ]);
      await expectBUntouched(txB);
      // The merchant's use counts start again from zero.
      expect(await store.useScenarioStep(`merchant:${A}|mine-a|0`, 1)).toBe(true);
    });

    it('is undefined for an unknown merchant and touches nothing', async () => {
      const { txB } = await twoMerchants();
      expect(await store.purgeMerchant('c'.repeat(32))).toBeUndefined();
      expect(await store.countTransactions()).toBe(2);
      expect(await store.getTransaction(txB.hash)).toEqual(txB);
    });

    it('keeps the journal numbering and its bound after a purge: the newest journalSize numbers, no room freed', async () => {
      await store.putMerchant(merchantFixture(A));
      for (let i = 1; i <= 4; i++) await store.appendJournal(journalFixture(i, { app_id: i % 2 ? A : B }));
      await store.purgeMerchant(A);
      expect((await store.listJournal({})).map((e) => [e.at, e.id])).toEqual([
        [4, 4],
        [2, 2],
      ]);
      for (let i = 5; i <= 7; i++) await store.appendJournal(journalFixture(i, { app_id: B }));
      // Entry 2 is out of the last five numbers (3..7), though only four entries are left.
      expect((await store.listJournal({})).map((e) => e.id)).toEqual([7, 6, 5, 4]);
      for (let i = 8; i <= 9; i++) await store.appendJournal(journalFixture(i, { app_id: B }));
      expect((await store.listJournal({})).map((e) => e.id)).toEqual([9, 8, 7, 6, 5]);
    });
  });

  describe('reset', () => {
    it('drops transactions, journal, deliveries and runtime merchants, keeps builtins, and ids keep counting', async () => {
      const builtin = merchantFixture('a'.repeat(32), { builtin: true });
      await store.putMerchant(builtin);
      await store.putMerchant(merchantFixture('b'.repeat(32)));
      const tx = transactionFixture(await store.nextTransactionId(), { app_id: builtin.app_id });
      await store.insertTransaction(tx);
      await store.appendJournal(journalFixture(1));
      await store.appendJournal(journalFixture(2));
      await store.insertDeliveries([deliveryFixture('d1')]);

      await store.reset();

      expect(await store.listMerchants()).toEqual([builtin]);
      expect(await store.countTransactions()).toBe(0);
      expect(await store.getTransaction(tx.hash)).toBeUndefined();
      expect(await store.findTransactionByOrder(tx.app_id, tx.order_id)).toBeUndefined();
      expect(await store.listJournal({})).toEqual([]);
      expect(await store.listDeliveries({})).toEqual([]);
      expect(await store.listOpenDeliveries()).toEqual([]);
      // The order_id is free again; ids do not restart.
      expect(
        await store.insertTransaction(
          transactionFixture(await store.nextTransactionId(), {
            order_id: tx.order_id,
            app_id: builtin.app_id,
          }),
        ),
      ).toEqual({ inserted: true });
      expect((await store.listTransactions({}))[0]!.id).toBe(2);
      expect((await store.appendJournal(journalFixture(3))).id).toBe(3);
    });
  });
});
