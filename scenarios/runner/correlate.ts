import type { JournalEntry } from '../../mock-server/journal/journal-entry.js';
import { CREATE_PATH, pathOf, waitFor, type RunContext, type ScenarioState } from './context.js';
import { readPath } from './json-path.js';

/** The defaults for `trigger.correlate`: where a shop's answer usually names the payment. */
export const DEFAULT_CORRELATE = { transaction_hash: '$.transaction_hash', order_id: '$.order_id' } as const;

/** A create-payment found for the scenario, and what tied it to the scenario. */
export interface FoundCreate {
  entry: JournalEntry;
  /** e.g. `transaction_hash in the shop's answer`. */
  by: string;
  /** Exact keys (hash, order id) tie one payment; the last tier ties by time and may be ambiguous. */
  exact: boolean;
  /** Other creates the same key or window matched (a shop that creates two payments, a retry). */
  others: number;
}

/** How long the stronger keys are tried alone before a weaker one may decide. */
const FALLBACK_AFTER_MS = 750;

const isCreate = (e: JournalEntry) => e.method === 'POST' && pathOf(e) === CREATE_PATH;
const orderOf = (e: JournalEntry) =>
  (e.decrypted as { order?: { order_id?: unknown; amount?: unknown } } | null)?.order;

/** A shop that retries has several creates: take its last one that made a payment, else the last. */
function pick(entries: JournalEntry[]): JournalEntry | undefined {
  const newestFirst = [...entries].sort((a, b) => b.id - a.id);
  return newestFirst.find((e) => e.transaction_hash) ?? newestFirst[0];
}

/** By time, with scenarios running at once: first come, first served (the earliest create nobody has taken). */
const earliest = (entries: JournalEntry[]) => [...entries].sort((a, b) => a.id - b.id)[0];

/** The transaction_hash of a create-payment answer in either envelope dialect. */
export function hashFromCreate(body: unknown): string | undefined {
  const b = body as {
    payload?: { transaction_hash?: unknown };
    response?: { data?: { transaction_hash?: unknown } };
  };
  const h = b?.payload?.transaction_hash ?? b?.response?.data?.transaction_hash;
  return typeof h === 'string' && /^[0-9a-f]{40}$/.test(h) ? h : undefined;
}

/** The keys the shop's answer carries, under the configured (or default) JSONPaths. */
export function answerKeys(
  body: unknown,
  paths: { transaction_hash?: string | undefined; order_id?: string | undefined } = {},
): { transaction_hash?: string; order_id?: string } {
  const read = (path: string) => {
    try {
      return readPath(body, path);
    } catch {
      return { found: false, value: undefined };
    }
  };
  const out: { transaction_hash?: string; order_id?: string } = {};
  if (body === undefined || body === null) return out;
  const hash = read(paths.transaction_hash ?? DEFAULT_CORRELATE.transaction_hash);
  if (typeof hash.value === 'string' && /^[0-9a-f]{40}$/.test(hash.value)) out.transaction_hash = hash.value;
  const id = read(paths.order_id ?? DEFAULT_CORRELATE.order_id);
  if ((typeof id.value === 'string' && id.value !== '') || typeof id.value === 'number')
    out.order_id = String(id.value);
  return out;
}

/**
 * Finds the shop's create-payment for this scenario in the sandbox journal, exactly (issue 18):
 *
 * 1. the `transaction_hash` the trigger's answer carries (or the browser saw);
 * 2. the `order_id` the answer carries, for this merchant;
 * 3. the runner's own `{{order_id}}`, when the trigger sent it, for this merchant;
 * 4. the runner's `{{amount}}`, when the trigger sent it (amounts are unique within a run), for this merchant;
 * 5. else by time: this merchant's (or an unidentified) create after the trigger that no other
 *    scenario has taken. Exact only when scenarios do not overlap; the note says so.
 *
 * @example
 * const found = await findCreate(state, run, 10_000);
 * found?.by; // "transaction_hash in the shop's answer"
 */
export async function findCreate(
  state: ScenarioState,
  run: RunContext,
  waitMs: number,
): Promise<FoundCreate | undefined> {
  const t = state.trigger!;
  const app = run.merchant.app_id;
  const keys = answerKeys(t.body, run.config.trigger?.correlate);
  const free = (e: JournalEntry) => !run.claimed.has(e.id);
  const tiers: { by: string; exact: boolean; find: () => Promise<JournalEntry[]> }[] = [];
  if (keys.transaction_hash) {
    const hash = keys.transaction_hash;
    tiers.push({
      by: `transaction_hash ${hash} in ${t.kind === 'browser' ? 'the create-payment the browser sent' : "the shop's answer"}`,
      exact: true,
      find: async () => (await run.sandbox.journal({ transaction_hash: hash, limit: 100 })).filter(isCreate),
    });
  }
  const byOrder = (orderId: string) => async () =>
    (await run.sandbox.journal({ order_id: orderId, app_id: app, limit: 100 })).filter(
      (e) => isCreate(e) && e.id > state.mark,
    );
  if (keys.order_id)
    tiers.push({
      by: `order_id ${keys.order_id} in the shop's answer`,
      exact: true,
      find: byOrder(keys.order_id),
    });
  if (state.used.has('order_id') && String(state.vars.order_id) !== keys.order_id)
    tiers.push({
      by: `the trigger's order_id ${String(state.vars.order_id)}`,
      exact: true,
      find: byOrder(String(state.vars.order_id)),
    });
  const recent = async () =>
    (await run.sandbox.journal({ limit: 500 })).filter((e) => e.id > state.mark && isCreate(e));
  if (state.used.has('amount') || t.kind === 'runner')
    tiers.push({
      by: `the trigger's amount ${String(state.vars.amount)} (unique in this run)`,
      exact: true,
      find: async () =>
        (await recent()).filter((e) => e.app_id === app && orderOf(e)?.amount === state.vars.amount),
    });
  const concurrent = run.config.parallel > 1;
  tiers.push({
    by: `time: the ${concurrent ? 'earliest' : 'last'} create-payment of this merchant after the trigger${concurrent ? ' that no other scenario took (scenarios run at once: return the order_id or transaction_hash from the trigger for an exact match)' : ''}`,
    exact: false,
    find: async () => {
      const since = Date.now() - t.started_at + 1000;
      // A slow create left over from an earlier scenario started before this trigger: keep it out.
      return (await recent()).filter(
        (e) => (e.app_id === null || e.app_id === app) && e.duration_ms <= since && free(e),
      );
    },
  });

  let found: FoundCreate | undefined;
  const started = Date.now();
  await waitFor(waitMs, async () => {
    for (const [i, tier] of tiers.entries()) {
      // The journal records an entry just after its answer went out: give the better keys a moment
      // before a weaker one may decide (a shop's own order id may also differ from the gateway's).
      if (i > 0 && Date.now() - started < FALLBACK_AFTER_MS) break;
      const entries = (await tier.find()).filter((e) => tier.exact || free(e));
      const entry = !tier.exact && concurrent ? earliest(entries) : pick(entries);
      if (entry) {
        found = { entry, by: tier.by, exact: tier.exact, others: entries.length - 1 };
        return true;
      }
    }
    return undefined;
  });
  if (found) run.claimed.add(found.entry.id);
  return found;
}
