import { describe, expect, it } from 'vitest';
import type { RunReport, ScenarioResult } from '../outcome.js';
import type { RunnerScenario } from '../suite-loader.js';
import { createPrettyReporter } from './pretty-reporter.js';

const scenario = (name: string): RunnerScenario => ({
  suite: 's',
  file: `${name}.yaml`,
  name,
  description: 'd',
  tags: [],
  requires: [],
  browser: false,
  steps: [],
  sandboxSteps: [],
});
const result = (name: string, over: Partial<ScenarioResult> = {}): ScenarioResult => ({
  name,
  suite: 's',
  file: `${name}.yaml`,
  description: 'd',
  status: 'passed',
  duration_ms: 120,
  order_id: null,
  transaction_hash: null,
  sandbox_scenario: null,
  steps: [],
  ...over,
});
const failed = result('b', {
  status: 'failed',
  failure: {
    step: 3,
    step_type: 'expect_callback',
    check: 'ack_body',
    message: 'not acknowledged',
    expected: '{"status":"ok"}',
    actual: '{"received":true}',
    evidence: { delivery: 'dlv_1', attempt: 1 },
    hint: 'answer {"status":"ok"}',
  },
});
const report = (rs: ScenarioResult[]): RunReport => ({
  tool: 'ktpay-mock run',
  version: '0',
  seed: 5,
  started_at: new Date(0).toISOString(),
  duration_ms: 1500,
  sandbox: { mode: 'embedded', url: 'http://127.0.0.1:1' },
  merchant: { app_id: 'a', created: false },
  trigger: 'http',
  parallel: 1,
  summary: {
    total: rs.length,
    passed: rs.filter((r) => r.status === 'passed').length,
    failed: rs.filter((r) => r.status === 'failed').length,
    skipped: 0,
  },
  scenarios: rs,
});

function drive(live: boolean): string {
  let out = '';
  const p = createPrettyReporter({ write: (t) => (out += t), live, color: false });
  p.onRunStart!({
    total: 2,
    sandbox: 'http://127.0.0.1:1',
    mode: 'embedded',
    merchant: 'a',
    seed: 5,
    parallel: 1,
  });
  p.onScenarioStart!(1, 2, scenario('a'));
  p.onStep!(1, 2, scenario('a'), 1, 'make the shop create a payment');
  p.onScenarioEnd!(1, 2, result('a'));
  p.onScenarioStart!(2, 2, scenario('b'));
  p.onScenarioEnd!(2, 2, failed);
  p.finish(report([result('a'), failed]));
  return out;
}

describe('pretty reporter', () => {
  it('in CI prints plain lines: one per scenario, the failure in full, the summary', () => {
    const out = drive(false);
    expect(out.includes('\r')).toBe(false);
    expect(out).toContain('✓ [1/2] a (120 ms)\n');
    expect(out).toContain(
      '✗ [2/2] b (120 ms)\n    step 3 expect_callback: not acknowledged [ack_body]\n    expected: {"status":"ok"}\n    actual:   {"received":true}\n    evidence: delivery dlv_1 attempt 1 (GET /__admin/callbacks/dlv_1)\n    fix:      answer {"status":"ok"}\n',
    );
    expect(out).toContain('FAIL 1 passed, 1 failed in 1.5 s (seed 5; rerun with --seed 5)');
  });

  it('on a TTY redraws one status line with a spinner, scenario N/M and the current step', () => {
    const out = drive(true).replaceAll('\u001b', '<ESC>');
    expect(out).toMatch(/\r<ESC>\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \[1\/2\] a — 1\. make the shop create a payment/);
    expect(out).toMatch(/\r<ESC>\[2K✓ \[1\/2\] a/);
    expect(out.endsWith('\n')).toBe(true);
  });

  it('with scenarios running in parallel, the status line names the newest and counts the others', () => {
    let out = '';
    const p = createPrettyReporter({ write: (t) => (out += t), live: true, color: false });
    p.onRunStart!({
      total: 3,
      sandbox: 'http://127.0.0.1:1',
      mode: 'embedded',
      merchant: 'a',
      seed: 5,
      parallel: 3,
    });
    p.onScenarioStart!(1, 3, scenario('a'));
    p.onScenarioStart!(2, 3, scenario('b'));
    p.onStep!(2, 3, scenario('b'), 2, 'pay');
    p.onScenarioEnd!(1, 3, result('a'));
    p.onScenarioStart!(3, 3, scenario('c'));
    p.stop();
    expect(out).toContain('3 scenarios, 3 at a time');
    expect(out).toMatch(/\[2\/3\] b — 2\. pay \(\+1 more running\)/);
    expect(out).toMatch(/\[3\/3\] c \(\+1 more running\)/);
  });
});
