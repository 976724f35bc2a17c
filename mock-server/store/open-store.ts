import { ConfigError, type SandboxConfig } from '../config/load-config.js';
import { createMemoryStore } from './memory-store.js';
import type { Store } from './store.js';

/**
 * Opens the store the config names: `memory`, `sqlite:<path>` (relative paths resolve from the
 * working directory; missing parent directories are created; `sqlite::memory:` is a throwaway
 * database) or `postgres://…` (shared by replicas; migrated on open). A file that cannot be opened or migrated is a {@link ConfigError}, so the CLI prints
 * one readable line instead of a stack trace.
 */
export async function openStore(config: SandboxConfig): Promise<Store> {
  if (config.store === 'memory') return createMemoryStore({ journalSize: config.journal_size });
  if (config.store.startsWith('sqlite:')) {
    const path = config.store.slice('sqlite:'.length);
    // Imported here: better-sqlite3 and the store module are startup time a memory store never needs.
    const { createSqliteStore, SqliteStoreError } = await import('./sqlite-store.js');
    try {
      return createSqliteStore({ path, journalSize: config.journal_size });
    } catch (err) {
      if (err instanceof SqliteStoreError) throw new ConfigError(`store ${config.store}: ${err.message}`);
      throw err;
    }
  }
  if (/^postgres(ql)?:\/\//.test(config.store)) {
    const { createPostgresStore, PostgresStoreError, redact } = await import('./postgres-store.js');
    try {
      return await createPostgresStore({ url: config.store, journalSize: config.journal_size });
    } catch (err) {
      if (err instanceof PostgresStoreError)
        throw new ConfigError(`store ${redact(config.store)}: ${err.message}`);
      throw err;
    }
  }
  throw new ConfigError(`store ${config.store}: use "memory", "sqlite:<path>" or "postgres://…"`);
}
