import type { RUNNER_CHECKS } from '../../contracts/schemas/check-config.js';
import type { DriftKind } from '../probe/drift.js';

export type CheckId = (typeof RUNNER_CHECKS)[number];

/** Where a person can see what happened: a journal entry, a callback delivery attempt, a URL. */
export interface Evidence {
  /** `GET /__admin/journal` entry id. */
  journal_entry?: number;
  /** `GET /__admin/callbacks/{delivery}`. */
  delivery?: string;
  /** 1-based attempt number within the delivery. */
  attempt?: number;
  /** The request the runner made, e.g. `GET http://127.0.0.1:3000/orders/A1`. */
  request?: string;
  /** What came back, shortened. */
  response?: string;
  /** Where the shopper went, hop by hop. */
  path?: string[];
}

/** A failed check, with everything a person needs to act on it. */
export interface FailureReport {
  /** A runner check id, or (`ktpay-mock probe`) the kind of drift. */
  check: CheckId | DriftKind;
  /** One line: what went wrong. */
  message: string;
  expected: string;
  actual: string;
  evidence: Evidence;
  /** How to fix it. */
  hint: string;
  /** What reporters call expected, actual and hint (the probe: upstream, sandbox, rule). */
  labels?: { expected: string; actual: string; hint: string };
}

/** Thrown by a step implementation when a check fails. */
export class CheckFailure extends Error {
  override name = 'CheckFailure';
  constructor(readonly report: FailureReport) {
    super(report.message);
  }
}

/** Thrown by a step that does not apply in this run (e.g. no verify URL configured); the scenario goes on. */
export class StepNotApplicable extends Error {
  override name = 'StepNotApplicable';
}

export type StepStatus = 'passed' | 'failed' | 'skipped' | 'not_run';

export interface StepResult {
  index: number;
  type: string;
  explain: string;
  status: StepStatus;
  duration_ms: number;
  /** What the step saw, for the report (e.g. "create-payment: journal entry 12, 200"). */
  notes: string[];
}

export type ScenarioStatus = 'passed' | 'failed' | 'skipped';

export interface ScenarioResult {
  name: string;
  suite: string;
  file: string;
  description: string;
  status: ScenarioStatus;
  /** Why the scenario was skipped. */
  skip_reason?: string;
  duration_ms: number;
  order_id: string | null;
  transaction_hash: string | null;
  /** The sandbox scenario active for the merchant while it ran. */
  sandbox_scenario: string | null;
  steps: StepResult[];
  failure?: FailureReport & { step: number; step_type: string };
  /** Further failures of the same scenario (the probe reports every drift of a probe). */
  more_failures?: (FailureReport & { step: number; step_type: string })[];
}

export interface RunReport {
  tool: 'ktpay-mock run' | 'ktpay-mock probe';
  version: string;
  /** The faker seed of a run; null for the probe, which has none. */
  seed: number | null;
  started_at: string;
  duration_ms: number;
  sandbox: { mode: 'embedded' | 'external'; url: string };
  merchant: { app_id: string; created: boolean };
  trigger: 'http' | 'command' | 'browser' | 'none';
  /** How many scenarios ran at once. */
  parallel: number;
  summary: { total: number; passed: number; failed: number; skipped: number };
  scenarios: ScenarioResult[];
  /** `ktpay-mock probe` only: what was compared with what. Each probe is one scenario. */
  probe?: {
    /** The upstream API base (no credentials). */
    upstream: string;
    mode: 'live' | 'replay';
    /** The recording written (live) or read (replay). */
    recording?: string;
    battery_version: number;
    sandbox_merchant: { envelope: string; acquirer_options_version: number };
    drifts: number;
  };
}

/** Shortens text for evidence lines. */
export function clip(text: string, max = 300): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}
