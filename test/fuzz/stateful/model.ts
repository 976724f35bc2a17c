import { createSchemaRegistry } from '../../../contracts/schema-registry.js';
import type { ScenarioEffect, ScenarioFile } from '../../../contracts/types.js';
import { loadAcquirerData } from '../../../mock-server/acquirer/acquirer-data.js';
import type { PaymentStatus } from '../../../mock-server/payments/transaction.js';
import { BUILTIN_SCENARIO_DIR, loadScenarioDir } from '../../../mock-server/scenarios/scenario-library.js';
import type { StoreKind } from './sandbox-under-test.js';

/**
 * The model of the stateful fuzz (issue 22 §2): what the sandbox must hold after each command,
 * kept by rules written from the spec and the docs — the state machine's table, the acquirer
 * codes' outcomes, which statuses call back, the journal ring — not by asking the sandbox.
 */

export const acquirer = loadAcquirerData();

export type Dialect = 'reference' | 'widget';

export interface MerchantModel {
  app_id: string;
  app_key: string;
  envelope: Dialect;
  locale: 'ru' | 'en';
  notify_on: ReadonlyArray<'cancelled' | 'refunded'>;
  callback_post_url: string | null;
  acquirer_options_version: 1 | 2;
  builtin: boolean;
  deleted: boolean;
  /** The scenario activated for it (a library or a user scenario name), or null. */
  scenario: string | null;
  /** Every order_id it used, in order (duplicates are refused per merchant). */
  orderIds: string[];
}

export interface DeliveryModel {
  status: PaymentStatus;
  url: string;
  /** out_of_order's stale follow-up: a delivery of its own once the final one was sent and closed, asynchronously. */
  optional?: boolean;
}

export interface TxModel {
  hash: string;
  app_id: string;
  order_id: string;
  cents: number;
  refundedCents: number;
  refunds: number;
  status: PaymentStatus;
  /** Status history as the state machine writes it: one entry per transition. */
  history: PaymentStatus[];
  url: string | null;
  service: { contract_value: string } | null;
  deliveries: DeliveryModel[];
  /** Callback notes in the journal: no URL, or dropped by a scenario. */
  notes: number;
  /** Whether its receipt has been rendered since it was paid (a render costs 0.1-0.6 s here). */
  receiptRendered: boolean;
}

/** One journal entry as the model predicts it; `hash` undefined = not predicted. */
export interface JournalModel {
  method: string;
  path: string;
  status: number;
  code: number | null;
  hash?: string | null;
  /** The app_id the sandbox records: the Auth-Identifier sent, or the transaction's merchant. */
  app_id: string | null;
  /** Dropped with its merchant (DELETE /__admin/merchants/{app_id}); its number stays taken. */
  purged?: boolean;
}

/** Scenario steps the model can follow: matched by endpoint only. */
export interface ModelStep {
  endpoint: string;
  times: number | 'always';
  effect: ScenarioEffect;
}

/** Library scenarios whose effects the model follows and that never make a read path answer 5xx by design. */
const FOLLOWED = new Set([
  'create-4220002',
  'create-4220101',
  'decline-insufficient-funds',
  'decline-system',
  'decline-issuer',
  '3ds-challenge-pass',
  '3ds-challenge-fail',
  'service-refused',
  'callback-never-sent',
  'callback-duplicate',
  'callback-extra-fields',
  'callback-out-of-order',
  'callback-fail-then-succeed',
]);

export const LIBRARY: ReadonlyMap<string, ModelStep[]> = new Map(
  loadScenarioDir(BUILTIN_SCENARIO_DIR, createSchemaRegistry())
    .filter((s: ScenarioFile) => FOLLOWED.has(s.name))
    .map((s) => [
      s.name,
      s.steps.map((step) => {
        const keys = Object.keys(step.match);
        if (keys.length !== 1) throw new Error(`scenario ${s.name} matches on more than the endpoint`);
        return { endpoint: step.match.endpoint, times: step.times ?? 1, effect: step.effect };
      }),
    ]),
);
if (LIBRARY.size !== FOLLOWED.size) throw new Error(`followed scenarios missing from the library`);

export const NOTIFIED_ALWAYS: ReadonlySet<PaymentStatus> = new Set(['completed', 'error', 'denied']);

export class Model {
  merchants: MerchantModel[] = [];
  txs: TxModel[] = [];
  journal: JournalModel[] = [];
  /** User scenarios defined through the admin API (they live in the store: a restart keeps them). */
  custom = new Map<string, ModelStep[]>();
  /** Uses of each scenario step per merchant (`merchant:<app_id>|name|step`), kept by the store. */
  counts = new Map<string, number>();
  /** Transactions whose change the event stream must name, with the stream position before the command. */
  changed: Array<{ hash: string; from: number; since: number }> = [];
  /** A counter for names and order ids that must not repeat across sequences. */
  static seq = 0;
  readonly prefix = `s${++Model.seq}`;

  constructor(
    readonly kind: StoreKind,
    readonly journalSize: number,
  ) {}

  merchant(appId: string): MerchantModel | undefined {
    return this.merchants.find((m) => m.app_id === appId);
  }

  live(): MerchantModel[] {
    return this.merchants.filter((m) => !m.deleted);
  }

  tx(hash: string): TxModel | undefined {
    return this.txs.find((t) => t.hash === hash);
  }

  record(entry: JournalModel): void {
    this.journal.push(entry);
  }

  /** The journal as the ring keeps it, newest first: the newest journalSize numbers, less purged ones. */
  ring(): JournalModel[] {
    return this.journal
      .slice(-this.journalSize)
      .filter((e) => !e.purged)
      .reverse();
  }

  /**
   * DELETE /__admin/merchants/{app_id} (issue 17): the merchant goes with its transactions (their
   * deliveries are part of them here), the journal entries it made or that name one of its
   * transactions, and the use counts of its scenarios. Returns the purged transaction hashes.
   */
  purge(m: MerchantModel): string[] {
    m.deleted = true;
    const hashes = new Set(this.txs.filter((t) => t.app_id === m.app_id).map((t) => t.hash));
    this.txs = this.txs.filter((t) => !hashes.has(t.hash));
    for (const e of this.journal)
      if (e.app_id === m.app_id || (e.hash && hashes.has(e.hash))) e.purged = true;
    for (const key of [...this.counts.keys()])
      if (key.startsWith(`merchant:${m.app_id}|`)) this.counts.delete(key);
    return [...hashes];
  }

  steps(name: string | null): ModelStep[] | undefined {
    if (!name) return undefined;
    return this.custom.get(name) ?? LIBRARY.get(name);
  }

  /** The effect the merchant's scenario has on `endpoint` now, consuming one use (the engine's rule). */
  resolve(m: MerchantModel | undefined, endpoint: string): ScenarioEffect | undefined {
    if (!m || m.deleted) return undefined;
    const steps = this.steps(m.scenario);
    if (!steps) return undefined;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if (step.endpoint !== endpoint) continue;
      const key = `merchant:${m.app_id}|${m.scenario}|${i}`;
      const used = this.counts.get(key) ?? 0;
      if (step.times !== 'always' && used >= step.times) continue;
      this.counts.set(key, used + 1);
      return step.effect;
    }
    return undefined;
  }

  /**
   * A status change: the history grows, and a callback is owed when the status calls back (a
   * delivery to the transaction's or the merchant's URL, two with `duplicate`, none when a
   * scenario drops it; a note in the journal when there is no URL or it was dropped).
   */
  moved(tx: TxModel, to: PaymentStatus, via: PaymentStatus[] = []): void {
    for (const s of [...via, to]) tx.history.push(s);
    tx.status = to;
    const m = this.merchant(tx.app_id);
    if (!m || m.deleted) return; // the outbox needs the merchant; nothing is owed
    const notified =
      NOTIFIED_ALWAYS.has(to) || ((to === 'cancelled' || to === 'refunded') && m.notify_on.includes(to));
    if (!notified) return;
    const url = tx.url ?? m.callback_post_url;
    const note = (path: string) =>
      this.record({ method: 'CALLBACK', path, status: 0, code: null, hash: tx.hash, app_id: tx.app_id });
    if (!url) {
      tx.notes++;
      note('(no callback_post_url)');
      return;
    }
    const effect = this.resolve(m, 'callback');
    const action = effect?.type === 'callback' ? effect.action : undefined;
    if (action === 'drop') {
      tx.notes++;
      note('(dropped by scenario)');
      return;
    }
    const copies = action === 'duplicate' ? 2 : 1;
    const before = tx.history.at(-2)!; // the status just before this transition
    for (let i = 0; i < copies; i++) tx.deliveries.push({ status: to, url });
    if (action === 'out_of_order') tx.deliveries.push({ status: before, url, optional: true });
  }
}

/** The status a decided acquirer code ends in, and the history steps on the way. */
export function outcomeOf(
  code: string,
  service: TxModel['service'],
): { status: PaymentStatus; via: PaymentStatus[] } {
  if (code === acquirer.outcomes.approved_code) {
    const refusal = acquirer.outcomes.service_gateway_refusal;
    if (service && service.contract_value === refusal.contract_value)
      return { status: refusal.status, via: ['authorized'] };
    return { status: 'success', via: ['authorized'] };
  }
  const mapped = acquirer.outcomes.codes[code];
  return { status: mapped?.status ?? 'error', via: [] };
}
