import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  deliveryFixture,
  journalFixture,
  merchantFixture,
  transactionFixture,
} from '../../test/helpers/store-fixtures.js';
import { testConfig } from '../../test/helpers/sandbox.js';
import { ConfigError } from '../config/load-config.js';
import { openStore } from './open-store.js';
import { createSqliteStore, MIGRATIONS, migrate, SqliteStoreError } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'ktpay-sqlite-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const freshPath = () => join(dir, `s-${++seq}.db`);

describe('SQLite store: what survives a reopen', () => {
  it('keeps merchants, transactions, deliveries and the bounded journal across close and reopen', async () => {
    const path = freshPath();
    const a = createSqliteStore({ path, journalSize: 3 });
    const m = merchantFixture('a'.repeat(32));
    await a.putMerchant(m);
    const tx = transactionFixture(await a.nextTransactionId(), { app_id: m.app_id });
    await a.insertTransaction(tx);
    const d = deliveryFixture('d1', { state: 'retrying' });
    await a.insertDeliveries([d]);
    for (let i = 1; i <= 5; i++) await a.appendJournal(journalFixture(i));
    await a.close();

    const b = createSqliteStore({ path, journalSize: 3 });
    expect(await b.getMerchant(m.app_id)).toEqual(m);
    expect(await b.getTransaction(tx.hash)).toEqual(tx);
    expect(await b.listOpenDeliveries()).toEqual([d]);
    expect((await b.listJournal({})).map((e) => e.id)).toEqual([5, 4, 3]);
    expect((await b.appendJournal(journalFixture(6))).id).toBe(6);
    expect((await b.listJournal({})).map((e) => e.id)).toEqual([6, 5, 4]);
    expect(await b.nextTransactionId()).toBe(2);
    await b.close();
  });

  it('does not reuse transaction ids after a reopen, nor after a reset followed by a reopen', async () => {
    const path = freshPath();
    const a = createSqliteStore({ path, journalSize: 10 });
    await a.putMerchant(merchantFixture(transactionFixture(0).app_id, { builtin: true }));
    for (let i = 0; i < 3; i++) await a.insertTransaction(transactionFixture(await a.nextTransactionId()));
    expect(await a.countTransactions()).toBe(3);
    await a.reset();
    await a.close();
    const b = createSqliteStore({ path, journalSize: 10 });
    expect(await b.nextTransactionId()).toBe(4);
    await b.close();
  });

  it('opens in WAL mode with synchronous=NORMAL and records its migrations', async () => {
    const path = freshPath();
    const store = createSqliteStore({ path, journalSize: 10 });
    expect(store.info()).toEqual({
      path,
      journal_mode: 'wal',
      synchronous: 'NORMAL',
      schema_version: MIGRATIONS.at(-1)!.version,
    });
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    db.close();
  });

  it('applies only the migrations a database lacks, in order', () => {
    const db = new Database(':memory:');
    const extra = [
      ...MIGRATIONS,
      {
        version: MIGRATIONS.length + 1,
        name: 'test: add a column',
        sql: 'ALTER TABLE transactions ADD COLUMN note TEXT',
      },
    ];
    expect(migrate(db, MIGRATIONS)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(migrate(db, MIGRATIONS)).toEqual([]);
    expect(migrate(db, extra)).toEqual([MIGRATIONS.length + 1]);
    expect(
      db.prepare("SELECT count(*) FROM pragma_table_info('transactions') WHERE name = 'note'").pluck().get(),
    ).toBe(1);
    db.close();
  });

  it('rolls a failing migration back whole and leaves the version where it was', () => {
    const db = new Database(':memory:');
    migrate(db, MIGRATIONS);
    const broken = [
      ...MIGRATIONS,
      { version: 99, name: 'broken', sql: 'CREATE TABLE half_done (x); SELECT * FROM no_such_table;' },
    ];
    expect(() => migrate(db, broken)).toThrow(/no_such_table/);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").pluck().get()).toBe(0);
    db.close();
  });

  it('refuses a database written by a newer schema', async () => {
    const path = freshPath();
    await createSqliteStore({ path, journalSize: 10 }).close();
    const db = new Database(path);
    db.pragma('user_version = 999');
    db.close();
    expect(() => createSqliteStore({ path, journalSize: 10 })).toThrow(SqliteStoreError);
    expect(() => createSqliteStore({ path, journalSize: 10 })).toThrow(/schema version 999/);
  });

  it('creates missing parent directories of the database path', async () => {
    const path = join(dir, 'nested', 'deeper', 'ktpay.db');
    const store = createSqliteStore({ path, journalSize: 10 });
    await store.putMerchant(merchantFixture('a'.repeat(32)));
    await store.close();
    expect(existsSync(path)).toBe(true);
  });
});

describe('openStore', () => {
  it('opens sqlite:<path> as a SQLite store and memory as the memory store', async () => {
    const path = freshPath();
    const sqlite = await openStore(testConfig({ store: `sqlite:${path}` }));
    expect(sqlite.kind).toBe('sqlite');
    await sqlite.close();
    expect(existsSync(path)).toBe(true);
    const memory = await openStore(testConfig());
    expect(memory.kind).toBe('memory');
    await memory.close();
  });

  it('opens sqlite::memory: as a throwaway SQLite database', async () => {
    const store = await openStore(testConfig({ store: 'sqlite::memory:' }));
    expect(store.kind).toBe('sqlite');
    await store.putMerchant(merchantFixture(transactionFixture(0).app_id));
    await store.insertTransaction(transactionFixture(await store.nextTransactionId()));
    expect(await store.countTransactions()).toBe(1);
    await store.close();
    const again = await openStore(testConfig({ store: 'sqlite::memory:' }));
    expect(await again.countTransactions()).toBe(0);
    await again.close();
  });

  it('turns a file that is not a database into a readable ConfigError', async () => {
    const path = freshPath();
    writeFileSync(path, 'this is not a database, just text that is long enough to have a header '.repeat(20));
    const err = await openStore(testConfig({ store: `sqlite:${path}` })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^store sqlite:.*not a database/);
  });
});
