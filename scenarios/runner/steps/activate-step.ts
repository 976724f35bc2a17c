import type { StepImpl } from './step.js';

/**
 * Activates a sandbox scenario (issue 6) for the merchant for the rest of this runner scenario.
 * The engine deactivates it when the scenario ends and resets the use counts before the next.
 */
export const activateStep: StepImpl<'activate'> = {
  explain: (step) => `activate sandbox scenario ${step.scenario} for the merchant`,
  async run(step, state, run) {
    await run.sandbox.activate(run.merchant.app_id, step.scenario);
    state.sandboxScenario = step.scenario;
    state.notes.push(`PUT /__admin/merchants/${run.merchant.app_id}/scenario {"name":"${step.scenario}"}`);
  },
};
