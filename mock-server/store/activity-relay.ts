import { randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import type { ActivityFeed, LocalChangeKind, StoreChange } from './observed-store.js';

/** The PostgreSQL channel replicas tell each other their writes on (suffixed by a non-public schema). */
export const ACTIVITY_CHANNEL = 'ktpay_activity';
/** This replica's writes are gathered this long before one NOTIFY goes out. */
export const RELAY_COALESCE_MS = 50;
/** A batch naming more transactions than this names none ("many"), which keeps NOTIFY under 8 kB. */
const MAX_HASHES = 50;

/** One NOTIFY: what kinds of thing a replica wrote, and which transactions (null: many). */
interface RelayMessage {
  from: string;
  kinds: LocalChangeKind[];
  hashes: string[] | null;
}

export interface ActivityRelay {
  /** This replica's id in the messages. */
  readonly replica: string;
  /** The channel it listens and notifies on. */
  readonly channel: string;
  /** Sends what is gathered, stops listening. The pool itself is the store's to close. */
  stop(): Promise<void>;
}

const isMessage = (v: unknown): v is RelayMessage => {
  const m = v as RelayMessage;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.from === 'string' &&
    Array.isArray(m.kinds) &&
    m.kinds.every((k) => typeof k === 'string') &&
    (m.hashes === null || (Array.isArray(m.hashes) && m.hashes.every((h) => typeof h === 'string')))
  );
};

/**
 * The dashboard's live view across replicas (issue 17): each replica's committed writes, as the
 * activity feed reports them, go to the others through PostgreSQL's LISTEN/NOTIFY, and what the
 * others wrote comes back into this replica's feed as one `replica` change per message. The
 * dashboard's event stream folds those in with its own, so a page open on replica A refreshes
 * when a payment moves on replica B.
 *
 * Only identifiers travel (kinds, transaction hashes), gathered for {@link RELAY_COALESCE_MS}: a
 * listener reads the current rows from the shared store itself. A NOTIFY that fails (the database
 * away for a moment) is dropped: a live view misses a refresh, no data is lost.
 *
 * @example
 * const relay = await relayActivity({ sql: store.sql, feed: ctx.activity });
 * // on shutdown, before the store closes:
 * await relay.stop();
 */
export async function relayActivity(deps: { sql: postgres.Sql; feed: ActivityFeed }): Promise<ActivityRelay> {
  const { sql, feed } = deps;
  const replica = randomBytes(6).toString('hex');
  // Replicas of one sandbox share a schema; another schema in the same database (a second sandbox,
  // or a test's) is another channel, so they never hear each other.
  const [row] = await sql<{ schema: string }[]>`SELECT current_schema() AS schema`;
  const schema = row?.schema ?? 'public';
  const channel = (schema === 'public' ? ACTIVITY_CHANNEL : `${ACTIVITY_CHANNEL}_${schema}`).slice(0, 63);

  let pending: { kinds: Set<LocalChangeKind>; hashes: Set<string>; many: boolean } | null = null;
  let timer: NodeJS.Timeout | null = null;
  let relaying = false;
  const sends = new Set<Promise<unknown>>();

  const flush = () => {
    timer = null;
    if (!pending) return;
    const message: RelayMessage = {
      from: replica,
      kinds: [...pending.kinds],
      hashes: pending.many || pending.hashes.size > MAX_HASHES ? null : [...pending.hashes],
    };
    pending = null;
    const send = sql
      .notify(channel, JSON.stringify(message))
      .catch(() => undefined)
      .finally(() => sends.delete(send));
    sends.add(send);
  };

  const off = feed.on((change: StoreChange) => {
    if (relaying || change.kind === 'replica') return; // never send back what came from another
    pending ??= { kinds: new Set(), hashes: new Set(), many: false };
    pending.kinds.add(change.kind);
    const hash =
      change.kind === 'transaction'
        ? change.hash
        : change.kind === 'delivery' || change.kind === 'journal'
          ? change.transaction_hash
          : null;
    if (hash) pending.hashes.add(hash);
    if (!timer) {
      timer = setTimeout(flush, RELAY_COALESCE_MS);
      timer.unref();
    }
  });

  const listening = await sql.listen(channel, (payload) => {
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch {
      return; // not ours
    }
    if (!isMessage(message) || message.from === replica) return;
    relaying = true;
    try {
      feed.emit({ kind: 'replica', from: message.from, kinds: message.kinds, hashes: message.hashes });
    } finally {
      relaying = false;
    }
  });

  return {
    replica,
    channel,
    async stop() {
      off();
      if (timer) clearTimeout(timer);
      flush();
      await Promise.allSettled([...sends]);
      await listening.unlisten().catch(() => undefined);
    },
  };
}
