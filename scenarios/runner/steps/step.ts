import type { RunnerStep } from '../../../contracts/types.js';
import type { RunContext, ScenarioState } from '../context.js';

export type StepOf<T extends RunnerStep['type']> = Extract<RunnerStep, { type: T }>;

/**
 * A runner step's behaviour (DESIGN.md house style 6): the suite file holds the definition, this
 * holds what it does. `explain()` is one sentence for reports; `run()` throws a CheckFailure when
 * the merchant misses, or StepNotApplicable when the run lacks what the step needs.
 */
export interface StepImpl<T extends RunnerStep['type']> {
  explain(step: StepOf<T>, run: RunContext): string;
  run(step: StepOf<T>, state: ScenarioState, run: RunContext): Promise<void>;
}
