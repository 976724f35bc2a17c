import type { SchemaRegistry } from '../../contracts/schema-registry.js';
import type { ScenarioEffect, ScenarioFile } from '../../contracts/types.js';
import type { SCENARIO_ENDPOINTS } from '../../contracts/schemas/scenario-file.js';
import { explainEffect, explainStep } from './explain-effect.js';
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
 * The scenario engine: which step of which active scenario applies to a request. Pure data in,
 * a hit out; "the first matching step that is not yet used up wins". Use counts are kept per
 * activation scope, so a header-activated scenario never consumes a merchant's counts.
 *
 * @example
 * const hit = engine.resolve({ endpoint: 'create', app_id, header: 'flaky-create' });
 * if (hit?.effect.type === 'respond_error') throw new KtpayError(hit.effect.code);
 */
export function createScenarioEngine(deps: { schemas: SchemaRegistry; globalScenario?: string | undefined }) {
  // The built-in library (42 YAML files, ~100 ms to parse and validate) is read on first use: most
  // runs never name a scenario, and startup is a measured target (issue 10). Tests keep the files valid.
  let library: Map<string, ScenarioFile> | undefined;
  const builtins = () =>
    (library ??= new Map(loadScenarioDir(BUILTIN_SCENARIO_DIR, deps.schemas).map((s) => [s.name, s])));
  const custom = new Map<string, ScenarioFile>();
  const counts = new Map<string, number>();

  const find = (name: string) => custom.get(name) ?? builtins().get(name);

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

  function candidates(q: ScenarioQuery): { name: string; source: ActivationSource; scope: string }[] {
    const out: { name: string; source: ActivationSource; scope: string }[] = [];
    const tx = q.transaction;
    const push = (name: string | undefined, source: ActivationSource, scope: string) => {
      if (name && find(name) && !out.some((c) => c.name === name)) out.push({ name, source, scope });
    };
    push(q.header, 'header', tx ? `tx:${tx.hash}` : `header:${q.app_id}`);
    const fromOrder = scenarioFromOrderId(q.order_id);
    push(fromOrder, 'order_id', tx ? `tx:${tx.hash}` : `order:${q.app_id}`);
    if (tx) push(tx.scenario, 'transaction', `tx:${tx.hash}`);
    push(q.merchant_scenario, 'merchant', `merchant:${q.app_id}`);
    push(deps.globalScenario, 'global', 'global');
    return out;
  }

  return {
    has: (name: string) => Boolean(find(name)),
    get: find,
    /** Registers (or replaces) a user scenario; returns it validated. */
    define(data: unknown, source = 'admin API'): ScenarioFile {
      const s = checkScenario(data, source, deps.schemas);
      custom.set(s.name, s);
      return s;
    },
    /** The applicable step, consuming one use of it; undefined when nothing applies. */
    resolve(q: ScenarioQuery): ScenarioHit | undefined {
      for (const c of candidates(q)) {
        const scenario = find(c.name)!;
        for (let i = 0; i < scenario.steps.length; i++) {
          const step = scenario.steps[i]!;
          if (!matches(step, q)) continue;
          const key = `${c.scope}|${c.name}|${i}`;
          const used = counts.get(key) ?? 0;
          const limit = step.times === 'always' ? Infinity : (step.times ?? 1);
          if (used >= limit) continue;
          counts.set(key, used + 1);
          return {
            scenario: c.name,
            step: i,
            source: c.source,
            effect: step.effect,
            explanation: `scenario ${c.name} (${c.source}) step ${i + 1}: ${explainEffect(step.effect)}`,
          };
        }
      }
      return undefined;
    },
    /** Scenario names that would be considered for a query (for recording on a new transaction). */
    activeFor(q: Pick<ScenarioQuery, 'header' | 'order_id'>): string | undefined {
      const fromOrder = scenarioFromOrderId(q.order_id);
      if (q.header && find(q.header)) return q.header;
      if (fromOrder && find(fromOrder)) return fromOrder;
      return undefined;
    },
    resetCounts: () => counts.clear(),
    /** Everything for GET /__admin/scenarios. */
    describe() {
      const view = (s: ScenarioFile, builtin: boolean) => ({
        name: s.name,
        description: s.description,
        builtin,
        ...(s.tags ? { tags: s.tags } : {}),
        ...(s.reproduces ? { reproduces: s.reproduces } : {}),
        steps: s.steps.map((step, i) => ({ index: i, ...step, explain: explainStep(step) })),
      });
      return {
        library: [...builtins().values()].map((s) => view(s, true)),
        custom: [...custom.values()].map((s) => view(s, false)),
        global: deps.globalScenario ?? null,
        counts: [...counts.entries()].map(([key, used]) => {
          const [scope, scenario, step] = key.split('|');
          return { scope, scenario, step: Number(step), used };
        }),
      };
    },
  };
}

export type ScenarioEngine = ReturnType<typeof createScenarioEngine>;
