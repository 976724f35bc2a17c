import type { FailureReport, RunReport, ScenarioResult, StepResult } from '../runner/outcome.js';
import { API_PREFIX } from './probe-request.js';
import type { ProbeOutcome, SideResult } from './probe-run.js';
import { readAnswer } from './read-answer.js';
import { driftLine, type Drift } from './drift.js';

/** Where the battery lives: the `file` of each probe in reports. */
export const BATTERY_FILE = 'scenarios/probe/battery.ts';

const DRIFT_LABELS = { expected: 'upstream', actual: 'sandbox', hint: 'rule' };

const BODY_WORDS: Record<string, string> = {
  sealed: 'sealed JSON',
  sealed_foreign: 'JSON sealed to a foreign key',
  sealed_text: 'sealed non-JSON text',
  raw: 'raw text',
  none: 'no body',
};

/** One line for a side's answer: `422 reference error 4220002`, `200 widget success`. */
export function answerLine(r: SideResult): string {
  if (r.kind === 'skipped') return `not sent: ${r.reason}`;
  const a = readAnswer(r.answer);
  const code = a.outcome === 'error' ? ` ${JSON.stringify(a.code)}` : '';
  return `${a.status} ${a.dialect} ${a.outcome}${code} (${r.duration_ms} ms)`;
}

/** A drift as a runner failure; the evidence (the request and both answers) goes on the first only. */
function failureOf(
  o: ProbeOutcome,
  d: Drift,
  first: boolean,
): FailureReport & { step: number; step_type: string } {
  const p = o.probe;
  return {
    check: d.kind,
    message: `${d.kind.replace(/_/g, ' ')}${d.path ? ` at ${d.path}` : ''} differs`,
    expected: d.upstream,
    actual: d.sandbox,
    evidence: first
      ? {
          request: `${p.method} ${API_PREFIX}${p.path} (${BODY_WORDS[p.body.kind]}, Auth-Identifier: ${p.auth})`,
          response: `upstream ${answerLine(o.upstream)}; sandbox ${answerLine(o.sandbox)}`,
        }
      : {},
    hint: d.rule,
    labels: DRIFT_LABELS,
    step: 3,
    step_type: 'compare',
  };
}

/**
 * One probe as a runner scenario result, so the runner's reporters (pretty, JSON, JUnit) print it:
 * steps 1–2 are the two requests, step 3 the comparison; each drift is a failure whose expected
 * and actual are the upstream and sandbox sides and whose hint is the contract rule.
 */
export function probeScenario(o: ProbeOutcome): ScenarioResult {
  const p = o.probe;
  const request = `${p.method} ${p.path}`;
  const sideStep = (index: number, name: 'upstream' | 'sandbox', r: SideResult): StepResult => ({
    index,
    type: name,
    explain: `${request} to the ${name}`,
    status: r.kind === 'answered' ? 'passed' : 'skipped',
    duration_ms: r.kind === 'answered' ? r.duration_ms : 0,
    notes: [answerLine(r)],
  });
  const failures = o.drifts.map((d, i) => failureOf(o, d, i === 0));
  const result: ScenarioResult = {
    name: p.id,
    suite: 'probe',
    file: BATTERY_FILE,
    description: p.title,
    status: o.skipped ? 'skipped' : failures.length > 0 ? 'failed' : 'passed',
    duration_ms: o.duration_ms,
    order_id: o.order_id,
    transaction_hash: null,
    sandbox_scenario: null,
    steps: [
      sideStep(1, 'upstream', o.upstream),
      sideStep(2, 'sandbox', o.sandbox),
      {
        index: 3,
        type: 'compare',
        explain: 'HTTP status, envelope dialect and keys, error code, message, field types',
        status: o.skipped ? 'not_run' : failures.length > 0 ? 'failed' : 'passed',
        duration_ms: 0,
        notes: o.drifts.map(driftLine),
      },
    ],
  };
  if (o.skipped) result.skip_reason = o.skipped;
  if (failures.length > 0) {
    result.failure = failures[0]!;
    if (failures.length > 1) result.more_failures = failures.slice(1);
  }
  return result;
}

/** The whole probe run in the runner's report type. */
export function probeReport(
  outcomes: readonly ProbeOutcome[],
  meta: Pick<RunReport, 'version' | 'started_at' | 'duration_ms' | 'sandbox' | 'merchant'> & {
    probe: Omit<NonNullable<RunReport['probe']>, 'drifts'>;
  },
): RunReport {
  const scenarios = outcomes.map(probeScenario);
  return {
    tool: 'ktpay-mock probe',
    version: meta.version,
    seed: null,
    started_at: meta.started_at,
    duration_ms: meta.duration_ms,
    sandbox: meta.sandbox,
    merchant: meta.merchant,
    trigger: 'none',
    // The battery runs one probe at a time: each pair of answers is compared before the next.
    parallel: 1,
    summary: {
      total: scenarios.length,
      passed: scenarios.filter((s) => s.status === 'passed').length,
      failed: scenarios.filter((s) => s.status === 'failed').length,
      skipped: scenarios.filter((s) => s.status === 'skipped').length,
    },
    scenarios,
    probe: { ...meta.probe, drifts: outcomes.reduce((n, o) => n + o.drifts.length, 0) },
  };
}
