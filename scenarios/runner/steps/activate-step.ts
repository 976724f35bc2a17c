import type { StepImpl } from './step.js';

/**
 * Activates a sandbox scenario (issue 6) for the rest of this runner scenario, without letting it
 * leak into others: the run's isolation puts a copy in place (merchant-wide while this scenario
 * runs alone, or scoped to its order when scenarios run in parallel) and ends it with the scenario.
 */
export const activateStep: StepImpl<'activate'> = {
  explain: (step) => `activate sandbox scenario ${step.scenario} for this scenario's payments`,
  async run(step, state, run) {
    await run.isolation.activate(state, step.scenario);
  },
};
