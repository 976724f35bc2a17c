import type { ScenarioFile } from '../../contracts/types.js';
import { isOpen, type Delivery } from '../callbacks/delivery.js';
import type { JournalEntry } from '../journal/journal-entry.js';
import type { Merchant } from '../merchants/merchant.js';
import type { Transaction } from '../payments/transaction.js';
import { createTransactionCompactor, type StoredTransaction } from './compact-transactions.js';
import {
  merchantUseScopes,
  type DeliveryLease,
  type MerchantPurge,
  type Store,
  type TransactionFilter,
} from './store.js';

/**
 * The default store: plain maps, a ring buffer for the journal. Objects are stored by reference
 * and callers treat them as immutable (the state machine returns new transactions). Transactions
 * are the exception: they are packed (see compact-transactions.ts), so a read may return a new,
 * equal object, as the SQLite store always does.
 *
 * @example
 * const store = createMemoryStore({ journalSize: 1000 });
 */
export function createMemoryStore(opts: { journalSize: number }): Store {
  const merchants = new Map<string, Merchant>();
  const txs = new Map<string, StoredTransaction>();
  // app_id → order_id → hash. Nested rather than one `${app_id}\0${order_id}` key: the key strings
  // cost ~80 bytes a transaction (8 MB at 100,000), and these reuse the transaction's own strings.
  const byOrder = new Map<string, Map<string, string>>();
  const deliveries = new Map<string, Delivery>();
  const scenarios = new Map<string, { scenario: ScenarioFile; app_id: string | null }>();
  const scenarioUses = new Map<string, number>();
  /** Delivery leases (the outbox's claims): owner and expiry, by delivery id. */
  const leases = new Map<string, { owner: string; until: number }>();
  const leaseFree = (id: string, lease: DeliveryLease) => {
    const held = leases.get(id);
    return !held || held.owner === lease.owner || held.until <= lease.now;
  };
  const claim = (d: Delivery, lease: DeliveryLease) => {
    const after: Delivery = { ...d, state: 'delivering' };
    deliveries.set(d.id, after);
    leases.set(d.id, { owner: lease.owner, until: lease.now + lease.lease_ms });
    return { before: d, after };
  };
  const compact = createTransactionCompactor();
  let journal: JournalEntry[] = [];
  let journalStart = 0; // index of the oldest entry once the ring is full
  let journalSeq = 0;
  let txSeq = 0;

  const journalInOrder = (): JournalEntry[] =>
    journal.length < opts.journalSize
      ? journal
      : [...journal.slice(journalStart), ...journal.slice(0, journalStart)];

  /** Runs a change function on the row as it is now; `undefined` from it writes nothing. */
  function change<T>(current: T | undefined, fn: (row: T) => T | undefined, write: (row: T) => void) {
    if (current === undefined) return undefined;
    const next = fn(current);
    if (next === undefined) return { before: current, after: current };
    write(next);
    return { before: current, after: next };
  }

  // Every method is `async`: the Store interface is (a shared store is a network away), and a
  // change function that throws becomes a rejected promise with nothing written.
  return {
    kind: 'memory',
    putMerchant: async (m) => void merchants.set(m.app_id, m),
    async insertMerchant(draft) {
      if (merchants.has(draft.app_id)) return undefined;
      let max = 0;
      if (draft.merchant_id === undefined)
        for (const m of merchants.values()) max = Math.max(max, m.merchant_id);
      const m: Merchant = { ...draft, merchant_id: draft.merchant_id ?? max + 1 };
      merchants.set(m.app_id, m);
      return m;
    },
    updateMerchant: async (id, fn) => change(merchants.get(id), fn, (m) => merchants.set(id, m)),
    getMerchant: async (id) => merchants.get(id),
    listMerchants: async () => [...merchants.values()],
    deleteMerchant: async (id) => merchants.delete(id),
    async purgeMerchant(appId, o = {}) {
      if (!merchants.has(appId)) return undefined;
      const purge: MerchantPurge = {
        merchant: false,
        transactions: 0,
        deliveries: 0,
        journal_entries: 0,
        scenarios: 0,
        scenario_uses: 0,
      };
      // Everything below runs in one turn of the event loop: no other write can land in between.
      const hashes = new Set(byOrder.get(appId)?.values() ?? []);
      for (const hash of hashes) txs.delete(hash);
      purge.transactions = hashes.size;
      byOrder.delete(appId);
      for (const [id, d] of deliveries) {
        if (d.app_id !== appId && !hashes.has(d.transaction_hash)) continue;
        deliveries.delete(id);
        leases.delete(id);
        purge.deliveries++;
      }
      const kept = journalInOrder().filter(
        (e) => e.app_id !== appId && !(e.transaction_hash !== null && hashes.has(e.transaction_hash)),
      );
      purge.journal_entries = journal.length - kept.length;
      journal = kept;
      journalStart = 0;
      const scopes = merchantUseScopes(appId);
      for (const key of [...scenarioUses.keys()]) {
        const scope = key.slice(0, key.indexOf('|'));
        if (
          scopes.some((p) => key.startsWith(p)) ||
          (scope.startsWith('tx:') && hashes.has(scope.slice(3)))
        ) {
          scenarioUses.delete(key);
          purge.scenario_uses++;
        }
      }
      if (!o.keep_merchant) {
        for (const [name, s] of scenarios) {
          if (s.app_id !== appId) continue;
          scenarios.delete(name);
          purge.scenarios++;
        }
        purge.merchant = merchants.delete(appId);
      }
      return purge;
    },

    nextTransactionId: async () => ++txSeq,
    async insertTransaction(tx) {
      if (!merchants.has(tx.app_id)) return { inserted: false, reason: 'unknown_merchant' };
      let orders = byOrder.get(tx.app_id);
      if (!orders) byOrder.set(tx.app_id, (orders = new Map()));
      if (orders.has(tx.order_id)) return { inserted: false, reason: 'duplicate_order' };
      orders.set(tx.order_id, tx.hash);
      txs.set(tx.hash, compact.pack(tx));
      return { inserted: true };
    },
    async updateTransaction(hash, fn) {
      const stored = txs.get(hash);
      const current = stored && compact.unpack(stored);
      if (current === undefined) return undefined;
      const write = fn(current);
      if (write === undefined) return { before: current, after: current };
      txs.set(hash, write.tx);
      for (const d of write.deliveries ?? []) deliveries.set(d.id, d);
      return { before: current, after: write.tx };
    },
    async getTransaction(hash) {
      const stored = txs.get(hash);
      return stored && compact.unpack(stored);
    },
    async findTransactionByOrder(appId, orderId) {
      const stored = txs.get(byOrder.get(appId)?.get(orderId) ?? '');
      return stored && compact.unpack(stored);
    },
    async listTransactions(f: TransactionFilter) {
      const out: Transaction[] = [];
      const limit = f.limit ?? 100;
      const all = [...txs.values()];
      for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
        const tx = all[i]!;
        if (f.app_id && tx.app_id !== f.app_id) continue;
        if (f.status && tx.status !== f.status) continue;
        if (f.order_id && tx.order_id !== f.order_id) continue;
        out.push(compact.unpack(tx));
      }
      return out;
    },
    countTransactions: async () => txs.size,

    async appendJournal(entry) {
      const full: JournalEntry = { ...entry, id: ++journalSeq };
      if (journal.length < opts.journalSize) {
        journal.push(full);
      } else {
        journal[journalStart] = full;
        journalStart = (journalStart + 1) % opts.journalSize;
      }
      return full;
    },
    async listJournal(f) {
      const out: JournalEntry[] = [];
      const limit = f.limit ?? 100;
      const all = journalInOrder();
      // The newest journalSize entry *numbers*, as the SQL stores keep them: a purge frees no room.
      const oldest = journalSeq - opts.journalSize;
      for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
        const e = all[i]!;
        if (e.id <= oldest) break;
        if (f.app_id && e.app_id !== f.app_id) continue;
        if (f.order_id && e.order_id !== f.order_id) continue;
        if (f.transaction_hash && e.transaction_hash !== f.transaction_hash) continue;
        if (f.since !== undefined && e.at < f.since) continue;
        out.push(e);
      }
      return out;
    },

    async insertDeliveries(ds) {
      for (const d of ds) deliveries.set(d.id, d);
    },
    updateDelivery: async (id, fn) => change(deliveries.get(id), fn, (d) => deliveries.set(id, d)),
    getDelivery: async (id) => deliveries.get(id),
    async listDeliveries(f) {
      return [...deliveries.values()].filter(
        (d) =>
          (!f.transaction_hash || d.transaction_hash === f.transaction_hash) &&
          (!f.state || d.state === f.state) &&
          (!f.app_id || d.app_id === f.app_id),
      );
    },
    listOpenDeliveries: async () =>
      [...deliveries.values()].filter((d) => d.state !== 'acknowledged' && d.state !== 'failed'),
    async claimDelivery(id, lease, o = {}) {
      const d = deliveries.get(id);
      if (!d || (!isOpen(d) && !o.closed) || !leaseFree(id, lease)) return undefined;
      if (o.due && (d.next_attempt_at ?? 0) > lease.now) return undefined;
      return claim(d, lease);
    },
    async claimDueDeliveries(lease, limit) {
      const due: Delivery[] = [];
      for (const d of deliveries.values()) {
        if (!isOpen(d) || !leaseFree(d.id, lease)) continue;
        const held = leases.get(d.id);
        if (
          d.state === 'delivering'
            ? held !== undefined && held.until <= lease.now
            : (d.next_attempt_at ?? 0) <= lease.now
        )
          due.push(d);
      }
      due.sort((a, b) => (a.next_attempt_at ?? 0) - (b.next_attempt_at ?? 0));
      return due.slice(0, limit).map((d) => claim(d, lease));
    },
    async settleDelivery(id, owner, fn) {
      const d = deliveries.get(id);
      if (!d || leases.get(id)?.owner !== owner) return undefined;
      leases.delete(id);
      const after = fn(d);
      deliveries.set(id, after);
      return { before: d, after };
    },

    async putScenario(s, appId = null) {
      // A replaced scenario keeps its place in the list, as an SQL upsert keeps its row.
      scenarios.set(s.name, { scenario: s, app_id: appId });
    },
    getScenario: async (name) => scenarios.get(name)?.scenario,
    listScenarios: async () => [...scenarios.values()],
    async useScenarioStep(key, limit) {
      const used = scenarioUses.get(key) ?? 0;
      if (used >= limit) return false;
      scenarioUses.set(key, used + 1);
      return true;
    },
    listScenarioUses: async () => [...scenarioUses].map(([key, used]) => ({ key, used })),
    resetScenarioUses: async () => scenarioUses.clear(),

    async reset() {
      txs.clear();
      byOrder.clear();
      compact.clear();
      deliveries.clear();
      leases.clear();
      journal = [];
      journalStart = 0;
      for (const [id, m] of merchants) if (!m.builtin) merchants.delete(id);
    },
    async close() {},
  };
}
