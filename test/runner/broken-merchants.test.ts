import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckId } from '../../scenarios/runner/outcome.js';
import { CORRECT_CONFIG, runInProcess } from './helpers.js';

/**
 * Acceptance: against each broken fixture merchant `ktpay-mock run` exits non-zero, and the JSON
 * report names the failing scenario and a reason that identifies the defect. Every variant runs
 * with the correct shop's own check config; only the app command differs.
 */
interface Case {
  variant: string;
  scenario: string;
  check: CheckId;
  /** Words of the message or the actual value that name the defect. */
  reason: RegExp;
  evidence: 'journal_entry' | 'delivery' | 'request';
  /** Scenarios to run (all when absent). */
  only?: string[];
}

const CASES: Case[] = [
  {
    variant: 'wrong-ack',
    scenario: 'happy-path',
    check: 'ack_body',
    reason: /not acknowledged[\s\S]*"status" is missing/,
    evidence: 'delivery',
  },
  {
    variant: 'not-idempotent',
    scenario: 'callback-duplicated',
    check: 'double_effect',
    reason: /had an effect again[\s\S]*\$\.shipments = [2-9]/,
    evidence: 'request',
  },
  {
    variant: 'crash-on-gateway-error',
    scenario: 'create-5000105',
    check: 'merchant_5xx',
    reason: /answered 500 \(5xx\)[\s\S]*5000105/,
    evidence: 'journal_entry',
  },
  {
    variant: 'urlsafe-base64',
    scenario: 'happy-path',
    check: 'encoding',
    reason: /ORIGINAL base64[\s\S]*URL-safe/,
    evidence: 'journal_entry',
  },
  {
    variant: 'wrapped-base64',
    scenario: 'happy-path',
    check: 'encoding',
    reason: /not exactly ORIGINAL base64[\s\S]*wrapped into lines of 76 characters/,
    evidence: 'journal_entry',
    only: ['happy-path'],
  },
  {
    variant: 'no-auth-identifier',
    scenario: 'happy-path',
    check: 'auth_identifier',
    reason: /no Auth-Identifier header/,
    evidence: 'journal_entry',
  },
  // Each callback of this shop costs the 3 s callback timeout; two scenarios show the defect without a minute of waiting.
  {
    variant: 'slow-callback',
    scenario: 'happy-path',
    check: 'callback_timeout',
    reason: /not acknowledged[\s\S]*within 3000 ms \(timeout\)/,
    evidence: 'delivery',
    only: ['happy-path', 'callback-retried'],
  },
  {
    variant: 'paid-on-redirect',
    scenario: 'happy-path',
    check: 'paid_before_callback',
    reason: /marked the order paid when the shopper came back, before any callback[\s\S]*\$\.status = "paid"/,
    evidence: 'request',
  },
];

describe('ktpay-mock run against the broken fixture merchants', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.variant}: exits 1, and ${c.scenario} fails with ${c.check}`, async () => {
      const out = mkdtempSync(join(tmpdir(), `ktpay-run-${c.variant}-`));
      dirs.push(out);
      const res = await runInProcess({
        config: CORRECT_CONFIG,
        app: `node ../broken/${c.variant}.js`,
        reporters: ['json'],
        out,
        seed: 11,
        ...(c.only ? { only: c.only } : {}),
      });
      expect(res.code, res.stderr).toBe(1);
      const report = res.report!;
      expect(report.summary.failed).toBeGreaterThan(0);
      const failed = report.scenarios.find((s) => s.name === c.scenario)!;
      expect(failed.status).toBe('failed');
      const f = failed.failure!;
      expect(f.check).toBe(c.check);
      expect(`${f.message}\n${f.actual}`).toMatch(c.reason);
      expect(f.evidence[c.evidence]).toBeDefined();
      if (c.evidence === 'delivery') expect(f.evidence.attempt).toBe(1);
      expect(f.expected.length).toBeGreaterThan(3);
      expect(f.hint.length).toBeGreaterThan(20);
    }, 90_000);
  }
});
