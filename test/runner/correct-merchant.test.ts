import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../scenarios/runner/outcome.js';
import { JSON_FILE, JUNIT_FILE } from '../../scenarios/runner/run-command.js';
import { CORRECT_CONFIG, ROOT, suiteNames } from './helpers.js';

/**
 * Acceptance: against the correct fixture merchant, `ktpay-mock run` with the built-in suite passes
 * every scenario, exits 0, and writes a JUnit file with one testcase per scenario.
 */
describe('ktpay-mock run against the correct fixture merchant (CLI)', () => {
  const out = mkdtempSync(join(tmpdir(), 'ktpay-run-correct-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  let res: ReturnType<typeof spawnSync>;

  it('passes every built-in scenario and exits 0', () => {
    res = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'mock-server/cli.ts',
        'run',
        '--config',
        CORRECT_CONFIG,
        '--seed',
        '7',
        '--reporter',
        'pretty',
        '--reporter',
        'junit',
        '--reporter',
        'json',
        '--out',
        out,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, CI: 'true' } },
    );
    const stdout = String(res.stdout);
    expect(res.status, `${stdout}\n${String(res.stderr)}`).toBe(0);
    // Plain lines in CI: one per scenario, no spinner frames or cursor codes.
    expect(stdout.includes(String.fromCharCode(27))).toBe(false);
    for (const [i, name] of suiteNames().entries())
      expect(stdout).toContain(`✓ [${i + 1}/${suiteNames().length}] ${name}`);
    expect(stdout).toMatch(
      new RegExp(
        `PASS ${suiteNames().length} passed, 0 failed in [\\d.]+ s \\(seed 7; rerun with --seed 7\\)`,
      ),
    );
  }, 130_000);

  it('writes a well-formed JUnit file with one passing testcase per scenario file', () => {
    const xml = readFileSync(join(out, JUNIT_FILE), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      isArray: (name) => name === 'testsuite' || name === 'testcase' || name === 'property',
    }).parse(xml) as {
      testsuites: {
        tests: string;
        failures: string;
        testsuite: {
          name: string;
          tests: string;
          failures: string;
          skipped: string;
          testcase: {
            name: string;
            classname: string;
            time: string;
            failure?: unknown;
            skipped?: unknown;
            'system-out': string;
          }[];
          properties: { property: { name: string; value: string }[] };
        }[];
      };
    };
    const names = suiteNames();
    expect(doc.testsuites.tests).toBe(String(names.length));
    expect(doc.testsuites.failures).toBe('0');
    const [suite] = doc.testsuites.testsuite;
    expect(suite!.name).toBe('merchant-checks');
    expect(suite!.testcase.map((t) => t.name)).toEqual(names);
    for (const t of suite!.testcase) {
      expect(t.classname).toBe('ktpay-mock.merchant-checks');
      expect(Number(t.time)).toBeGreaterThan(0);
      expect(t.failure).toBeUndefined();
      expect(t.skipped).toBeUndefined();
      expect(t['system-out']).toMatch(/1\. \[passed\]/);
    }
    expect(suite!.properties.property).toContainEqual({ name: 'seed', value: '7' });
  });

  it('the JSON report records each step with its explanation and evidence', () => {
    const report = JSON.parse(readFileSync(join(out, JSON_FILE), 'utf8')) as RunReport;
    const n = suiteNames().length;
    expect(n).toBeGreaterThanOrEqual(22);
    expect(report.summary).toEqual({ total: n, passed: n, failed: 0, skipped: 0 });
    expect(report.sandbox.mode).toBe('embedded');
    const happy = report.scenarios.find((s) => s.name === 'happy-path')!;
    expect(happy.order_id).toMatch(/^ORD-/);
    expect(happy.transaction_hash).toMatch(/^[0-9a-f]{40}$/);
    expect(happy.steps.map((s) => s.type)).toEqual([
      'trigger',
      'expect_request',
      'expect_trigger_response',
      'pay',
      'verify',
      'clear',
      'expect_callback',
      'verify',
    ]);
    expect(happy.steps.every((s) => s.status === 'passed' && s.explain.length > 10)).toBe(true);
    expect(happy.steps[0]!.notes.join(' ')).toMatch(/create-payment: journal entry \d+/);
    const dup = report.scenarios.find((s) => s.name === 'callback-duplicated')!;
    expect(dup.sandbox_scenario).toBe('callback-duplicate');
    expect(dup.steps.find((s) => s.type === 'duplicate')!.notes.join(' ')).toMatch(
      /2 copies .* all acknowledged/,
    );
  });
});
