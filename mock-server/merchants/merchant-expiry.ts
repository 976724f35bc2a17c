import type { Clock, ClockTimer } from '../shared/clock.js';
import type { MerchantPurge, Store } from '../store/store.js';
import { isMerchantExpired } from './merchant.js';

/** How often ephemeral merchants whose `ttl` ran out are purged (issue 17). */
export const MERCHANT_SWEEP_MS = 30_000;

/**
 * The expiry sweep for ephemeral merchants (created with `ttl`): every {@link MERCHANT_SWEEP_MS} on
 * the injected clock, each merchant whose `expires_at` has passed is purged with all its data
 * (Store.purgeMerchant). An expired merchant is unknown at once (the registry hides it); the sweep
 * is what frees its rows.
 *
 * With a shared store (`shared`: PostgreSQL) the sweep runs all the time on every replica, since an
 * ephemeral merchant may have been made on another one; two replicas purging the same merchant take
 * turns on its row and the second finds it gone. Otherwise it runs only while this process knows of
 * an ephemeral merchant (one it created, or found in a durable store at startup), so an idle
 * sandbox keeps no timer.
 *
 * @example
 * const expiry = startMerchantExpiry({ store, clock, shared: false });
 * await expiry.watch(); // after creating a merchant with a ttl
 * await expiry.stop();
 */
export function startMerchantExpiry(deps: {
  store: Pick<Store, 'listMerchants' | 'purgeMerchant'>;
  clock: Clock;
  shared: boolean;
  sweepMs?: number;
  /** Told about each merchant the sweep purged. */
  onPurged?: (appId: string, purge: MerchantPurge) => void;
  /** Told about a sweep that failed (the store away for a moment); the next one tries again. */
  onError?: (err: unknown) => void;
}) {
  const { store, clock } = deps;
  const every = deps.sweepMs ?? MERCHANT_SWEEP_MS;
  let timer: ClockTimer | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  /** Whether ephemeral merchants may remain: the sweep keeps going while they do. */
  let pending = deps.shared;

  /** Purges every expired merchant now; resolves with how many went. */
  async function sweep(): Promise<number> {
    const now = clock.now();
    const merchants = await store.listMerchants();
    let purged = 0;
    for (const m of merchants) {
      if (stopped || !isMerchantExpired(m, now)) continue;
      const purge = await store.purgeMerchant(m.app_id);
      if (purge?.merchant) {
        purged++;
        deps.onPurged?.(m.app_id, purge);
      }
    }
    pending = deps.shared || merchants.some((m) => m.expires_at !== undefined && !isMerchantExpired(m, now));
    return purged;
  }

  function arm(): void {
    if (stopped || timer || !pending) return;
    timer = clock.setTimeout(
      () => {
        timer = undefined;
        running = sweep()
          .then(
            () => undefined,
            (err: unknown) => deps.onError?.(err),
          )
          .finally(() => {
            running = undefined;
            arm();
          });
      },
      every,
      { poll: true },
    );
  }
  arm();

  return {
    sweep,
    /** An ephemeral merchant exists (one was just created, or a durable store holds one): keep sweeping. */
    watch(): void {
      pending = true;
      arm();
    },
    /** Whether a sweep is armed. */
    armed: () => timer !== undefined,
    /** No more sweeps; waits for one under way (it writes to the store). */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clock.clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}

export type MerchantExpiry = ReturnType<typeof startMerchantExpiry>;
