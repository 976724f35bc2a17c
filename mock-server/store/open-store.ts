import { ConfigError, type SandboxConfig } from '../config/load-config.js';
import { createMemoryStore } from './memory-store.js';
import type { Store } from './store.js';

/** Opens the store the config names: `memory` or `sqlite:<path>`. */
export async function openStore(config: SandboxConfig): Promise<Store> {
  if (config.store === 'memory') return createMemoryStore({ journalSize: config.journal_size });
  throw new ConfigError(`store ${config.store}: only "memory" is available in this build`);
}
