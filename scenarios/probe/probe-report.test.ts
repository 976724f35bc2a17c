import { describe, expect, it } from 'vitest';
import { junitReport } from '../runner/reporters/junit-reporter.js';
import { createPrettyReporter } from '../runner/reporters/pretty-reporter.js';
import { BATTERY } from './battery.js';
import { probeReport, probeScenario } from './probe-report.js';
import type { ProbeOutcome, SideResult } from './probe-run.js';

const side = (status: number, body: unknown): SideResult => ({
  kind: 'answered',
  request: { method: 'GET', path: '/payment/{hash}', auth: 'own' },
  answer: { status, content_type: 'application/json', body: JSON.stringify(body) },
  duration_ms: 12,
});
const statusOwn = BATTERY.find((p) => p.id === 'status-own')!;
const drifted: ProbeOutcome = {
  probe: statusOwn,
  order_id: 'ktpay-mock-probe-x-status-own',
  upstream: side(500, { success: false, error: { code: 5000107, message: 'm', hint: 'h' } }),
  sandbox: side(200, { success: true, payload: {} }),
  drifts: [
    { kind: 'http_status', upstream: '500', sandbox: '200', rule: 'rule A' },
    { kind: 'outcome', upstream: 'error 5000107', sandbox: 'success', rule: 'rule B' },
  ],
  duration_ms: 30,
};
const matched: ProbeOutcome = { ...drifted, probe: BATTERY[0]!, drifts: [] };
const meta = {
  version: '0',
  started_at: new Date(0).toISOString(),
  duration_ms: 1200,
  sandbox: { mode: 'embedded' as const, url: 'http://127.0.0.1:1' },
  merchant: { app_id: 'sandbox-merchant', created: true },
  probe: {
    upstream: 'https://card.test.nplus.tech/api/v1/merchant-widget',
    mode: 'live' as const,
    battery_version: 1,
    sandbox_merchant: { envelope: 'reference', acquirer_options_version: 2 },
  },
};

describe('probe report through the runner reporters', () => {
  it('a probe is a scenario: two request steps, a compare step, every drift a failure with both sides and the rule', () => {
    const s = probeScenario(drifted);
    expect(s.status).toBe('failed');
    expect(s.steps.map((st) => `${st.type}:${st.status}`)).toEqual([
      'upstream:passed',
      'sandbox:passed',
      'compare:failed',
    ]);
    expect(s.failure).toMatchObject({ check: 'http_status', expected: '500', actual: '200', hint: 'rule A' });
    expect(s.failure!.evidence.response).toBe(
      'upstream 500 reference error 5000107 (12 ms); sandbox 200 reference success (12 ms)',
    );
    expect(s.more_failures).toEqual([
      expect.objectContaining({ check: 'outcome', hint: 'rule B', evidence: {} }),
    ]);
    expect(s.transaction_hash).toBeNull();
  });

  it('the pretty reporter prints every drift with upstream/sandbox/rule labels and a probe summary', () => {
    let out = '';
    const pretty = createPrettyReporter({ write: (t) => (out += t), live: false, color: false });
    const report = probeReport([matched, drifted], meta);
    pretty.onScenarioEnd!(1, 2, report.scenarios[0]!);
    pretty.onScenarioEnd!(2, 2, report.scenarios[1]!);
    pretty.finish(report);
    expect(out).toContain('✓ [1/2] create-valid');
    expect(out).toContain(
      '✗ [2/2] status-own (30 ms)\n    step 3 compare: http status differs [http_status]\n    upstream: 500\n    sandbox:  200\n',
    );
    expect(out).toContain(
      '    step 3 compare: outcome differs [outcome]\n    upstream: error 5000107\n    sandbox:  success\n    rule:     rule B\n',
    );
    expect(out).toContain('FAIL 1 match, 1 drifted of 2 probes; 2 drifts in 1.2 s\n');
    expect(out).not.toContain('seed');
  });

  it('JUnit: one testcase per probe, the first drift as the failure type, every drift in its body', () => {
    const xml = junitReport(probeReport([matched, drifted], meta));
    expect(xml).toContain('<testsuites name="ktpay-mock probe" tests="2" failures="1"');
    expect(xml).toContain(
      '<property name="upstream" value="https://card.test.nplus.tech/api/v1/merchant-widget"/>',
    );
    expect(xml).not.toContain('name="seed"');
    expect(xml).toMatch(
      /<failure message="http status differs \[http_status\] \(\+1 more\)" type="http_status">[^<]*rule:\s+rule B/,
    );
  });
});
