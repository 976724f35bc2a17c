import type { ScenarioFile } from '../../contracts/types.js';
import type { Delivery, DeliveryFilter } from '../callbacks/delivery.js';
import type { JournalEntry, JournalFilter } from '../journal/journal-entry.js';
import type { Merchant } from '../merchants/merchant.js';
import type { PaymentStatus, Transaction } from '../payments/transaction.js';
import type { PostgresStore } from './postgres-store.js';

export interface TransactionFilter {
  app_id?: string;
  status?: PaymentStatus;
  order_id?: string;
  limit?: number;
}

/** A merchant to insert: the store numbers it when `merchant_id` is absent. */
export type NewMerchant = Omit<Merchant, 'merchant_id'> & { merchant_id?: number };

/**
 * What an insert came to: a duplicate `(app_id, order_id)`, or a merchant that is gone (deleted
 * while the create was under way), is an answer, not an exception.
 */
export type TransactionInsert =
  { inserted: true } | { inserted: false; reason: 'duplicate_order' | 'unknown_merchant' };

/** What a transaction change writes: the new row, and callback deliveries committed with it (the outbox). */
export interface TransactionWrite {
  tx: Transaction;
  deliveries?: readonly Delivery[];
}

/** A read-modify-write that happened: `after === before` when the change chose to write nothing. */
export interface Updated<T> {
  before: T;
  after: T;
}

/** Who holds a delivery's lease, from when, and for how long. */
export interface DeliveryLease {
  owner: string;
  now: number;
  lease_ms: number;
}

/** A user-defined scenario and the merchant it belongs to (null: shared, defined by `POST /__admin/scenarios`). */
export interface UserScenario {
  scenario: ScenarioFile;
  app_id: string | null;
}

/** What purging one merchant's data removed, row by row. */
export interface MerchantPurge {
  /** Whether the merchant itself was deleted (false for a reset, which keeps it). */
  merchant: boolean;
  transactions: number;
  deliveries: number;
  journal_entries: number;
  /** User scenarios the merchant owned (only deleted with the merchant). */
  scenarios: number;
  /** Scenario step use counts under the merchant's scopes and its transactions'. */
  scenario_uses: number;
}

/**
 * The scopes of scenario use counts that belong to one merchant (see scenario-engine.ts): a key is
 * `<scope>|<scenario>|<step>`, and these scopes are the merchant's own; `tx:<hash>` scopes belong to
 * it through its transactions.
 */
export const merchantUseScopes = (appId: string): string[] => [
  `merchant:${appId}|`,
  `header:${appId}|`,
  `order:${appId}|`,
];

/** How many uses a scenario step has had, under one activation scope (see scenario-engine.ts). */
export interface ScenarioUse {
  /** `<scope>|<scenario>|<step index>` */
  key: string;
  used: number;
}

/**
 * All sandbox state sits behind this interface (DESIGN.md house style 8): one instance per app,
 * injected, so two apps in one process never share anything.
 *
 * Every method is asynchronous, because a shared store (PostgreSQL) is a network away; the memory
 * and SQLite stores answer from the same call stack and resolve at once. A write has been
 * committed when its promise resolves.
 *
 * Concurrency rules, the same for every implementation:
 * - Nothing is read-then-written by a caller. A row that changes goes through an `update*` method
 *   that takes a **change function**: it is given the row as it is now and returns the new row (or
 *   undefined to write nothing). It must be pure and synchronous, because a shared store may run it
 *   again when another writer got there first (optimistic concurrency), and it may throw to refuse
 *   (the error reaches the caller; nothing is written).
 * - Uniqueness is the store's: `insertTransaction` answers `duplicate_order` for an `(app_id,
 *   order_id)` it already holds (a unique constraint in SQL), `insertMerchant` false for a taken
 *   app_id, `useScenarioStep` false once a step is used up.
 * - A transaction never outlives its merchant: `insertTransaction` answers `unknown_merchant` when
 *   no merchant with its app_id is held, checked in the same atomic step as the insert, so a create
 *   that was under way while `purgeMerchant` ran leaves nothing behind.
 * - A transaction change and the callback deliveries it causes are written together
 *   ({@link TransactionWrite}), so a payment never reaches a notified status without its callback.
 */
export interface Store {
  readonly kind: 'memory' | 'sqlite' | 'postgres';

  // merchants
  /** Inserts or replaces (built-in and config merchants, installed on every start). */
  putMerchant(m: Merchant): Promise<void>;
  /**
   * Inserts a new merchant; undefined when its app_id is taken. Without a `merchant_id` the store
   * gives it the next one (one more than the largest held), in the same atomic step.
   */
  insertMerchant(m: NewMerchant): Promise<Merchant | undefined>;
  updateMerchant(
    appId: string,
    change: (m: Merchant) => Merchant | undefined,
  ): Promise<Updated<Merchant> | undefined>;
  getMerchant(appId: string): Promise<Merchant | undefined>;
  listMerchants(): Promise<Merchant[]>;
  deleteMerchant(appId: string): Promise<boolean>;
  /**
   * Removes one merchant's data in one atomic step: its transactions, their callback deliveries
   * (the outbox rows) and journal entries (by app_id, and by transaction hash for the pages'
   * requests), and the scenario use counts of its scopes. With `keep_merchant` (a per-merchant
   * reset) the merchant, its settings, keys, active scenario and user scenarios stay; without it
   * (a delete, or an ephemeral merchant's expiry) the merchant row and the user scenarios it owns
   * go too. Undefined when there is no merchant with that app_id. Other merchants are not touched.
   */
  purgeMerchant(appId: string, opts?: { keep_merchant?: boolean }): Promise<MerchantPurge | undefined>;

  // transactions
  /** A new transaction id: unique, increasing within one process (ids are not reused after a reset). */
  nextTransactionId(): Promise<number>;
  insertTransaction(tx: Transaction): Promise<TransactionInsert>;
  /** Changes one transaction atomically (see the concurrency rules); undefined when the hash is unknown. */
  updateTransaction(
    hash: string,
    change: (tx: Transaction) => TransactionWrite | undefined,
  ): Promise<Updated<Transaction> | undefined>;
  getTransaction(hash: string): Promise<Transaction | undefined>;
  findTransactionByOrder(appId: string, orderId: string): Promise<Transaction | undefined>;
  listTransactions(filter: TransactionFilter): Promise<Transaction[]>;
  countTransactions(): Promise<number>;

  // journal (bounded ring)
  appendJournal(entry: Omit<JournalEntry, 'id'>): Promise<JournalEntry>;
  listJournal(filter: JournalFilter): Promise<JournalEntry[]>;

  // callback outbox
  /** New deliveries not caused by a transaction change (e.g. a stale follow-up a scenario sends). */
  insertDeliveries(ds: readonly Delivery[]): Promise<void>;
  /** Changes one delivery atomically; undefined when it no longer exists (a reset dropped it). */
  updateDelivery(
    id: string,
    change: (d: Delivery) => Delivery | undefined,
  ): Promise<Updated<Delivery> | undefined>;
  getDelivery(id: string): Promise<Delivery | undefined>;
  listDeliveries(filter: DeliveryFilter): Promise<Delivery[]>;
  /** Deliveries not yet acknowledged or failed: what must resume after a restart. */
  listOpenDeliveries(): Promise<Delivery[]>;
  /**
   * Leases one delivery for an attempt (the outbox's *claim*): marks it `delivering`, held by
   * `lease.owner` until `now + lease_ms`. Undefined when it is gone, closed (unless `closed` is
   * allowed: a redelivery), not yet due (with `due`: `next_attempt_at` after `now`, e.g. another
   * replica made the attempt and scheduled the next), or held by another owner whose lease has not
   * expired; so each attempt is made by exactly one owner, however many replicas share the store.
   */
  claimDelivery(
    id: string,
    lease: DeliveryLease,
    opts?: { closed?: boolean; due?: boolean },
  ): Promise<Updated<Delivery> | undefined>;
  /**
   * Leases up to `limit` deliveries that are due: open with `next_attempt_at <= now` and no live
   * lease, or `delivering` with an expired one (its owner died mid-attempt). Oldest due first.
   */
  claimDueDeliveries(lease: DeliveryLease, limit: number): Promise<Updated<Delivery>[]>;
  /**
   * Records the end of an attempt (the outbox's *record*): applies `change` and frees the lease,
   * but only while `owner` still holds it; undefined when the lease was lost (expired and taken by
   * another owner) or the row is gone.
   */
  settleDelivery(
    id: string,
    owner: string,
    change: (d: Delivery) => Delivery,
  ): Promise<Updated<Delivery> | undefined>;

  // scenarios (issue 6): user-defined files and use counts
  /** Puts (or replaces, owner included) a user scenario; `appId` makes it that merchant's (purged with it). */
  putScenario(s: ScenarioFile, appId?: string | null): Promise<void>;
  getScenario(name: string): Promise<ScenarioFile | undefined>;
  /** In the order they were first put. */
  listScenarios(): Promise<UserScenario[]>;
  /** Takes one use of a step under `key` when fewer than `limit` were taken; false when used up. */
  useScenarioStep(key: string, limit: number): Promise<boolean>;
  listScenarioUses(): Promise<ScenarioUse[]>;
  resetScenarioUses(): Promise<void>;

  /** Drops transactions, journal and deliveries, and every non-builtin merchant. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** The shared PostgreSQL store, with what a cluster needs beyond this interface. */
export function isPostgresStore(store: Store): store is PostgresStore {
  return store.kind === 'postgres';
}
