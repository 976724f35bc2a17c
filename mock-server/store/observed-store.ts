import type { Store } from './store.js';

/**
 * One write the sandbox made, as the dashboard's live view needs to know it. Only identifiers
 * travel: a listener reads the current state from the store itself.
 */
export type StoreChange =
  | { kind: 'transaction'; hash: string; app_id: string; created: boolean }
  | { kind: 'journal'; id: number; transaction_hash: string | null; ok: boolean }
  | { kind: 'delivery'; id: string; transaction_hash: string }
  | { kind: 'merchant'; app_id: string }
  | { kind: 'reset' };

export type ActivityListener = (change: StoreChange) => void;

/**
 * A synchronous fan-out of store writes, one per app. Listeners run inside the writer's call, so
 * they must be cheap (note the change, schedule work); one that throws is ignored, never the write.
 *
 * @example
 * const off = ctx.activity.on((c) => { if (c.kind === 'transaction') refresh(c.hash); });
 * off();
 */
export function createActivityFeed() {
  const listeners = new Set<ActivityListener>();
  return {
    on(listener: ActivityListener): () => void {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    emit(change: StoreChange): void {
      for (const l of listeners) {
        try {
          l(change);
        } catch {
          // A listener's failure must not fail the write that triggered it.
        }
      }
    },
    get size(): number {
      return listeners.size;
    },
  };
}

export type ActivityFeed = ReturnType<typeof createActivityFeed>;

/**
 * The store, reporting each write to `feed` after it succeeded. Reads and every method not named
 * here pass straight through, so the Store interface can grow without touching this file.
 *
 * @example
 * const store = observeStore(createMemoryStore({ journalSize: 1000 }), feed);
 */
export function observeStore(store: Store, feed: ActivityFeed): Store {
  const writes: Partial<Record<keyof Store, (...args: never[]) => unknown>> = {
    insertTransaction: (tx: Parameters<Store['insertTransaction']>[0]) => {
      const ok = store.insertTransaction(tx);
      if (ok) feed.emit({ kind: 'transaction', hash: tx.hash, app_id: tx.app_id, created: true });
      return ok;
    },
    updateTransaction: (tx: Parameters<Store['updateTransaction']>[0]) => {
      store.updateTransaction(tx);
      feed.emit({ kind: 'transaction', hash: tx.hash, app_id: tx.app_id, created: false });
    },
    appendJournal: (entry: Parameters<Store['appendJournal']>[0]) => {
      const stored = store.appendJournal(entry);
      feed.emit({
        kind: 'journal',
        id: stored.id,
        transaction_hash: stored.transaction_hash,
        ok: stored.verdict.ok,
      });
      return stored;
    },
    putDelivery: (d: Parameters<Store['putDelivery']>[0]) => {
      store.putDelivery(d);
      feed.emit({ kind: 'delivery', id: d.id, transaction_hash: d.transaction_hash });
    },
    putMerchant: (m: Parameters<Store['putMerchant']>[0]) => {
      store.putMerchant(m);
      feed.emit({ kind: 'merchant', app_id: m.app_id });
    },
    deleteMerchant: (appId: string) => {
      const deleted = store.deleteMerchant(appId);
      if (deleted) feed.emit({ kind: 'merchant', app_id: appId });
      return deleted;
    },
    reset: () => {
      store.reset();
      feed.emit({ kind: 'reset' });
    },
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && Object.hasOwn(writes, prop)) return writes[prop as keyof Store];
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}
