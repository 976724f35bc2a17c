import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Delivery, DeliveryFilter } from '../callbacks/delivery.js';
import type { JournalEntry, JournalFilter } from '../journal/journal-entry.js';
import type { Merchant } from '../merchants/merchant.js';
import type { Transaction } from '../payments/transaction.js';
import { safeJsonStringify } from '../shared/json-depth.js';
import type { ScenarioFile } from '../../contracts/types.js';
import {
  merchantUseScopes,
  type DeliveryLease,
  type MerchantPurge,
  type NewMerchant,
  type ScenarioUse,
  type Store,
  type TransactionFilter,
  type TransactionInsert,
  type TransactionWrite,
  type UserScenario,
} from './store.js';

/** Why the store cannot open its file, in words an operator can act on. */
export class SqliteStoreError extends Error {
  override name = 'SqliteStoreError';
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, as an ordered list of migrations. A database records what it has applied in
 * `schema_migrations` (and mirrors the newest version in `PRAGMA user_version`); opening applies the
 * rest in order, each in its own transaction. Never edit an applied migration: append a new one.
 *
 * Rows are JSON documents plus the columns queries need, so a model may gain optional fields
 * without a migration: only a new *query* needs a new column.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema: merchants, transactions, callback deliveries, bounded journal',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE merchants (
        seq     INTEGER PRIMARY KEY,
        app_id  TEXT NOT NULL UNIQUE,
        builtin INTEGER NOT NULL,
        doc     TEXT NOT NULL
      );
      CREATE TABLE transactions (
        seq        INTEGER PRIMARY KEY,
        id         INTEGER NOT NULL,
        hash       TEXT NOT NULL UNIQUE,
        app_id     TEXT NOT NULL,
        order_id   TEXT NOT NULL,
        status     TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        doc        TEXT NOT NULL,
        UNIQUE (app_id, order_id)
      );
      CREATE INDEX transactions_status ON transactions (status);
      CREATE TABLE deliveries (
        seq              INTEGER PRIMARY KEY,
        id               TEXT NOT NULL UNIQUE,
        transaction_hash TEXT NOT NULL,
        app_id           TEXT NOT NULL,
        state            TEXT NOT NULL,
        next_attempt_at  INTEGER,
        doc              TEXT NOT NULL
      );
      CREATE INDEX deliveries_state ON deliveries (state);
      CREATE INDEX deliveries_transaction_hash ON deliveries (transaction_hash);
      CREATE TABLE journal (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        at               INTEGER NOT NULL,
        app_id           TEXT,
        order_id         TEXT,
        transaction_hash TEXT,
        doc              TEXT NOT NULL
      );
      CREATE INDEX journal_transaction_hash ON journal (transaction_hash);
      CREATE INDEX journal_order_id ON journal (order_id);
    `,
  },
  {
    version: 2,
    name: 'user-defined scenarios and scenario step use counts',
    sql: `
      CREATE TABLE scenarios (
        seq  INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        doc  TEXT NOT NULL
      );
      CREATE TABLE scenario_uses (
        seq  INTEGER PRIMARY KEY,
        key  TEXT NOT NULL UNIQUE,
        used INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'callback delivery leases (who is making an attempt, until when)',
    sql: `
      ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;
      ALTER TABLE deliveries ADD COLUMN lease_until INTEGER;
      CREATE INDEX deliveries_next_attempt_at ON deliveries (next_attempt_at);
    `,
  },
  {
    version: 4,
    name: 'per-merchant purge: scenario owners, app_id indexes on deliveries and journal',
    sql: `
      ALTER TABLE scenarios ADD COLUMN app_id TEXT;
      CREATE INDEX scenarios_app_id ON scenarios (app_id);
      CREATE INDEX deliveries_app_id ON deliveries (app_id);
      CREATE INDEX journal_app_id ON journal (app_id);
    `,
  },
];

const CLOSED_DELIVERY_STATES = ['acknowledged', 'failed'] as const;
const DEFAULT_LIST_LIMIT = 100;

/** `f.limit ?? 100`, never negative (SQLite reads LIMIT -1 as "no limit"; the memory store as none). */
const limitOf = (limit: number | undefined) => Math.max(0, Math.floor(limit ?? DEFAULT_LIST_LIMIT));

/** Applies the migrations the database lacks. Exported for the migration tests. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  const current = Math.max(row.v ?? 0, Number(db.pragma('user_version', { simple: true })) || 0);
  const newest = migrations.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new SqliteStoreError(
      `the database is at schema version ${current}, newer than this ktpay-mock knows (${newest}): upgrade ktpay-mock or use another file`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}

/** The SQLite store, plus what it can say about its own file. */
export interface SqliteStore extends Store {
  readonly kind: 'sqlite';
  /** The file and the durability settings of this store's own connection. */
  info(): {
    path: string;
    journal_mode: string;
    synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
    schema_version: number;
  };
}

/**
 * A durable store in one SQLite file (better-sqlite3 12: synchronous underneath, asynchronous to callers
 * like every Store).
 *
 * Durability: WAL journal with `synchronous = NORMAL`. Every Store write is one autocommitted
 * statement (or one explicit transaction), so it is committed when its promise resolves, before
 * any reply is sent. In WAL mode a commit is written to the WAL file before the call returns, so it
 * survives the sandbox process being killed (`kill -9`, OOM, a crash). What NORMAL gives up
 * against FULL is the fsync per commit: a power cut or kernel crash may lose the last commits.
 * For a test sandbox that trade is worth several times the write throughput; docs/persistence.md says so.
 *
 * Documents are written with `safeJsonStringify`: a row an older version stored nested deeper than
 * JSON.stringify can go (issue 22) is read as it is and, when changed, written back cut at the limit.
 *
 * @example
 * const store = createSqliteStore({ path: './data/ktpay.db', journalSize: 1000 });
 * await store.insertTransaction(tx); // committed when it resolves
 */
export function createSqliteStore(opts: { path: string; journalSize: number }): SqliteStore {
  const inMemory = opts.path === ':memory:';
  const file = inMemory ? opts.path : resolve(opts.path);
  let db: Database.Database;
  try {
    if (!inMemory) mkdirSync(dirname(file), { recursive: true });
    db = new Database(file, { timeout: 5000 });
  } catch (err) {
    throw new SqliteStoreError(`cannot open SQLite file ${file}: ${(err as Error).message}`);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db);
    // One process per file: leases a previous process held died with it.
    db.exec('UPDATE deliveries SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL');
  } catch (err) {
    db.close();
    if (err instanceof SqliteStoreError) throw err;
    throw new SqliteStoreError(`cannot use SQLite file ${file}: ${(err as Error).message}`);
  }

  // Statements compiled once. Filtered lists have one statement per filter shape, compiled on first use.
  const s = {
    putMerchant: db.prepare(
      `INSERT INTO merchants (app_id, builtin, doc) VALUES (@app_id, @builtin, @doc)
       ON CONFLICT (app_id) DO UPDATE SET builtin = excluded.builtin, doc = excluded.doc`,
    ),
    insertMerchant: db.prepare(
      'INSERT OR IGNORE INTO merchants (app_id, builtin, doc) VALUES (@app_id, @builtin, @doc)',
    ),
    updateMerchant: db.prepare('UPDATE merchants SET builtin = @builtin, doc = @doc WHERE app_id = @app_id'),
    getMerchant: db.prepare('SELECT doc FROM merchants WHERE app_id = ?').pluck(),
    listMerchants: db.prepare('SELECT doc FROM merchants ORDER BY seq').pluck(),
    deleteMerchant: db.prepare('DELETE FROM merchants WHERE app_id = ?'),
    deleteRuntimeMerchants: db.prepare('DELETE FROM merchants WHERE builtin = 0'),

    maxTransactionId: db.prepare('SELECT coalesce(max(id), 0) FROM transactions').pluck(),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
    putMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    insertTransaction: db.prepare(
      `INSERT OR IGNORE INTO transactions (id, hash, app_id, order_id, status, created_at, doc)
       VALUES (@id, @hash, @app_id, @order_id, @status, @created_at, @doc)`,
    ),
    updateTransaction: db.prepare('UPDATE transactions SET status = @status, doc = @doc WHERE hash = @hash'),
    getTransaction: db.prepare('SELECT doc FROM transactions WHERE hash = ?').pluck(),
    findTransactionByOrder: db
      .prepare('SELECT doc FROM transactions WHERE app_id = ? AND order_id = ?')
      .pluck(),
    countTransactions: db.prepare('SELECT count(*) FROM transactions').pluck(),
    deleteTransactions: db.prepare('DELETE FROM transactions'),

    appendJournal: db.prepare(
      `INSERT INTO journal (at, app_id, order_id, transaction_hash, doc)
       VALUES (@at, @app_id, @order_id, @transaction_hash, @doc)`,
    ),
    trimJournal: db.prepare('DELETE FROM journal WHERE id <= ?'),
    deleteJournal: db.prepare('DELETE FROM journal'),

    insertDelivery: db.prepare(
      `INSERT INTO deliveries (id, transaction_hash, app_id, state, next_attempt_at, doc)
       VALUES (@id, @transaction_hash, @app_id, @state, @next_attempt_at, @doc)`,
    ),
    updateDelivery: db.prepare(
      'UPDATE deliveries SET state = @state, next_attempt_at = @next_attempt_at, doc = @doc WHERE id = @id',
    ),
    getDeliveryRow: db.prepare('SELECT doc, lease_owner, lease_until FROM deliveries WHERE id = ?'),
    lease: db.prepare('UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?'),
    dueDeliveries: db.prepare(
      `SELECT doc, lease_owner, lease_until FROM deliveries
       WHERE (state IN ('pending', 'retrying') AND coalesce(next_attempt_at, 0) <= @now
              AND (lease_until IS NULL OR lease_until <= @now OR lease_owner = @owner))
          OR (state = 'delivering' AND lease_until IS NOT NULL AND lease_until <= @now)
       ORDER BY coalesce(next_attempt_at, 0), seq LIMIT @limit`,
    ),
    getDelivery: db.prepare('SELECT doc FROM deliveries WHERE id = ?').pluck(),
    listOpenDeliveries: db
      .prepare(
        `SELECT doc FROM deliveries WHERE state NOT IN (${CLOSED_DELIVERY_STATES.map(() => '?').join(', ')}) ORDER BY seq`,
      )
      .pluck(),
    deleteDeliveries: db.prepare('DELETE FROM deliveries'),

    putScenario: db.prepare(
      `INSERT INTO scenarios (name, doc, app_id) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET doc = excluded.doc, app_id = excluded.app_id`,
    ),
    getScenario: db.prepare('SELECT doc FROM scenarios WHERE name = ?').pluck(),
    listScenarios: db.prepare('SELECT doc, app_id FROM scenarios ORDER BY seq'),
    // One statement: the count only grows while it is below the limit, so two callers never both
    // take the last use.
    useScenarioStep: db.prepare(
      `INSERT INTO scenario_uses (key, used) VALUES (@key, 1)
       ON CONFLICT (key) DO UPDATE SET used = used + 1 WHERE used < @limit`,
    ),
    listScenarioUses: db.prepare('SELECT key, used FROM scenario_uses ORDER BY seq'),
    deleteScenarioUses: db.prepare('DELETE FROM scenario_uses'),

    // One merchant's rows (purgeMerchant). The transactions go last: the others find theirs by hash.
    hasMerchant: db.prepare('SELECT 1 FROM merchants WHERE app_id = ?').pluck(),
    purgeJournal: db.prepare(
      `DELETE FROM journal WHERE app_id = @app_id
         OR transaction_hash IN (SELECT hash FROM transactions WHERE app_id = @app_id)`,
    ),
    purgeDeliveries: db.prepare(
      `DELETE FROM deliveries WHERE app_id = @app_id
         OR transaction_hash IN (SELECT hash FROM transactions WHERE app_id = @app_id)`,
    ),
    purgeScenarioUses: db.prepare(
      `DELETE FROM scenario_uses
       WHERE substr(key, 1, length(@merchant)) = @merchant
          OR substr(key, 1, length(@header)) = @header
          OR substr(key, 1, length(@order)) = @order
          OR (substr(key, 1, 3) = 'tx:' AND instr(key, '|') > 4
              AND substr(key, 4, instr(key, '|') - 4) IN (SELECT hash FROM transactions WHERE app_id = @app_id))`,
    ),
    purgeTransactions: db.prepare('DELETE FROM transactions WHERE app_id = ?'),
    purgeScenarios: db.prepare('DELETE FROM scenarios WHERE app_id = ?'),
  };

  const shapes = new Map<string, Database.Statement>();
  /** One statement per combination of filters present, compiled once and reused. */
  function filtered(
    table: string,
    clauses: [string, boolean][],
    order: string,
    limited: boolean,
  ): Database.Statement {
    const present = clauses.filter(([, on]) => on).map(([sql]) => sql);
    const key = `${table}|${present.join('&')}|${order}|${limited}`;
    let stmt = shapes.get(key);
    if (!stmt) {
      const where = present.length ? ` WHERE ${present.join(' AND ')}` : '';
      stmt = db.prepare(
        `SELECT doc${table === 'journal' ? ', id' : ''} FROM ${table}${where} ORDER BY ${order}${limited ? ' LIMIT @limit' : ''}`,
      );
      if (table !== 'journal') stmt.pluck();
      shapes.set(key, stmt);
    }
    return stmt;
  }

  let txSeq = Math.max(Number(s.getMeta.get('transaction_id_seq') ?? 0), Number(s.maxTransactionId.get()));
  let closed = false;

  const resetAll = db.transaction(() => {
    s.deleteTransactions.run();
    s.deleteDeliveries.run();
    s.deleteJournal.run();
    s.deleteRuntimeMerchants.run();
    // Ids keep counting after a reset, as in the memory store, even across a restart.
    s.putMeta.run('transaction_id_seq', String(txSeq));
  });

  const parse = <T>(doc: unknown): T | undefined =>
    typeof doc === 'string' ? (JSON.parse(doc) as T) : undefined;
  const parseAll = <T>(docs: unknown[]): T[] => docs.map((d) => JSON.parse(d as string) as T);

  const merchantRow = (m: Merchant) => ({
    app_id: m.app_id,
    builtin: m.builtin ? 1 : 0,
    doc: safeJsonStringify(m),
  });
  const deliveryRow = (d: Delivery) => ({
    id: d.id,
    transaction_hash: d.transaction_hash,
    app_id: d.app_id,
    state: d.state,
    next_attempt_at: d.next_attempt_at,
    doc: safeJsonStringify(d),
  });
  const insertDeliveries = (ds: readonly Delivery[]) => {
    for (const d of ds) s.insertDelivery.run(deliveryRow(d));
  };

  // better-sqlite3 is synchronous and this process is the file's only writer, so a read, the
  // change function and the write inside one SQLite transaction cannot interleave with anything.
  const updateTransaction = db.transaction(
    (hash: string, fn: (tx: Transaction) => TransactionWrite | undefined) => {
      const before = parse<Transaction>(s.getTransaction.get(hash));
      if (before === undefined) return undefined;
      const write = fn(before);
      if (write === undefined) return { before, after: before };
      s.updateTransaction.run({ hash, status: write.tx.status, doc: safeJsonStringify(write.tx) });
      if (write.deliveries?.length) insertDeliveries(write.deliveries);
      return { before, after: write.tx };
    },
  );
  const updateDelivery = db.transaction((id: string, fn: (d: Delivery) => Delivery | undefined) => {
    const before = parse<Delivery>(s.getDelivery.get(id));
    if (before === undefined) return undefined;
    const after = fn(before);
    if (after === undefined) return { before, after: before };
    s.updateDelivery.run(deliveryRow(after));
    return { before, after };
  });
  const updateMerchant = db.transaction((appId: string, fn: (m: Merchant) => Merchant | undefined) => {
    const before = parse<Merchant>(s.getMerchant.get(appId));
    if (before === undefined) return undefined;
    const after = fn(before);
    if (after === undefined) return { before, after: before };
    s.updateMerchant.run(merchantRow(after));
    return { before, after };
  });
  const insertAllDeliveries = db.transaction(insertDeliveries);
  // The merchant check and the insert in one SQLite transaction: a purge cannot come in between.
  const insertTransaction = db.transaction((tx: Transaction): TransactionInsert => {
    if (s.hasMerchant.get(tx.app_id) === undefined) return { inserted: false, reason: 'unknown_merchant' };
    const info = s.insertTransaction.run({
      id: tx.id,
      hash: tx.hash,
      app_id: tx.app_id,
      order_id: tx.order_id,
      status: tx.status,
      created_at: tx.created_at,
      doc: safeJsonStringify(tx),
    });
    // INSERT OR IGNORE: the UNIQUE (app_id, order_id) constraint decides, never a read before.
    return info.changes > 0 ? { inserted: true } : { inserted: false, reason: 'duplicate_order' };
  });
  const purgeMerchant = db.transaction((appId: string, keep: boolean): MerchantPurge | undefined => {
    if (s.hasMerchant.get(appId) === undefined) return undefined;
    const [merchant, header, order] = merchantUseScopes(appId) as [string, string, string];
    const purge: MerchantPurge = {
      merchant: false,
      journal_entries: s.purgeJournal.run({ app_id: appId }).changes,
      deliveries: s.purgeDeliveries.run({ app_id: appId }).changes,
      scenario_uses: s.purgeScenarioUses.run({ app_id: appId, merchant, header, order }).changes,
      transactions: s.purgeTransactions.run(appId).changes,
      scenarios: 0,
    };
    if (!keep) {
      purge.scenarios = s.purgeScenarios.run(appId).changes;
      purge.merchant = s.deleteMerchant.run(appId).changes > 0;
    }
    return purge;
  });
  type LeaseRow = { doc: string; lease_owner: string | null; lease_until: number | null };
  const leaseFree = (row: LeaseRow, lease: DeliveryLease) =>
    row.lease_owner === null || row.lease_owner === lease.owner || (row.lease_until ?? 0) <= lease.now;
  const takeLease = (row: LeaseRow, lease: DeliveryLease) => {
    const before = JSON.parse(row.doc) as Delivery;
    const after: Delivery = { ...before, state: 'delivering' };
    s.updateDelivery.run(deliveryRow(after));
    s.lease.run(lease.owner, lease.now + lease.lease_ms, after.id);
    return { before, after };
  };
  const claimDelivery = db.transaction((id: string, lease: DeliveryLease, closed: boolean, due: boolean) => {
    const row = s.getDeliveryRow.get(id) as LeaseRow | undefined;
    if (!row || !leaseFree(row, lease)) return undefined;
    const d = JSON.parse(row.doc) as Delivery;
    if (!closed && CLOSED_DELIVERY_STATES.includes(d.state as never)) return undefined;
    if (due && (d.next_attempt_at ?? 0) > lease.now) return undefined;
    return takeLease(row, lease);
  });

  const claimDue = db.transaction((lease: DeliveryLease, limit: number) =>
    (s.dueDeliveries.all({ now: lease.now, owner: lease.owner, limit }) as LeaseRow[]).map((r) =>
      takeLease(r, lease),
    ),
  );
  const settleDelivery = db.transaction((id: string, owner: string, fn: (d: Delivery) => Delivery) => {
    const row = s.getDeliveryRow.get(id) as LeaseRow | undefined;
    if (!row || row.lease_owner !== owner) return undefined;
    const before = JSON.parse(row.doc) as Delivery;
    const after = fn(before);
    s.updateDelivery.run(deliveryRow(after));
    s.lease.run(null, null, id);
    return { before, after };
  });
  const insertMerchant = db.transaction((draft: NewMerchant): Merchant | undefined => {
    const merchantId =
      draft.merchant_id ??
      parseAll<Merchant>(s.listMerchants.all()).reduce((max, m) => Math.max(max, m.merchant_id), 0) + 1;
    const m: Merchant = { ...draft, merchant_id: merchantId };
    return s.insertMerchant.run(merchantRow(m)).changes > 0 ? m : undefined;
  });

  // Every method is `async` (the Store interface is); the work is done before the promise is
  // returned, and a throw becomes a rejection.
  return {
    kind: 'sqlite',
    info: () => ({
      path: file,
      journal_mode: String(db.pragma('journal_mode', { simple: true })),
      synchronous:
        (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[Number(db.pragma('synchronous', { simple: true }))] ??
        'OFF',
      schema_version: Number(db.pragma('user_version', { simple: true })),
    }),

    async putMerchant(m: Merchant) {
      s.putMerchant.run(merchantRow(m));
    },
    insertMerchant: async (draft) => insertMerchant(draft),
    updateMerchant: async (appId, fn) => updateMerchant(appId, fn),
    getMerchant: async (appId) => parse<Merchant>(s.getMerchant.get(appId)),
    listMerchants: async () => parseAll<Merchant>(s.listMerchants.all()),
    deleteMerchant: async (appId) => s.deleteMerchant.run(appId).changes > 0,
    purgeMerchant: async (appId, o = {}) => purgeMerchant(appId, o.keep_merchant ?? false),

    nextTransactionId: async () => ++txSeq,
    insertTransaction: async (tx: Transaction) => insertTransaction(tx),
    updateTransaction: async (hash, fn) => updateTransaction(hash, fn),
    getTransaction: async (hash) => parse<Transaction>(s.getTransaction.get(hash)),
    findTransactionByOrder: async (appId, orderId) =>
      parse<Transaction>(s.findTransactionByOrder.get(appId, orderId)),
    async listTransactions(f: TransactionFilter) {
      const stmt = filtered(
        'transactions',
        [
          ['app_id = @app_id', Boolean(f.app_id)],
          ['status = @status', Boolean(f.status)],
          ['order_id = @order_id', Boolean(f.order_id)],
        ],
        'seq DESC',
        true,
      );
      const params: Record<string, unknown> = { limit: limitOf(f.limit) };
      if (f.app_id) params.app_id = f.app_id;
      if (f.status) params.status = f.status;
      if (f.order_id) params.order_id = f.order_id;
      return parseAll<Transaction>(stmt.all(params));
    },
    countTransactions: async () => Number(s.countTransactions.get()),

    async appendJournal(entry) {
      const info = s.appendJournal.run({
        at: entry.at,
        app_id: entry.app_id,
        order_id: entry.order_id,
        transaction_hash: entry.transaction_hash,
        doc: safeJsonStringify(entry),
      });
      const id = Number(info.lastInsertRowid);
      // AUTOINCREMENT ids are contiguous for a single writer, so this keeps the newest journalSize rows.
      if (id > opts.journalSize) s.trimJournal.run(id - opts.journalSize);
      return { ...entry, id };
    },
    async listJournal(f: JournalFilter) {
      const stmt = filtered(
        'journal',
        [
          ['app_id = @app_id', Boolean(f.app_id)],
          ['order_id = @order_id', Boolean(f.order_id)],
          ['transaction_hash = @transaction_hash', Boolean(f.transaction_hash)],
          ['at >= @since', f.since !== undefined],
        ],
        'id DESC',
        true,
      );
      const params: Record<string, unknown> = { limit: limitOf(f.limit) };
      if (f.app_id) params.app_id = f.app_id;
      if (f.order_id) params.order_id = f.order_id;
      if (f.transaction_hash) params.transaction_hash = f.transaction_hash;
      if (f.since !== undefined) params.since = f.since;
      return (stmt.all(params) as { doc: string; id: number }[]).map((r) => ({
        ...(JSON.parse(r.doc) as Omit<JournalEntry, 'id'>),
        id: r.id,
      }));
    },

    async insertDeliveries(ds) {
      insertAllDeliveries(ds);
    },
    updateDelivery: async (id, fn) => updateDelivery(id, fn),
    getDelivery: async (id) => parse<Delivery>(s.getDelivery.get(id)),
    async listDeliveries(f: DeliveryFilter) {
      const stmt = filtered(
        'deliveries',
        [
          ['transaction_hash = @transaction_hash', Boolean(f.transaction_hash)],
          ['state = @state', Boolean(f.state)],
          ['app_id = @app_id', Boolean(f.app_id)],
        ],
        'seq',
        false,
      );
      const params: Record<string, unknown> = {};
      if (f.transaction_hash) params.transaction_hash = f.transaction_hash;
      if (f.state) params.state = f.state;
      if (f.app_id) params.app_id = f.app_id;
      return parseAll<Delivery>(stmt.all(params));
    },
    listOpenDeliveries: async () => parseAll<Delivery>(s.listOpenDeliveries.all(...CLOSED_DELIVERY_STATES)),
    claimDelivery: async (id, lease, o = {}) => claimDelivery(id, lease, o.closed ?? false, o.due ?? false),
    claimDueDeliveries: async (lease, limit) => claimDue(lease, limit),
    settleDelivery: async (id, owner, fn) => settleDelivery(id, owner, fn),

    async putScenario(sc, appId = null) {
      s.putScenario.run(sc.name, safeJsonStringify(sc), appId);
    },
    getScenario: async (name) => parse<ScenarioFile>(s.getScenario.get(name)),
    listScenarios: async () =>
      (s.listScenarios.all() as { doc: string; app_id: string | null }[]).map((r): UserScenario => ({
        scenario: JSON.parse(r.doc) as ScenarioFile,
        app_id: r.app_id,
      })),
    async useScenarioStep(key, limit) {
      if (!(limit > 0)) return false;
      return s.useScenarioStep.run({ key, limit: Math.min(limit, Number.MAX_SAFE_INTEGER) }).changes > 0;
    },
    listScenarioUses: async () => s.listScenarioUses.all() as ScenarioUse[],
    async resetScenarioUses() {
      s.deleteScenarioUses.run();
    },

    async reset() {
      resetAll();
    },
    async close() {
      if (closed) return;
      closed = true;
      s.putMeta.run('transaction_id_seq', String(txSeq));
      db.close();
    },
  };
}
