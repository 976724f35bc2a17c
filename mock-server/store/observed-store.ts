import type { Delivery } from '../callbacks/delivery.js';
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
  /** One merchant's data dropped (a delete, a per-merchant reset or an ephemeral merchant's expiry). */
  | { kind: 'purge'; app_id: string }
  | { kind: 'reset' }
  /**
   * Writes another replica of a shared store made (activity-relay.ts): their kinds, and the
   * transactions they touched (null: too many to name).
   */
  | { kind: 'replica'; from: string; kinds: LocalChangeKind[]; hashes: string[] | null };

/** The kinds of write this process makes itself. */
export type LocalChangeKind = 'transaction' | 'journal' | 'delivery' | 'merchant' | 'purge' | 'reset';

export type ActivityListener = (change: StoreChange) => void;

/**
 * A synchronous fan-out of committed store writes, one per app. Listeners run inside the writer's
 * call, so they must be cheap (note the change, schedule work); one that throws is ignored, never
 * the write.
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
 * The store, reporting each write to `feed` once it is committed. Reads and every method not named
 * here pass straight through, so the Store interface can grow without touching this file.
 *
 * @example
 * const store = observeStore(createMemoryStore({ journalSize: 1000 }), feed);
 */
export function observeStore(store: Store, feed: ActivityFeed): Store {
  const deliveriesOf = (ds: readonly Delivery[] | undefined) => {
    for (const d of ds ?? []) feed.emit({ kind: 'delivery', id: d.id, transaction_hash: d.transaction_hash });
  };
  const writes: Partial<Store> = {
    async insertTransaction(tx) {
      const result = await store.insertTransaction(tx);
      if (result.inserted)
        feed.emit({ kind: 'transaction', hash: tx.hash, app_id: tx.app_id, created: true });
      return result;
    },
    async updateTransaction(hash, change) {
      let written: readonly Delivery[] | undefined;
      const result = await store.updateTransaction(hash, (tx) => {
        const write = change(tx);
        written = write?.deliveries;
        return write;
      });
      if (result && result.after !== result.before) {
        feed.emit({ kind: 'transaction', hash, app_id: result.after.app_id, created: false });
        deliveriesOf(written);
      }
      return result;
    },
    async appendJournal(entry) {
      const stored = await store.appendJournal(entry);
      feed.emit({
        kind: 'journal',
        id: stored.id,
        transaction_hash: stored.transaction_hash,
        ok: stored.verdict.ok,
      });
      return stored;
    },
    async insertDeliveries(ds) {
      await store.insertDeliveries(ds);
      deliveriesOf(ds);
    },
    async updateDelivery(id, change) {
      const result = await store.updateDelivery(id, change);
      if (result && result.after !== result.before) deliveriesOf([result.after]);
      return result;
    },
    async settleDelivery(id, owner, change) {
      const result = await store.settleDelivery(id, owner, change);
      if (result && result.after !== result.before) deliveriesOf([result.after]);
      return result;
    },
    async putMerchant(m) {
      await store.putMerchant(m);
      feed.emit({ kind: 'merchant', app_id: m.app_id });
    },
    async insertMerchant(m) {
      const inserted = await store.insertMerchant(m);
      if (inserted) feed.emit({ kind: 'merchant', app_id: m.app_id });
      return inserted;
    },
    async updateMerchant(appId, change) {
      const result = await store.updateMerchant(appId, change);
      if (result && result.after !== result.before) feed.emit({ kind: 'merchant', app_id: appId });
      return result;
    },
    async deleteMerchant(appId) {
      const deleted = await store.deleteMerchant(appId);
      if (deleted) feed.emit({ kind: 'merchant', app_id: appId });
      return deleted;
    },
    async purgeMerchant(appId, opts) {
      const purged = await store.purgeMerchant(appId, opts);
      if (purged) feed.emit({ kind: 'purge', app_id: appId });
      return purged;
    },
    async reset() {
      await store.reset();
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
