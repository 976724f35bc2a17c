import type { Delivery } from '../callbacks/delivery.js';
import type { JournalEntry } from '../journal/journal-entry.js';
import type { Merchant } from '../merchants/merchant.js';
import type { Transaction } from '../payments/transaction.js';
import { createTransactionCompactor, type StoredTransaction } from './compact-transactions.js';
import type { Store, TransactionFilter } from './store.js';

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
  const compact = createTransactionCompactor();
  let journal: JournalEntry[] = [];
  let journalStart = 0; // index of the oldest entry once the ring is full
  let journalSeq = 0;
  let txSeq = 0;

  const journalInOrder = (): JournalEntry[] =>
    journal.length < opts.journalSize
      ? journal
      : [...journal.slice(journalStart), ...journal.slice(0, journalStart)];

  return {
    kind: 'memory',
    putMerchant: (m) => void merchants.set(m.app_id, m),
    getMerchant: (id) => merchants.get(id),
    listMerchants: () => [...merchants.values()],
    deleteMerchant: (id) => merchants.delete(id),

    nextTransactionId: () => ++txSeq,
    insertTransaction(tx) {
      let orders = byOrder.get(tx.app_id);
      if (!orders) byOrder.set(tx.app_id, (orders = new Map()));
      if (orders.has(tx.order_id)) return false;
      orders.set(tx.order_id, tx.hash);
      txs.set(tx.hash, compact.pack(tx));
      return true;
    },
    updateTransaction: (tx) => void txs.set(tx.hash, tx),
    getTransaction(hash) {
      const stored = txs.get(hash);
      return stored && compact.unpack(stored);
    },
    findTransactionByOrder(appId, orderId) {
      const stored = txs.get(byOrder.get(appId)?.get(orderId) ?? '');
      return stored && compact.unpack(stored);
    },
    listTransactions(f: TransactionFilter) {
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
    countTransactions: () => txs.size,

    appendJournal(entry) {
      const full: JournalEntry = { ...entry, id: ++journalSeq };
      if (journal.length < opts.journalSize) {
        journal.push(full);
      } else {
        journal[journalStart] = full;
        journalStart = (journalStart + 1) % opts.journalSize;
      }
      return full;
    },
    listJournal(f) {
      const out: JournalEntry[] = [];
      const limit = f.limit ?? 100;
      const all = journalInOrder();
      for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
        const e = all[i]!;
        if (f.app_id && e.app_id !== f.app_id) continue;
        if (f.order_id && e.order_id !== f.order_id) continue;
        if (f.transaction_hash && e.transaction_hash !== f.transaction_hash) continue;
        if (f.since !== undefined && e.at < f.since) continue;
        out.push(e);
      }
      return out;
    },

    putDelivery: (d) => void deliveries.set(d.id, d),
    getDelivery: (id) => deliveries.get(id),
    listDeliveries(f) {
      return [...deliveries.values()].filter(
        (d) =>
          (!f.transaction_hash || d.transaction_hash === f.transaction_hash) &&
          (!f.state || d.state === f.state) &&
          (!f.app_id || d.app_id === f.app_id),
      );
    },
    listOpenDeliveries: () =>
      [...deliveries.values()].filter((d) => d.state !== 'acknowledged' && d.state !== 'failed'),

    reset() {
      txs.clear();
      byOrder.clear();
      compact.clear();
      deliveries.clear();
      journal = [];
      journalStart = 0;
      for (const [id, m] of merchants) if (!m.builtin) merchants.delete(id);
    },
    close() {},
  };
}
