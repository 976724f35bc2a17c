import type { SchemaRegistry } from '../../contracts/schema-registry.js';
import type { ScenarioEffect, ScenarioFile } from '../../contracts/types.js';
import type { SCENARIO_ENDPOINTS } from '../../contracts/schemas/scenario-file.js';
import { explainEffect, explainStep } from './explain-effect.js';
import type { Store } from '../store/store.js';
import { BUILTIN_SCENARIO_DIR, checkScenario, loadScenarioDir } from './scenario-library.js';

export type ScenarioEndpoint = (typeof SCENARIO_ENDPOINTS)[number];

/** How a scenario became active for a request, strongest first. */
export type ActivationSource = 'header' | 'order_id' | 'transaction' | 'merchant' | 'global';

export interface ScenarioQuery {
  endpoint: ScenarioEndpoint;
  app_id: string;
  order_id?: string | undefined;
  amount?: number | undefined;
  /** PAN digits. */
  card?: string | undefined;
  /** The X-Ktpay-Mock-Scenario header. */
  header?: string | undefined;
  /** The transaction, for transaction-bound endpoints: its recorded scenario scopes the counts. */
  transaction?: { hash: string; scenario?: string | undefined } | undefined;
  /** The merchant's active scenario. */
  merchant_scenario?: string | undefined;
}

export interface ScenarioHit {
  scenario: string;
  step: number;
  source: ActivationSource;
  effect: ScenarioEffect;
  /** One sentence for the journal / delivery log. */
  explanation: string;
}

export const SCENARIO_HEADER = 'x-ktpay-mock-scenario';
const ORDER_MAGIC = /^scenario:([a-z0-9][a-z0-9-]*):/;

/** The scenario named by an `order_id` of the form `scenario:<name>:…`. */
export function scenarioFromOrderId(orderId: string | undefined): string | undefined {
  return orderId ? ORDER_MAGIC.exec(orderId)?.[1] : undefined;
}

/**
 * The scenario engine: which step of which active scenario applies to a request. Data in, a hit
 * out; "the first matching step that is not yet used up wins". Use counts are kept per activation
 * scope, so a header-activated scenario never consumes a merchant's counts.
 *
 * User-defined scenarios and the use counts live in the store, so every replica of a shared
 * sandbox sees the same ones: a `times: 2` step fires twice across the cluster, and the store
 * takes a use atomically (two requests never both take the last one).
 *
 * @example
 * const hit = await engine.resolve({ endpoint: 'create', app_id, header: 'flaky-create' });
 * if (hit?.effect.type === 'respond_error') throw new KtpayError(hit.effect.code);
 */
export function createScenarioEngine(deps: {
  schemas: SchemaRegistry;
  store: Pick<
    Store,
    | 'putScenario'
    | 'getScenario'
    | 'listScenarios'
    | 'useScenarioStep'
    | 'listScenarioUses'
    | 'resetScenarioUses'
  >;
  globalScenario?: string | undefined;
}) {
  const { store } = deps;
  // The built-in library (42 YAML files, ~100 ms to parse and validate) is read on first use: most
  // runs never name a scenario, and startup is a measured target (issue 10). Tests keep the files valid.
  let library: Map<string, ScenarioFile> | undefined;
  const builtins = () =>
    (library ??= new Map(loadScenarioDir(BUILTIN_SCENARIO_DIR, deps.schemas).map((s) => [s.name, s])));

  /** A user-defined scenario of that name, else the built-in one. */
  const find = async (name: string) => (await store.getScenario(name)) ?? builtins().get(name);

  function matches(step: ScenarioFile['steps'][number], q: ScenarioQuery): boolean {
    const m = step.match;
    if (m.endpoint !== q.endpoint) return false;
    if (m.app_id !== undefined && m.app_id !== q.app_id) return false;
    if (m.amount !== undefined && m.amount !== q.amount) return false;
    if (m.order_id !== undefined) {
      if (q.order_id === undefined) return false;
      try {
        if (!new RegExp(m.order_id).test(q.order_id)) return false;
      } catch {
        return false;
      }
    }
    if (m.card !== undefined) {
      const want = m.card.replace(/\D/g, '');
      if (!q.card || !q.card.replace(/\D/g, '').endsWith(want)) return false;
    }
    return true;
  }

  interface Candidate {
    scenario: ScenarioFile;
    source: ActivationSource;
    scope: string;
  }

  async function candidates(q: ScenarioQuery): Promise<Candidate[]> {
    const tx = q.transaction;
    const named: { name: string | undefined; source: ActivationSource; scope: string }[] = [
      { name: q.header, source: 'header', scope: tx ? `tx:${tx.hash}` : `header:${q.app_id}` },
      {
        name: scenarioFromOrderId(q.order_id),
        source: 'order_id',
        scope: tx ? `tx:${tx.hash}` : `order:${q.app_id}`,
      },
      { name: tx?.scenario, source: 'transaction', scope: `tx:${tx?.hash}` },
      { name: q.merchant_scenario, source: 'merchant', scope: `merchant:${q.app_id}` },
      { name: deps.globalScenario, source: 'global', scope: 'global' },
    ];
    const out: Candidate[] = [];
    for (const c of named) {
      // Most requests name no scenario at all: they never reach the store.
      if (!c.name || out.some((o) => o.scenario.name === c.name)) continue;
      const scenario = await find(c.name);
      if (scenario) out.push({ scenario, source: c.source, scope: c.scope });
    }
    return out;
  }

  return {
    has: async (name: string) => Boolean(await find(name)),
    get: find,
    /**
     * Registers (or replaces) a user scenario; returns it validated. With `appId` it is that
     * merchant's own: deleting the merchant (or its expiry) deletes it too.
     */
    async define(data: unknown, source = 'admin API', appId?: string): Promise<ScenarioFile> {
      const s = checkScenario(data, source, deps.schemas);
      await store.putScenario(s, appId ?? null);
      return s;
    },
    /** The applicable step, consuming one use of it; undefined when nothing applies. */
    async resolve(q: ScenarioQuery): Promise<ScenarioHit | undefined> {
      for (const c of await candidates(q)) {
        const { scenario } = c;
        for (let i = 0; i < scenario.steps.length; i++) {
          const step = scenario.steps[i]!;
          if (!matches(step, q)) continue;
          const limit = step.times === 'always' ? Infinity : (step.times ?? 1);
          if (!(await store.useScenarioStep(`${c.scope}|${scenario.name}|${i}`, limit))) continue;
          return {
            scenario: scenario.name,
            step: i,
            source: c.source,
            effect: step.effect,
            explanation: `scenario ${scenario.name} (${c.source}) step ${i + 1}: ${explainEffect(step.effect)}`,
          };
        }
      }
      return undefined;
    },
    /** The scenario a new transaction records (header first, then a `scenario:<name>:` order_id). */
    async activeFor(q: Pick<ScenarioQuery, 'header' | 'order_id'>): Promise<string | undefined> {
      const fromOrder = scenarioFromOrderId(q.order_id);
      if (q.header && (await find(q.header))) return q.header;
      if (fromOrder && (await find(fromOrder))) return fromOrder;
      return undefined;
    },
    resetCounts: () => store.resetScenarioUses(),
    /** Everything for GET /__admin/scenarios. */
    async describe() {
      const view = (s: ScenarioFile, builtin: boolean, appId: string | null = null) => ({
        name: s.name,
        description: s.description,
        builtin,
        ...(builtin ? {} : { app_id: appId }),
        ...(s.tags ? { tags: s.tags } : {}),
        ...(s.reproduces ? { reproduces: s.reproduces } : {}),
        steps: s.steps.map((step, i) => ({ index: i, ...step, explain: explainStep(step) })),
      });
      const [custom, uses] = await Promise.all([store.listScenarios(), store.listScenarioUses()]);
      return {
        library: [...builtins().values()].map((s) => view(s, true)),
        custom: custom.map((c) => view(c.scenario, false, c.app_id)),
        global: deps.globalScenario ?? null,
        counts: uses.map(({ key, used }) => {
          const [scope, scenario, step] = key.split('|');
          return { scope, scenario, step: Number(step), used };
        }),
      };
    },
  };
}

export type ScenarioEngine = ReturnType<typeof createScenarioEngine>;
