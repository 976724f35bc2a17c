import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../shared/clock.js';
import type { Store, Updated } from '../store/store.js';
import type { AttemptTrigger, Delivery } from './delivery.js';

/** This process's lease owner id: host, pid and a random tag (a restarted replica is a new owner). */
export function replicaId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
}

/**
 * The outbox's *claim* (DESIGN.md house style 15): an attempt starts only once this process
 * holds the delivery's lease in the store, so of all replicas sharing a store exactly one makes
 * each attempt. The lease outlives the longest attempt (`lease_ms` = the callback timeout plus a
 * margin); when its owner dies (SIGKILL) it expires, and another replica's sweep takes the
 * delivery over.
 *
 * @example
 * const claim = createOutboxClaim({ store, clock, owner: replicaId(), leaseMs: 15_000 });
 * const taken = await claim.take(id, 'schedule'); // undefined: gone, closed, not due, or another's
 */
export function createOutboxClaim(deps: { store: Store; clock: Clock; owner: string; leaseMs: number }) {
  const lease = () => ({ owner: deps.owner, now: deps.clock.now(), lease_ms: deps.leaseMs });
  return {
    owner: deps.owner,
    /**
     * One delivery for an attempt by `trigger`: a scheduled attempt only when it is due (another
     * replica may have made it meanwhile), a flush of any open one, a redelivery of any.
     */
    take(id: string, trigger: AttemptTrigger): Promise<Updated<Delivery> | undefined> {
      return deps.store.claimDelivery(id, lease(), {
        closed: trigger === 'redeliver',
        due: trigger === 'schedule',
      });
    },
    /** Up to `limit` due deliveries no live replica holds (the sweep of a shared store). */
    takeDue(limit: number): Promise<Updated<Delivery>[]> {
      return limit > 0 ? deps.store.claimDueDeliveries(lease(), limit) : Promise.resolve([]);
    },
  };
}

export type OutboxClaim = ReturnType<typeof createOutboxClaim>;
