import {
  NO_REFUNDS,
  type OrderService,
  TRANSACTION_URL_FIELDS,
  TRANSACTION_USER_FIELDS,
  type Transaction,
  type TransactionUrls,
  type TransactionUser,
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
 *   rebuilt, equal and in the same key order, on every read. What it has in common with other new
 *   transactions (merchant, type, close button, scenario, payload layout) is one shared
 *   {@link RecordShape}; and when its create payload is `{ order, user }` holding nothing but values
 *   the transaction holds too (the usual case), no payload objects are kept: the payload is
 *   rebuilt from the record, key order included, and its user is one frozen copy shared by the
 *   records of every equal user.
 *
 * Measured with the bench's orders (100,000 creates in one process, heap after a full GC): 1,351
 * → 611 bytes a transaction (shared values, created records), then → ~440 (shapes and rebuilt
 * payloads: V8 heap 70.2 → 52.9 MB) and → ~400 (shared users: 48.8 MB). Keeping the payload as
 * JSON text instead would cost more, not less: its strings are the ones the transaction's fields
 * point to, and the text (~400 characters, two bytes each with a Cyrillic description) would be a
 * second copy of them.
 */

/** Distinct strings one store keeps for sharing; after that, new values are stored as they come. */
const SHARED_STRINGS_MAX = 10_000;
/** Distinct `urls` objects one store keeps for sharing. */
const SHARED_URL_SETS_MAX = 1_000;
/** Distinct {@link RecordShape}s one store keeps for sharing; after that, each record gets its own. */
const SHARED_SHAPES_MAX = 10_000;
/** Distinct users one store keeps for sharing (a test suite's shoppers come back). */
const SHARED_USERS_MAX = 10_000;
/** Shared shapes per merchant (looked through one by one on insert). */
const SHAPES_PER_MERCHANT_MAX = 64;

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

/** The `order` keys of a create payload that a {@link CreatedRecord} can rebuild from its own fields. */
const ORDER_FROM_FIELDS: ReadonlySet<string> = new Set<string>([
  'amount',
  'order_id',
  'description',
  'type',
  'show_close_button',
  ...TRANSACTION_URL_FIELDS,
]);

/**
 * What many new transactions have in common, shared by them (one object per distinct set, see
 * {@link createTransactionCompactor}): their merchant, the order's type and close button, the
 * create-time scenario, and how the record's payload and service are rebuilt.
 */
export class RecordShape {
  constructor(
    readonly app_id: string,
    readonly merchant_id: number,
    readonly type: Transaction['type'],
    readonly show_close_button: boolean,
    readonly scenario: string | undefined,
    /**
     * The payload's `order` keys, in their order, when the payload is rebuilt from the record's
     * fields (it was `{ order }` or `{ order, user }` and every order value equal to the
     * transaction's own); null when the record keeps the payload as received.
     */
    readonly orderKeys: readonly string[] | null,
    /** The rebuilt payload has `user` (the transaction's own user object) after `order`. */
    readonly payloadUser: boolean,
    /** `service` is a copy of the payload's `order.service` (`{ service_id, contract_value }`); else null. */
    readonly serviceFromPayload: boolean,
  ) {}
}

/**
 * A transaction as create-payment made it, without the parts that state implies and the parts
 * it shares with other new transactions: 10 fields instead of 22, no history array, and (when its
 * create payload holds nothing but what the transaction holds too, the usual case) no payload
 * objects either. {@link toTransaction} gives the full transaction back, equal and in the same key
 * order, payload included.
 */
export class CreatedRecord {
  readonly id: number;
  readonly hash: string;
  readonly order_id: string;
  readonly amount: number;
  readonly description: string;
  readonly urls: Transaction['urls'];
  readonly user: Transaction['user'];
  readonly created_at: number;
  readonly shape: RecordShape;
  /** The create payload as received; undefined when {@link RecordShape.orderKeys} rebuilds it. */
  readonly kept: unknown;

  /**
   * `tx` must pass {@link isJustCreated}; `shape` must describe it, and `user` be `tx.user` or
   * an equal copy, key order included ({@link createTransactionCompactor}).
   */
  constructor(tx: Transaction, shape: RecordShape, user: Transaction['user'] = tx.user) {
    this.id = tx.id;
    this.hash = tx.hash;
    this.order_id = tx.order_id;
    this.amount = tx.amount;
    this.description = tx.description;
    this.urls = tx.urls;
    this.user = user;
    this.created_at = tx.created_at;
    this.shape = shape;
    this.kept = shape.orderKeys ? undefined : tx.payload;
  }

  /** A new record is always pending (a prototype getter: no per-record field). */
  get status(): 'pending' {
    return 'pending';
  }

  get app_id(): string {
    return this.shape.app_id;
  }

  /** The create payload, as received or rebuilt equal to it (a new object on every read). */
  get payload(): unknown {
    const keys = this.shape.orderKeys;
    if (!keys) return this.kept;
    const order: Record<string, unknown> = {};
    for (const k of keys) {
      switch (k) {
        case 'amount':
          order.amount = this.amount;
          break;
        case 'order_id':
          order.order_id = this.order_id;
          break;
        case 'description':
          order.description = this.description;
          break;
        case 'type':
          order.type = this.shape.type;
          break;
        case 'show_close_button':
          order.show_close_button = this.shape.show_close_button;
          break;
        default:
          order[k] = this.urls[k as keyof TransactionUrls];
      }
    }
    return this.shape.payloadUser ? { order, user: this.user } : { order };
  }

  /** The transaction, rebuilt in create-payment's key order. */
  toTransaction(): Transaction {
    const shape = this.shape;
    const payload = this.payload;
    let service: Transaction['service'] = null;
    if (shape.serviceFromPayload) {
      const s = (payload as { order: { service: OrderService } }).order.service;
      service = { service_id: s.service_id, contract_value: s.contract_value };
    }
    return {
      id: this.id,
      hash: this.hash,
      app_id: shape.app_id,
      merchant_id: shape.merchant_id,
      order_id: this.order_id,
      amount: this.amount,
      description: this.description,
      type: shape.type,
      service,
      urls: this.urls,
      show_close_button: shape.show_close_button,
      user: this.user,
      payload,
      status: 'pending',
      status_created_at: this.created_at,
      status_updated_at: null,
      error: null,
      history: [{ status: 'pending', at: this.created_at, event: 'create' }],
      card: null,
      refunds: NO_REFUNDS,
      created_at: this.created_at,
      updated_at: null,
      ...(shape.scenario ? { scenario: shape.scenario } : {}),
    };
  }
}

const isPlain = (v: unknown): v is Record<string, unknown> =>
  isRecord(v) && Object.getPrototypeOf(v) === Object.prototype && Object.isExtensible(v);

/** The transaction's own value for an order key of {@link ORDER_FROM_FIELDS}. */
function ownValue(tx: Transaction, k: string): unknown {
  switch (k) {
    case 'amount':
      return tx.amount;
    case 'order_id':
      return tx.order_id;
    case 'description':
      return tx.description;
    case 'type':
      return tx.type;
    case 'show_close_button':
      return tx.show_close_button;
    default:
      return tx.urls[k as keyof TransactionUrls];
  }
}

/** What {@link derivePayload} found: the payload is not rebuilt, `{ order }`, or `{ order, user }`. */
const KEPT = 0;
const ORDER = 1;
const ORDER_USER = 2;

/**
 * Whether `tx.payload` can be rebuilt equal from the transaction, key order included: it is
 * `{ order }` or `{ order, user }` (plain objects, `user` the transaction's own user object) and
 * every order value is the transaction's own (same string, same number, same flag). The order's
 * keys are left in `keys`. A service, an unknown key or another value: {@link KEPT}.
 */
function derivePayload(tx: Transaction, keys: string[]): number {
  keys.length = 0;
  const p = tx.payload;
  if (!isPlain(p)) return KEPT;
  let n = 0;
  for (const k in p) {
    if (n === 0 ? k !== 'order' : n > 1 || k !== 'user') return KEPT;
    n++;
  }
  if (n === 0 || (n === 2 && (tx.user === null || p.user !== tx.user))) return KEPT;
  const order = p.order;
  if (!isPlain(order)) return KEPT;
  // A plain object with Object.prototype: for-in gives its own enumerable keys, in their order.
  for (const k in order) {
    if (!ORDER_FROM_FIELDS.has(k) || !Object.is(order[k], ownValue(tx, k))) return KEPT;
    keys.push(k);
  }
  return n === 2 ? ORDER_USER : ORDER;
}

/** True when `tx.service` is a `{ service_id, contract_value }` copy of the payload's `order.service`. */
function serviceCopiedFromPayload(tx: Transaction): boolean {
  const s = tx.service;
  if (s === null) return false;
  const from = isRecord(tx.payload) && isRecord(tx.payload.order) ? tx.payload.order.service : undefined;
  return (
    isRecord(from) &&
    hasKeysInOrder(s, ['service_id', 'contract_value']) &&
    Object.is(s.service_id, from.service_id) &&
    Object.is(s.contract_value, from.contract_value)
  );
}

/** True when `shape` is the one for `tx` with this payload layout. */
function fits(shape: RecordShape, tx: Transaction, layout: number, keys: string[], service: boolean) {
  if (
    shape.merchant_id !== tx.merchant_id ||
    shape.type !== tx.type ||
    shape.show_close_button !== tx.show_close_button ||
    shape.scenario !== tx.scenario ||
    shape.serviceFromPayload !== service ||
    shape.payloadUser !== (layout === ORDER_USER)
  )
    return false;
  const own = shape.orderKeys;
  if (own === null) return layout === KEPT;
  if (layout === KEPT || own.length !== keys.length) return false;
  for (let i = 0; i < own.length; i++) if (own[i] !== keys[i]) return false;
  return true;
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
  const users = new Map<string, Readonly<TransactionUser>>();
  /**
   * One frozen, equal copy (same keys in the same order, same values) per distinct user whose
   * values are all strings or numbers; the user itself when it has other values or the table is full.
   */
  const shareUser = (user: Readonly<TransactionUser>): Readonly<TransactionUser> => {
    let key = '';
    for (const k in user) {
      const v = (user as Record<string, unknown>)[k];
      if (typeof v === 'string') key += `${k}\0s${v}\0`;
      else if (typeof v === 'number') key += `${k}\0n${v}\0`;
      else return user;
    }
    const known = users.get(key);
    if (known) return known;
    if (users.size >= SHARED_USERS_MAX) return user;
    const copy = Object.freeze({ ...user });
    users.set(key, copy);
    return copy;
  };

  /** The shared shapes by app_id, and how many there are in all. */
  const shapes = new Map<string, RecordShape[]>();
  let shapeCount = 0;
  const keys: string[] = []; // scratch: the order keys of the transaction being packed

  /** The shared shape of a just-created `tx`, or null when its record could not rebuild it. */
  const shapeOf = (tx: Transaction): RecordShape | null => {
    const service = serviceCopiedFromPayload(tx);
    if (tx.service !== null && !service) return null;
    const layout = derivePayload(tx, keys);
    let known = shapes.get(tx.app_id);
    if (known) for (const shape of known) if (fits(shape, tx, layout, keys, service)) return shape;
    const shape = new RecordShape(
      share(tx.app_id),
      tx.merchant_id,
      tx.type,
      tx.show_close_button,
      tx.scenario,
      layout === KEPT ? null : Object.freeze([...keys]),
      layout === ORDER_USER,
      service,
    );
    if (shapeCount < SHARED_SHAPES_MAX && (known?.length ?? 0) < SHAPES_PER_MERCHANT_MAX) {
      if (!known) shapes.set(tx.app_id, (known = []));
      known.push(shape);
      shapeCount++;
    }
    return shape;
  };

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
      if (!isJustCreated(tx)) return tx;
      const shape = shapeOf(tx);
      if (!shape) return tx;
      // The user is shared only where no kept payload points to the original (the rebuilt one
      // points to the record's user).
      return new CreatedRecord(
        tx,
        shape,
        shape.payloadUser && isPlain(tx.user) ? shareUser(tx.user) : tx.user,
      );
    },
    unpack: (stored: StoredTransaction): Transaction =>
      stored instanceof CreatedRecord ? stored.toTransaction() : stored,
    /** Forgets the shared values (after a reset nothing refers to them). */
    clear(): void {
      strings.clear();
      urlSets.clear();
      shapes.clear();
      shapeCount = 0;
      users.clear();
    },
  };
}
