import type { RunnerStep } from '../../../contracts/types.js';
import type { RunContext, ScenarioState } from '../context.js';
import { activateStep } from './activate-step.js';
import { duplicateStep, expectCallbackStep, redeliverStep } from './callback-steps.js';
import { closeWidgetStep } from './close-widget-step.js';
import { expectRequestStep } from './expect-request-step.js';
import {
  cancelStep,
  expectTriggerResponseStep,
  refundStep,
  statusStep,
  verifyStep,
} from './merchant-steps.js';
import { clearStep, payStep } from './pay-step.js';
import type { StepImpl } from './step.js';
import { triggerStep } from './trigger-step.js';

/** Every runner step type → its implementation (DESIGN.md house style 6: definitions are data, behaviour is here). */
export const STEPS: { [T in RunnerStep['type']]: StepImpl<T> } = {
  activate: activateStep,
  trigger: triggerStep,
  expect_request: expectRequestStep,
  pay: payStep,
  clear: clearStep,
  expect_callback: expectCallbackStep,
  redeliver: redeliverStep,
  duplicate: duplicateStep,
  expect_trigger_response: expectTriggerResponseStep,
  cancel: cancelStep,
  refund: refundStep,
  status: statusStep,
  close_widget: closeWidgetStep,
  verify: verifyStep,
};

/** One sentence for a step, for reports (`ktpay-mock run` lists these per scenario). */
export function explainStep(step: RunnerStep, run: RunContext): string {
  return (STEPS[step.type] as StepImpl<RunnerStep['type']>).explain(step as never, run);
}

export function runStep(step: RunnerStep, state: ScenarioState, run: RunContext): Promise<void> {
  return (STEPS[step.type] as StepImpl<RunnerStep['type']>).run(step as never, state, run);
}
