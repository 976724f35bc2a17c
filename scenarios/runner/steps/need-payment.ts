import type { RunContext, ScenarioState } from '../context.js';
import { CheckFailure } from '../outcome.js';
import { requestProblem } from './expect-request-step.js';

/**
 * The scenario's transaction hash, or the most useful failure when there is none: the request
 * defect that made the create fail (encoding, Auth-Identifier, …), else what the gateway said.
 */
export function needPayment(state: ScenarioState, run: RunContext, what: string): string {
  if (state.hash) return state.hash;
  const problem = state.create && state.trigger?.kind !== 'runner' ? requestProblem(state, run) : undefined;
  if (problem)
    throw new CheckFailure({ ...problem, message: `${problem.message}, so there is no payment to ${what}` });
  const e = state.create;
  throw new CheckFailure({
    check: 'no_create',
    message: `there is no payment to ${what}: the create-payment did not succeed`,
    expected: 'a transaction_hash from the create-payment',
    actual: e
      ? `journal entry ${e.id} answered ${e.response.status}${e.verdict.error_code ? ` ${e.verdict.error_code}` : ''}${e.verdict.explanation ? `: ${e.verdict.explanation}` : ''}`
      : 'no create-payment was seen',
    evidence: e ? { journal_entry: e.id } : {},
    hint: 'fix the create-payment first (GET /__admin/journal shows what the sandbox received)',
  });
}
