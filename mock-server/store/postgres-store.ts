import postgres from 'postgres';
import type { ScenarioFile } from '../../contracts/types.js';
import type { Delivery, DeliveryFilter } from '../callbacks/delivery.js';
import type { JournalEntry, JournalFilter } from '../journal/journal-entry.js';
import type { Merchant } from '../merchants/merchant.js';
import type { Transaction } from '../payments/transaction.js';
import {
  merchantUseScopes,
  type DeliveryLease,
  type MerchantPurge,
  type NewMerchant,
  type ScenarioUse,
  type Store,
  type TransactionFilter,
  type TransactionWrite,
  type Updated,
  type UserScenario,
} from './store.js';

/** Why the store cannot use its database, in words an operator can act on. */
export class PostgresStoreError extends Error {
  override name = 'PostgresStoreError';
}

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema, as an ordered list of migrations, applied by the first replica that starts (under an
 * advisory lock, so replicas starting together apply each once). Never edit an applied migration:
 * append a new one. Rows are JSON documents plus the columns queries need, as in the SQLite store.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'initial schema: merchants, transactions, deliveries with leases, journal, scenarios',
    sql: `
      CREATE TABLE meta (
        key   text PRIMARY KEY,
        value text NOT NULL
      );
      CREATE TABLE merchants (
        seq         bigserial PRIMARY KEY,
        app_id      text NOT NULL UNIQUE,
        merchant_id bigint NOT NULL,
        builtin     boolean NOT NULL,
        doc         text NOT NULL
      );
      -- Ids are handed out in blocks of 64 (one round trip per block), see nextTransactionId.
      CREATE SEQUENCE transaction_id_blocks START 1 INCREMENT 64;
      CREATE TABLE transactions (
        seq               bigserial PRIMARY KEY,
        id                bigint NOT NULL,
        hash              text NOT NULL UNIQUE,
        app_id            text NOT NULL,
        order_id          text NOT NULL,
        status            text NOT NULL,
        status_created_at bigint NOT NULL,
        created_at        bigint NOT NULL,
        rev               integer NOT NULL DEFAULT 0,
        doc               text NOT NULL,
        UNIQUE (app_id, order_id)
      );
      CREATE INDEX transactions_app_seq ON transactions (app_id, seq);
      -- Clearing's due times: a success clears at status_created_at + clearing_delay_ms.
      CREATE INDEX transactions_status_at ON transactions (status, status_created_at);
      CREATE TABLE deliveries (
        seq              bigserial PRIMARY KEY,
        id               text NOT NULL UNIQUE,
        transaction_hash text NOT NULL,
        app_id           text NOT NULL,
        state            text NOT NULL,
        next_attempt_at  bigint,
        lease_owner      text,
        lease_until      bigint,
        doc              jsonb NOT NULL
      );
      CREATE INDEX deliveries_transaction_hash ON deliveries (transaction_hash);
      CREATE INDEX deliveries_app ON deliveries (app_id);
      CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'retrying', 'delivering');
      CREATE TABLE journal (
        id               bigserial PRIMARY KEY,
        at               bigint NOT NULL,
        app_id           text,
        order_id         text,
        transaction_hash text,
        doc              text NOT NULL
      );
      CREATE INDEX journal_transaction_hash ON journal (transaction_hash);
      CREATE INDEX journal_order_id ON journal (order_id);
      CREATE INDEX journal_app_id ON journal (app_id);
      CREATE TABLE scenarios (
        seq  bigserial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        doc  text NOT NULL
      );
      CREATE TABLE scenario_uses (
        seq  bigserial PRIMARY KEY,
        key  text NOT NULL UNIQUE,
        used integer NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'per-merchant purge: scenario owners',
    sql: `
      ALTER TABLE scenarios ADD COLUMN app_id text;
      CREATE INDEX scenarios_app_id ON scenarios (app_id);
    `,
  },
];

const OPEN_STATES = ['pending', 'retrying', 'delivering'];
const DEFAULT_LIST_LIMIT = 100;
/** A change function may run again when another writer got there first; this many times at most. */
const MAX_ROUNDS = 50;
const BLOCK = 64;
/** The journal is trimmed to its bound every this many appends (reads apply the bound exactly). */
const TRIM_EVERY = 32;

const limitOf = (limit: number | undefined) => Math.max(0, Math.floor(limit ?? DEFAULT_LIST_LIMIT));

/** Applies the migrations the database lacks, one transaction each, under an advisory lock. */
export async function migratePostgres(
  sql: postgres.Sql,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<number[]> {
  return sql.begin(async (tx) => {
    // One migrator at a time: replicas starting together wait here, then find nothing to do.
    await tx`SELECT pg_advisory_xact_lock(7283917)`;
    // `?search_path=<schema>` in the URL puts a sandbox in a schema of its own (several sandboxes,
    // or test runs, in one database): the schema is made on the first start.
    const [where] = await tx<{ schema: string | null }[]>`SELECT current_schema() AS schema`;
    if (!where?.schema) {
      const [path] = await tx<{ search_path: string }[]>`SHOW search_path`;
      const first = (path?.search_path ?? '')
        .split(',')[0]!
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (!first || first === '$user')
        throw new PostgresStoreError('no schema to create the tables in: check search_path');
      await tx`CREATE SCHEMA IF NOT EXISTS ${sql(first)}`;
    }
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at bigint NOT NULL
    )`;
    const [row] = await tx<{ v: number | null }[]>`SELECT max(version) AS v FROM schema_migrations`;
    const current = row?.v ?? 0;
    const newest = migrations.at(-1)?.version ?? 0;
    if (current > newest) {
      throw new PostgresStoreError(
        `the database is at schema version ${current}, newer than this ktpay-mock knows (${newest}): upgrade ktpay-mock or use another database`,
      );
    }
    const applied: number[] = [];
    for (const m of migrations) {
      if (m.version <= current) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${Date.now()})`;
      applied.push(m.version);
    }
    return applied;
  });
}

/** Thrown inside a write transaction when another writer changed the row first: run it again. */
class Conflict extends Error {}

/** The PostgreSQL store, plus what a cluster needs beyond the Store interface. */
export interface PostgresStore extends Store {
  readonly kind: 'postgres';
  /** The connection pool (LISTEN/NOTIFY for the dashboard's live view across replicas). */
  readonly sql: postgres.Sql;
  /** Transactions in `success` whose status is at least `delay_ms` old: clearing is due. */
  listDueClearings(now: number, delayMs: number, limit: number): Promise<string[]>;
}

/**
 * The shared store for a cluster of sandbox replicas: every replica connects to the same
 * PostgreSQL database, so any replica serves any request (issue 17). Library: `postgres`
 * (postgres.js), chosen over `pg` by measurement (see the commit that added this file).
 *
 * Concurrency: uniqueness is PostgreSQL's (UNIQUE (app_id, order_id), UNIQUE app_id, ON CONFLICT);
 * a change function runs on the row read with its `rev`, and the write is `UPDATE … WHERE rev = $rev`
 * (optimistic concurrency): when another replica wrote first, it is read and run again. Delivery
 * leases are columns, claimed with `FOR UPDATE SKIP LOCKED`.
 *
 * @example
 * const store = await createPostgresStore({ url: 'postgres://ktpay@db:5432/ktpay', journalSize: 1000 });
 */
export async function createPostgresStore(opts: {
  url: string;
  journalSize: number;
  /** Connections in this replica's pool (default 10). */
  max?: number;
}): Promise<PostgresStore> {
  let sql: postgres.Sql;
  try {
    sql = postgres(opts.url, {
      max: opts.max ?? 10,
      onnotice: () => undefined,
      connect_timeout: 10,
      idle_timeout: 60,
      // bigint columns hold epoch milliseconds and ids: well inside a double.
      types: {
        // A time is rounded up to a whole millisecond: a scaled retry delay (CALLBACK_TIME_SCALE) is
        // fractional, and a bigint column refuses 1796449926555.5.
        bigint: {
          to: 20,
          from: [20],
          serialize: (v: number) => String(Math.ceil(v)),
          parse: (v: string) => Number(v),
        },
      },
    });
    await migratePostgres(sql);
  } catch (err) {
    if (err instanceof PostgresStoreError) throw err;
    throw new PostgresStoreError(`cannot use PostgreSQL at ${redact(opts.url)}: ${(err as Error).message}`);
  }

  let idBlock = { next: 0, end: 0 };
  let idWaiters: Promise<void> | undefined;

  const parse = <T>(doc: string | undefined): T | undefined =>
    doc === undefined ? undefined : (JSON.parse(doc) as T);

  async function optimistic<T>(run: () => Promise<T>): Promise<T> {
    for (let round = 1; ; round++) {
      try {
        return await run();
      } catch (err) {
        if (!(err instanceof Conflict) || round >= MAX_ROUNDS) throw err;
      }
    }
  }

  const deliveryValues = (d: Delivery) => ({
    id: d.id,
    transaction_hash: d.transaction_hash,
    app_id: d.app_id,
    state: d.state,
    next_attempt_at: d.next_attempt_at,
    doc: sql.json(d as unknown as postgres.JSONValue),
  });

  async function insertDeliveriesWith(q: postgres.Sql | postgres.TransactionSql, ds: readonly Delivery[]) {
    if (ds.length === 0) return;
    await q`INSERT INTO deliveries ${sql(ds.map(deliveryValues), 'id', 'transaction_hash', 'app_id', 'state', 'next_attempt_at', 'doc')}`;
  }

  const leaseReturn = (rows: { before: Delivery; after: Delivery }[]) => rows;

  const store: PostgresStore = {
    kind: 'postgres',
    sql,

    async putMerchant(m) {
      await sql`INSERT INTO merchants (app_id, merchant_id, builtin, doc)
        VALUES (${m.app_id}, ${m.merchant_id}, ${m.builtin}, ${JSON.stringify(m)})
        ON CONFLICT (app_id) DO UPDATE SET merchant_id = excluded.merchant_id, builtin = excluded.builtin, doc = excluded.doc`;
    },
    async insertMerchant(draft: NewMerchant) {
      return sql.begin(async (tx) => {
        // Numbering needs the largest merchant_id: serialize merchant inserts (rare) for that.
        await tx`LOCK TABLE merchants IN SHARE ROW EXCLUSIVE MODE`;
        let merchantId = draft.merchant_id;
        if (merchantId === undefined) {
          const [r] = await tx<
            { m: number }[]
          >`SELECT coalesce(max(merchant_id), 0)::bigint AS m FROM merchants`;
          merchantId = Number(r?.m ?? 0) + 1;
        }
        const m: Merchant = { ...draft, merchant_id: merchantId };
        const res = await tx`INSERT INTO merchants (app_id, merchant_id, builtin, doc)
          VALUES (${m.app_id}, ${m.merchant_id}, ${m.builtin}, ${JSON.stringify(m)})
          ON CONFLICT (app_id) DO NOTHING`;
        return res.count > 0 ? m : undefined;
      });
    },
    async updateMerchant(appId, fn) {
      return sql.begin(async (tx) => {
        const [row] = await tx<
          { doc: string }[]
        >`SELECT doc FROM merchants WHERE app_id = ${appId} FOR UPDATE`;
        if (!row) return undefined;
        const before = JSON.parse(row.doc) as Merchant;
        const after = fn(before);
        if (after === undefined) return { before, after: before };
        await tx`UPDATE merchants SET merchant_id = ${after.merchant_id}, builtin = ${after.builtin}, doc = ${JSON.stringify(after)} WHERE app_id = ${appId}`;
        return { before, after };
      });
    },
    async getMerchant(appId) {
      const [row] = await sql<{ doc: string }[]>`SELECT doc FROM merchants WHERE app_id = ${appId}`;
      return parse<Merchant>(row?.doc);
    },
    async listMerchants() {
      const rows = await sql<{ doc: string }[]>`SELECT doc FROM merchants ORDER BY seq`;
      return rows.map((r) => JSON.parse(r.doc) as Merchant);
    },
    async deleteMerchant(appId) {
      return (await sql`DELETE FROM merchants WHERE app_id = ${appId}`).count > 0;
    },
    async purgeMerchant(appId, o = {}) {
      const [merchant, header, order] = merchantUseScopes(appId) as [string, string, string];
      return sql.begin(async (tx): Promise<MerchantPurge | undefined> => {
        // The merchant row locked first: two replicas purging it at once take turns.
        const [row] = await tx`SELECT 1 FROM merchants WHERE app_id = ${appId} FOR UPDATE`;
        if (!row) return undefined;
        const mine = tx`SELECT hash FROM transactions WHERE app_id = ${appId}`;
        const purge: MerchantPurge = {
          merchant: false,
          journal_entries: (
            await tx`DELETE FROM journal WHERE app_id = ${appId} OR transaction_hash IN (${mine})`
          ).count,
          deliveries: (
            await tx`DELETE FROM deliveries WHERE app_id = ${appId} OR transaction_hash IN (${mine})`
          ).count,
          scenario_uses: (
            await tx`DELETE FROM scenario_uses
              WHERE starts_with(key, ${merchant}) OR starts_with(key, ${header}) OR starts_with(key, ${order})
                 OR (starts_with(key, 'tx:') AND substr(split_part(key, '|', 1), 4) IN (${mine}))`
          ).count,
          transactions: (await tx`DELETE FROM transactions WHERE app_id = ${appId}`).count,
          scenarios: 0,
        };
        if (!o.keep_merchant) {
          purge.scenarios = (await tx`DELETE FROM scenarios WHERE app_id = ${appId}`).count;
          purge.merchant = (await tx`DELETE FROM merchants WHERE app_id = ${appId}`).count > 0;
        }
        return purge;
      });
    },

    async nextTransactionId() {
      for (;;) {
        if (idBlock.next < idBlock.end) return idBlock.next++;
        if (!idWaiters) {
          idWaiters = (async () => {
            const [r] = await sql<{ v: number }[]>`SELECT nextval('transaction_id_blocks') AS v`;
            const start = Number(r!.v);
            idBlock = { next: start, end: start + BLOCK };
          })().finally(() => {
            idWaiters = undefined;
          });
        }
        await idWaiters;
      }
    },
    async insertTransaction(tx) {
      // One statement: the merchant row is held (KEY SHARE) while the row goes in, so a purge of the
      // merchant (FOR UPDATE) either waits for this insert and takes it along, or came first and
      // this finds no merchant.
      const res = await sql`WITH owner AS (
          SELECT app_id FROM merchants WHERE app_id = ${tx.app_id} FOR KEY SHARE
        )
        INSERT INTO transactions (id, hash, app_id, order_id, status, status_created_at, created_at, doc)
        SELECT ${tx.id}, ${tx.hash}, owner.app_id, ${tx.order_id}, ${tx.status}, ${tx.status_created_at}, ${tx.created_at}, ${JSON.stringify(tx)}
        FROM owner
        ON CONFLICT (app_id, order_id) DO NOTHING`;
      if (res.count > 0) return { inserted: true };
      const [held] = await sql`SELECT 1 FROM merchants WHERE app_id = ${tx.app_id}`;
      return { inserted: false, reason: held ? 'duplicate_order' : 'unknown_merchant' };
    },
    async updateTransaction(hash, fn: (tx: Transaction) => TransactionWrite | undefined) {
      return optimistic(async (): Promise<Updated<Transaction> | undefined> => {
        const [row] = await sql<
          { doc: string; rev: number }[]
        >`SELECT doc, rev FROM transactions WHERE hash = ${hash}`;
        if (!row) return undefined;
        const before = JSON.parse(row.doc) as Transaction;
        const write = fn(before);
        if (write === undefined) return { before, after: before };
        const after = write.tx;
        const update = (q: postgres.Sql | postgres.TransactionSql) => q`UPDATE transactions
          SET status = ${after.status}, status_created_at = ${after.status_created_at}, doc = ${JSON.stringify(after)}, rev = rev + 1
          WHERE hash = ${hash} AND rev = ${row.rev}`;
        if (!write.deliveries?.length) {
          if ((await update(sql)).count === 0) throw new Conflict();
        } else {
          // The transition and the callbacks it causes commit together (the outbox).
          await sql.begin(async (tx) => {
            if ((await update(tx)).count === 0) throw new Conflict();
            await insertDeliveriesWith(tx, write.deliveries!);
          });
        }
        return { before, after };
      });
    },
    async getTransaction(hash) {
      const [row] = await sql<{ doc: string }[]>`SELECT doc FROM transactions WHERE hash = ${hash}`;
      return parse<Transaction>(row?.doc);
    },
    async findTransactionByOrder(appId, orderId) {
      const [row] = await sql<
        { doc: string }[]
      >`SELECT doc FROM transactions WHERE app_id = ${appId} AND order_id = ${orderId}`;
      return parse<Transaction>(row?.doc);
    },
    async listTransactions(f: TransactionFilter) {
      const rows = await sql<{ doc: string }[]>`SELECT doc FROM transactions WHERE true
        ${f.app_id ? sql`AND app_id = ${f.app_id}` : sql``}
        ${f.status ? sql`AND status = ${f.status}` : sql``}
        ${f.order_id ? sql`AND order_id = ${f.order_id}` : sql``}
        ORDER BY seq DESC LIMIT ${limitOf(f.limit)}`;
      return rows.map((r) => JSON.parse(r.doc) as Transaction);
    },
    async countTransactions() {
      const [r] = await sql<{ n: number }[]>`SELECT count(*)::bigint AS n FROM transactions`;
      return Number(r?.n ?? 0);
    },
    async listDueClearings(now, delayMs, limit) {
      const rows = await sql<{ hash: string }[]>`SELECT hash FROM transactions
        WHERE status = 'success' AND status_created_at <= ${now - delayMs}
        ORDER BY status_created_at LIMIT ${limit}`;
      return rows.map((r) => r.hash);
    },

    async appendJournal(entry) {
      const [r] = await sql<
        { id: number }[]
      >`INSERT INTO journal (at, app_id, order_id, transaction_hash, doc)
        VALUES (${entry.at}, ${entry.app_id}, ${entry.order_id}, ${entry.transaction_hash}, ${JSON.stringify(entry)})
        RETURNING id`;
      const id = Number(r!.id);
      if (id % TRIM_EVERY === 0 && id > opts.journalSize) {
        await sql`DELETE FROM journal WHERE id <= ${id - opts.journalSize}`;
      }
      return { ...entry, id };
    },
    async listJournal(f: JournalFilter) {
      // The bound applies exactly on read: trimming is batched (see TRIM_EVERY).
      const rows = await sql<{ id: number; doc: string }[]>`SELECT id, doc FROM journal
        WHERE id > (SELECT coalesce(max(id), 0) FROM journal) - ${opts.journalSize}
        ${f.app_id ? sql`AND app_id = ${f.app_id}` : sql``}
        ${f.order_id ? sql`AND order_id = ${f.order_id}` : sql``}
        ${f.transaction_hash ? sql`AND transaction_hash = ${f.transaction_hash}` : sql``}
        ${f.since !== undefined ? sql`AND at >= ${f.since}` : sql``}
        ORDER BY id DESC LIMIT ${limitOf(f.limit)}`;
      return rows.map((r) => ({ ...(JSON.parse(r.doc) as Omit<JournalEntry, 'id'>), id: Number(r.id) }));
    },

    async insertDeliveries(ds) {
      await insertDeliveriesWith(sql, ds);
    },
    async updateDelivery(id, fn) {
      return sql.begin(async (tx) => {
        const [row] = await tx<{ doc: Delivery }[]>`SELECT doc FROM deliveries WHERE id = ${id} FOR UPDATE`;
        if (!row) return undefined;
        const before = row.doc;
        const after = fn(before);
        if (after === undefined) return { before, after: before };
        await tx`UPDATE deliveries SET state = ${after.state}, next_attempt_at = ${after.next_attempt_at},
          doc = ${sql.json(after as unknown as postgres.JSONValue)} WHERE id = ${id}`;
        return { before, after };
      });
    },
    async getDelivery(id) {
      const [row] = await sql<{ doc: Delivery }[]>`SELECT doc FROM deliveries WHERE id = ${id}`;
      return row?.doc;
    },
    async listDeliveries(f: DeliveryFilter) {
      const rows = await sql<{ doc: Delivery }[]>`SELECT doc FROM deliveries WHERE true
        ${f.transaction_hash ? sql`AND transaction_hash = ${f.transaction_hash}` : sql``}
        ${f.state ? sql`AND state = ${f.state}` : sql``}
        ${f.app_id ? sql`AND app_id = ${f.app_id}` : sql``}
        ORDER BY seq`;
      return rows.map((r) => r.doc);
    },
    async listOpenDeliveries() {
      const rows = await sql<
        { doc: Delivery }[]
      >`SELECT doc FROM deliveries WHERE state IN ${sql(OPEN_STATES)} ORDER BY seq`;
      return rows.map((r) => r.doc);
    },
    async claimDelivery(id, lease: DeliveryLease, o = {}) {
      const rows = await sql<{ before: Delivery; after: Delivery }[]>`
        WITH old AS (
          SELECT id, doc FROM deliveries
          WHERE id = ${id}
            ${o.closed ? sql`` : sql`AND state IN ${sql(OPEN_STATES)}`}
            ${o.due ? sql`AND coalesce(next_attempt_at, 0) <= ${lease.now}` : sql``}
            AND (lease_owner IS NULL OR lease_owner = ${lease.owner} OR lease_until <= ${lease.now})
          FOR UPDATE
        )
        UPDATE deliveries d SET state = 'delivering', lease_owner = ${lease.owner},
          lease_until = ${lease.now + lease.lease_ms}, doc = jsonb_set(d.doc, '{state}', '"delivering"')
        FROM old WHERE d.id = old.id
        RETURNING old.doc AS before, d.doc AS after`;
      return rows[0];
    },
    async claimDueDeliveries(lease, limit) {
      // SKIP LOCKED: replicas sweeping at once each take different rows, none waits.
      const rows = await sql<{ before: Delivery; after: Delivery }[]>`
        WITH due AS (
          SELECT id, doc FROM deliveries
          WHERE (state IN ('pending', 'retrying') AND coalesce(next_attempt_at, 0) <= ${lease.now}
                 AND (lease_owner IS NULL OR lease_owner = ${lease.owner} OR lease_until <= ${lease.now}))
             OR (state = 'delivering' AND lease_until <= ${lease.now})
          ORDER BY coalesce(next_attempt_at, 0), seq
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE deliveries d SET state = 'delivering', lease_owner = ${lease.owner},
          lease_until = ${lease.now + lease.lease_ms}, doc = jsonb_set(d.doc, '{state}', '"delivering"')
        FROM due WHERE d.id = due.id
        RETURNING due.doc AS before, d.doc AS after`;
      return leaseReturn(rows.map((r) => ({ before: r.before, after: r.after })));
    },
    async settleDelivery(id, owner, fn) {
      return sql.begin(async (tx) => {
        const [row] = await tx<{ doc: Delivery; lease_owner: string | null }[]>`
          SELECT doc, lease_owner FROM deliveries WHERE id = ${id} FOR UPDATE`;
        if (!row || row.lease_owner !== owner) return undefined;
        const before = row.doc;
        const after = fn(before);
        await tx`UPDATE deliveries SET state = ${after.state}, next_attempt_at = ${after.next_attempt_at},
          doc = ${sql.json(after as unknown as postgres.JSONValue)}, lease_owner = NULL, lease_until = NULL
          WHERE id = ${id}`;
        return { before, after };
      });
    },

    async putScenario(s, appId = null) {
      await sql`INSERT INTO scenarios (name, doc, app_id) VALUES (${s.name}, ${JSON.stringify(s)}, ${appId})
        ON CONFLICT (name) DO UPDATE SET doc = excluded.doc, app_id = excluded.app_id`;
    },
    async getScenario(name) {
      const [row] = await sql<{ doc: string }[]>`SELECT doc FROM scenarios WHERE name = ${name}`;
      return parse<ScenarioFile>(row?.doc);
    },
    async listScenarios() {
      const rows = await sql<
        { doc: string; app_id: string | null }[]
      >`SELECT doc, app_id FROM scenarios ORDER BY seq`;
      return rows.map((r): UserScenario => ({
        scenario: JSON.parse(r.doc) as ScenarioFile,
        app_id: r.app_id,
      }));
    },
    async useScenarioStep(key, limit) {
      if (!(limit > 0)) return false;
      const capped = Math.min(limit, 2_147_483_647);
      // One statement: the count only grows while below the limit, so replicas never both take the last use.
      const res = await sql`INSERT INTO scenario_uses (key, used) VALUES (${key}, 1)
        ON CONFLICT (key) DO UPDATE SET used = scenario_uses.used + 1 WHERE scenario_uses.used < ${capped}`;
      return res.count > 0;
    },
    async listScenarioUses() {
      const rows = await sql<ScenarioUse[]>`SELECT key, used FROM scenario_uses ORDER BY seq`;
      return rows.map((r) => ({ key: r.key, used: Number(r.used) }));
    },
    async resetScenarioUses() {
      await sql`DELETE FROM scenario_uses`;
    },

    async reset() {
      await sql.begin(async (tx) => {
        await tx`DELETE FROM transactions`;
        await tx`DELETE FROM deliveries`;
        await tx`DELETE FROM journal`;
        await tx`DELETE FROM merchants WHERE NOT builtin`;
      });
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
  return store;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid URL>';
  }
}
