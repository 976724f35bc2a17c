import type { Delivery, DeliveryFilter } from '../callbacks/delivery.js';
import type { JournalEntry, JournalFilter } from '../journal/journal-entry.js';
import type { Merchant } from '../merchants/merchant.js';
import type { PaymentStatus, Transaction } from '../payments/transaction.js';

export interface TransactionFilter {
  app_id?: string;
  status?: PaymentStatus;
  order_id?: string;
  limit?: number;
}

/**
 * All sandbox state sits behind this interface (DESIGN.md house style 8): one instance per app,
 * injected, so two apps in one process never share anything. Methods are synchronous: both the
 * memory store and better-sqlite3 are, and a write has been committed when the call returns.
 */
export interface Store {
  readonly kind: 'memory' | 'sqlite';

  // merchants
  putMerchant(m: Merchant): void;
  getMerchant(appId: string): Merchant | undefined;
  listMerchants(): Merchant[];
  deleteMerchant(appId: string): boolean;

  // transactions
  nextTransactionId(): number;
  /** Inserts a new transaction; false when (app_id, order_id) already exists. */
  insertTransaction(tx: Transaction): boolean;
  updateTransaction(tx: Transaction): void;
  getTransaction(hash: string): Transaction | undefined;
  findTransactionByOrder(appId: string, orderId: string): Transaction | undefined;
  listTransactions(filter: TransactionFilter): Transaction[];
  countTransactions(): number;

  // journal (bounded ring)
  appendJournal(entry: Omit<JournalEntry, 'id'>): JournalEntry;
  listJournal(filter: JournalFilter): JournalEntry[];

  // callback outbox
  putDelivery(d: Delivery): void;
  getDelivery(id: string): Delivery | undefined;
  listDeliveries(filter: DeliveryFilter): Delivery[];
  /** Deliveries not yet acknowledged or failed: what must resume after a restart. */
  listOpenDeliveries(): Delivery[];

  /** Drops transactions, journal and deliveries, and every non-builtin merchant. */
  reset(): void;
  close(): void;
}
