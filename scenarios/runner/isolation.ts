import type { ScenarioStep } from '../../contracts/types.js';
import type { ScenarioState } from './context.js';
import { SandboxError, type SandboxClient } from './sandbox-client.js';
import type { RunnerScenario } from './suite-loader.js';

/** How a runner scenario's sandbox scenario was put in place. */
export type ActivationStyle = 'merchant' | 'scoped';

export interface Isolation {
  /** True when the runner scenario must run alone: its sandbox scenario acts merchant-wide. */
  exclusive(s: RunnerScenario): boolean;
  /** True when its sandbox scenario holds requests back (a `delay` effect): such a scenario is long. */
  waits(s: RunnerScenario): boolean;
  /** Puts `source` (a library or user scenario, or the scenario's inline steps) in place for this runner scenario. */
  activate(state: ScenarioState, source: string): Promise<void>;
  /** Ends what `activate` put in place. */
  end(state: ScenarioState): Promise<void>;
  /** At the end of the run: the merchant's scenario slot is left empty. */
  close(): Promise<void>;
}

/** Inline sandbox steps of a suite file, as opposed to a scenario activated by name. */
export const INLINE = '(inline)';

const activated = (s: RunnerScenario): string | undefined =>
  s.sandboxSteps.length > 0 ? INLINE : s.steps.find((st) => st.type === 'activate')?.scenario;

const stepOf = (view: Record<string, unknown>): ScenarioStep => {
  const { match, times, effect } = view as unknown as ScenarioStep;
  return { match, ...(times !== undefined ? { times } : {}), effect } as ScenarioStep;
};

/**
 * Keeps the sandbox scenarios of runner scenarios from leaking into each other (issue 18).
 *
 * A sandbox scenario acts for a whole merchant, and a merchant has one active scenario. So:
 * - one at a time (`parallel` 1): each runner scenario activates its own copy
 *   (`run-<tag>-<n>-<name>`, so its use counts start at zero) for the merchant while it runs;
 * - in parallel, when every order carries the runner's unique `{{amount}}`: each copy's steps get
 *   `match.amount` of that order and join one run-wide scenario (`run-<tag>`), active for the whole
 *   run, so they touch that order only while other scenarios run beside it;
 * - otherwise the runner scenario runs alone (the scheduler waits for the others) with a
 *   merchant-wide copy, as one at a time.
 *
 * No sandbox-wide state is changed: no global count reset, nothing another run can see. Every
 * definition is made *for* the run's merchant (`PUT /__admin/merchants/{app_id}/scenario` with the
 * definition), so a merchant the run created takes its definitions with it when it is deleted.
 */
export async function createIsolation(opts: {
  sandbox: SandboxClient;
  appId: string;
  /** A short random tag: the names of this run's definitions. */
  tag: string;
  scenarios: RunnerScenario[];
  parallel: number;
  /** Whether the trigger sends `{{amount}}` (or the runner is the merchant), so orders can be told apart by amount. */
  amountScoped: boolean;
}): Promise<Isolation> {
  const { sandbox, appId, tag } = opts;
  const named = new Set(opts.scenarios.map(activated).filter((n): n is string => !!n && n !== INLINE));
  const definitions = new Map<string, ScenarioStep[]>();
  if (named.size > 0) {
    const all = await sandbox.scenarios();
    for (const v of [...all.library, ...all.custom])
      if (named.has(v.name)) definitions.set(v.name, v.steps.map(stepOf));
  }
  const stepsFor = (s: RunnerScenario, source: string): ScenarioStep[] => {
    if (source === INLINE) return s.sandboxSteps;
    const steps = definitions.get(source);
    if (!steps)
      throw new SandboxError(`the sandbox has no scenario "${source}" (GET /__admin/scenarios lists them)`);
    return steps;
  };
  const scopable = (s: RunnerScenario): boolean => {
    const source = activated(s);
    if (!source || !opts.amountScoped || opts.parallel < 2) return false;
    const steps = source === INLINE ? s.sandboxSteps : definitions.get(source);
    return !!steps && steps.every((st) => st.match.amount === undefined);
  };

  // One run-wide scenario for the order-scoped steps; its definition only grows, so step indexes
  // (and their use counts) never move. Changes go one after another.
  const combined: ScenarioStep[] = [];
  const combinedName = `run-${tag}`;
  let combinedActive = false;
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work, work);
    chain = next.catch(() => undefined);
    return next;
  };
  const styles = new Map<ScenarioState, ActivationStyle>();

  return {
    exclusive: (s) => opts.parallel > 1 && activated(s) !== undefined && !scopable(s),
    waits(s) {
      const source = activated(s);
      const steps = source === INLINE ? s.sandboxSteps : source ? definitions.get(source) : undefined;
      return !!steps?.some((st) => st.effect.type === 'delay');
    },
    async activate(state, source) {
      const s = state.scenario;
      const steps = stepsFor(s, source);
      state.sandboxScenario = source === INLINE ? `run-${tag}-${state.index}` : source;
      if (scopable(s)) {
        const amount = state.vars.amount as number;
        await serial(async () => {
          combined.push(...steps.map((st) => ({ ...st, match: { ...st.match, amount } })));
          // Defined for the merchant (so it goes with it) and active, in one call.
          await sandbox.activateDefinition(appId, {
            name: combinedName,
            description: `ktpay-mock run ${tag}: sandbox scenarios scoped to their runner scenario's order by amount`,
            steps: combined,
          });
          combinedActive = true;
        });
        styles.set(state, 'scoped');
        state.notes.push(
          `sandbox scenario ${source === INLINE ? 'of the inline steps' : source} scoped to this order (match.amount ${amount}) in ${combinedName}, active for merchant ${appId}`,
        );
        return;
      }
      const name = `run-${tag}-${state.index}-${source === INLINE ? s.name : source}`
        .slice(0, 80)
        .replace(/-+$/, '');
      await serial(async () => {
        await sandbox.activateDefinition(appId, {
          name,
          description: `ktpay-mock run ${tag}: ${source === INLINE ? `inline sandbox steps of runner scenario ${s.name}` : `a copy of ${source} for runner scenario ${s.name}`}`,
          steps,
        });
        combinedActive = false;
      });
      styles.set(state, 'merchant');
      state.notes.push(
        `PUT /__admin/merchants/${appId}/scenario ${name} (${source === INLINE ? 'the inline steps' : `a copy of ${source}`}) while this scenario runs`,
      );
    },
    async end(state) {
      const style = styles.get(state);
      styles.delete(state);
      if (style !== 'merchant') return;
      await serial(async () => {
        if (combined.length > 0) {
          await sandbox.activate(appId, combinedName);
          combinedActive = true;
        } else await sandbox.deactivate(appId);
      });
    },
    async close() {
      await serial(async () => {
        if (combinedActive || styles.size > 0) await sandbox.deactivate(appId).catch(() => undefined);
        combinedActive = false;
      });
    },
  };
}
