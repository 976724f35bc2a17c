import {
  NO_REFUNDS,
  TRANSACTION_URL_FIELDS,
  TRANSACTION_USER_FIELDS,
  type Transaction,
  type TransactionUrls,
} from '../payments/transaction.js';

/**
 * How the memory store keeps many transactions small (issue 10: RSS ≤ 300 MB at 100,000). Two
 * savings, neither visible to a reader:
 *
 * - **Shared values.** A merchant sends the same callback URLs with every order and the same
 *   shopper comes back, yet each create payload is parsed into fresh copies of those strings.
 *   On insert they are swapped for one shared, equal copy (and one frozen `urls` object per
 *   distinct URL set).
 * - **Created records.** A transaction still exactly as create-payment made it (pending, nothing
 *   happened) is kept as a {@link CreatedRecord}: only what create-payment received and chose.
 *   Its status fields, its one-entry history and its empty refunds follow from that, and are
 *   rebuilt, equal and in the same key order, on every read.
 *
 * Measured with the bench's orders (100,000 creates in one process, heap after a full GC): 1,351
 * → 611 bytes a transaction. Keeping the payload as JSON text instead would cost more, not less:
 * its strings are the ones the transaction's fields point to, and the text (~400 characters,
 * two bytes each with a Cyrillic description) would be a second copy of them.
 */

/** Distinct strings one store keeps for sharing; after that, new values are stored as they come. */
const SHARED_STRINGS_MAX = 10_000;
/** Distinct `urls` objects one store keeps for sharing. */
const SHARED_URL_SETS_MAX = 1_000;

/** The keys of a new transaction, in the order create-payment writes them (then `scenario`, if any). */
const CREATED_KEYS = [
  'id',
  'hash',
  'app_id',
  'merchant_id',
  'order_id',
  'amount',
  'description',
  'type',
  'service',
  'urls',
  'show_close_button',
  'user',
  'payload',
  'status',
  'status_created_at',
  'status_updated_at',
  'error',
  'history',
  'card',
  'refunds',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof Transaction)[];
const CREATE_ENTRY_KEYS = ['status', 'at', 'event'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** True when `o`'s own keys are exactly `keys`, in that order (plus a truthy `extra`, if given). */
function hasKeysInOrder(o: object, keys: readonly string[], extra?: string): boolean {
  let i = 0;
  for (const k in o) {
    if (
      i < keys.length ? k !== keys[i] : i > keys.length || k !== extra || !(o as Record<string, unknown>)[k]
    )
      return false;
    i++;
  }
  return i >= keys.length;
}

/**
 * True when nothing has happened to `tx` since create-payment made it: what a
 * {@link CreatedRecord} rebuilds is then equal to it, key order included.
 */
export function isJustCreated(tx: Transaction): boolean {
  const entry = tx.history[0];
  return (
    tx.status === 'pending' &&
    tx.status_created_at === tx.created_at &&
    tx.status_updated_at === null &&
    tx.updated_at === null &&
    tx.error === null &&
    tx.card === null &&
    tx.refunds.length === 0 &&
    tx.history.length === 1 &&
    entry !== undefined &&
    entry.status === 'pending' &&
    entry.at === tx.created_at &&
    entry.event === 'create' &&
    hasKeysInOrder(entry, CREATE_ENTRY_KEYS) &&
    (tx.scenario === undefined || typeof tx.scenario === 'string') &&
    hasKeysInOrder(tx, CREATED_KEYS, 'scenario')
  );
}

/**
 * A transaction as create-payment made it, without the parts that state implies: 15 fields
 * instead of 22, and no history array (~220 bytes a transaction less). {@link toTransaction}
 * gives the full transaction back.
 */
export class CreatedRecord {
  readonly id: number;
  readonly hash: string;
  readonly app_id: string;
  readonly merchant_id: number;
  readonly order_id: string;
  readonly amount: number;
  readonly description: string;
  readonly type: Transaction['type'];
  readonly service: Transaction['service'];
  readonly urls: Transaction['urls'];
  readonly show_close_button: boolean;
  readonly user: Transaction['user'];
  readonly payload: unknown;
  readonly created_at: number;
  readonly scenario: string | undefined;

  /** `tx` must pass {@link isJustCreated}. */
  constructor(tx: Transaction) {
    this.id = tx.id;
    this.hash = tx.hash;
    this.app_id = tx.app_id;
    this.merchant_id = tx.merchant_id;
    this.order_id = tx.order_id;
    this.amount = tx.amount;
    this.description = tx.description;
    this.type = tx.type;
    this.service = tx.service;
    this.urls = tx.urls;
    this.show_close_button = tx.show_close_button;
    this.user = tx.user;
    this.payload = tx.payload;
    this.created_at = tx.created_at;
    this.scenario = tx.scenario;
  }

  /** A new record is always pending (a prototype getter: no per-record field). */
  get status(): 'pending' {
    return 'pending';
  }

  /** The transaction, rebuilt in create-payment's key order. */
  toTransaction(): Transaction {
    return {
      id: this.id,
      hash: this.hash,
      app_id: this.app_id,
      merchant_id: this.merchant_id,
      order_id: this.order_id,
      amount: this.amount,
      description: this.description,
      type: this.type,
      service: this.service,
      urls: this.urls,
      show_close_button: this.show_close_button,
      user: this.user,
      payload: this.payload,
      status: 'pending',
      status_created_at: this.created_at,
      status_updated_at: null,
      error: null,
      history: [{ status: 'pending', at: this.created_at, event: 'create' }],
      card: null,
      refunds: NO_REFUNDS,
      created_at: this.created_at,
      updated_at: null,
      ...(this.scenario ? { scenario: this.scenario } : {}),
    };
  }
}

/** What the memory store keeps for one transaction. */
export type StoredTransaction = Transaction | CreatedRecord;

/**
 * The memory store's packing of transactions, one per store (its sharing tables are state).
 *
 * @example
 * const compact = createTransactionCompactor();
 * txs.set(tx.hash, compact.pack(tx)); // on insert
 * const back = compact.unpack(txs.get(tx.hash)!); // equal to tx
 */
export function createTransactionCompactor() {
  const strings = new Map<string, string>();
  const urlSets = new Map<string, Readonly<TransactionUrls>>();

  const share = (s: string): string => {
    const known = strings.get(s);
    if (known !== undefined) return known;
    if (strings.size < SHARED_STRINGS_MAX) strings.set(s, s);
    return s;
  };
  /** Replaces the string values of `keys` in `o` by their shared copy (an equal string). */
  const shareFields = (o: Record<string, unknown>, keys: readonly string[]): void => {
    if (Object.isFrozen(o)) return;
    for (const k of keys) {
      const v = o[k];
      // Written even when equal: strings compare by value, so the copies cannot be told apart here.
      if (typeof v === 'string') o[k] = share(v);
    }
  };
  /** One frozen object per distinct URL set with the same key order (so JSON output is unchanged). */
  const shareUrls = (urls: Readonly<TransactionUrls>): Readonly<TransactionUrls> => {
    let key = '';
    for (const k in urls) {
      const v = urls[k as keyof TransactionUrls];
      if (typeof v !== 'string') return urls;
      key += `${k.length}:${k}${v.length}:${v}`;
    }
    const known = urlSets.get(key);
    if (known) return known;
    if (urlSets.size >= SHARED_URL_SETS_MAX || Object.isFrozen(urls)) return urls;
    shareFields(urls as Record<string, unknown>, Object.keys(urls));
    urlSets.set(key, Object.freeze(urls));
    return urls;
  };

  return {
    /**
     * What to keep for a new transaction. Its repeated values are swapped, in place, for the
     * shared equal copies first: the URL set, and the URL and user strings of its create payload
     * (which `urls` and `user` point into).
     */
    pack(tx: Transaction): StoredTransaction {
      const payload = tx.payload;
      if (isRecord(payload)) {
        if (isRecord(payload.order)) shareFields(payload.order, TRANSACTION_URL_FIELDS);
        if (isRecord(payload.user)) shareFields(payload.user, TRANSACTION_USER_FIELDS);
      }
      if (tx.user && (!isRecord(payload) || tx.user !== payload.user)) {
        shareFields(tx.user as Record<string, unknown>, TRANSACTION_USER_FIELDS);
      }
      tx.urls = shareUrls(tx.urls);
      return isJustCreated(tx) ? new CreatedRecord(tx) : tx;
    },
    unpack: (stored: StoredTransaction): Transaction =>
      stored instanceof CreatedRecord ? stored.toTransaction() : stored,
    /** Forgets the shared values (after a reset nothing refers to them). */
    clear(): void {
      strings.clear();
      urlSets.clear();
    },
  };
}
