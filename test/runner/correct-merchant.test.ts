import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../scenarios/runner/outcome.js';
import { HTML_FILE, JSON_FILE, JUNIT_FILE } from '../../scenarios/runner/run-command.js';
import { BROWSER_ONLY, CORRECT_CONFIG, ROOT, suiteNames } from './helpers.js';

/**
 * Acceptance: against the correct fixture merchant, `ktpay-mock run` with the built-in suite passes
 * every scenario (the browser-only one is skipped: this shop's trigger is HTTP), exits 0, and
 * writes a JUnit file with one testcase per scenario, a JSON and an HTML report beside it.
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
        '--reporter',
        'html',
        '--out',
        out,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, CI: 'true' } },
    );
    const stdout = String(res.stdout);
    expect(res.status, `${stdout}\n${String(res.stderr)}`).toBe(0);
    // Plain lines in CI: one per scenario, no spinner frames or cursor codes.
    expect(stdout.includes(String.fromCharCode(27))).toBe(false);
    const n = suiteNames().length;
    for (const [i, name] of suiteNames().entries())
      expect(stdout).toContain(
        BROWSER_ONLY.includes(name)
          ? `- [${i + 1}/${n}] ${name} skipped: needs a browser trigger`
          : `✓ [${i + 1}/${n}] ${name}`,
      );
    expect(stdout).toMatch(
      new RegExp(
        `PASS ${n - BROWSER_ONLY.length} passed, 0 failed, ${BROWSER_ONLY.length} skipped in [\\d.]+ s \\(seed 7; rerun with --seed 7\\)`,
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
      expect(t.failure).toBeUndefined();
      if (BROWSER_ONLY.includes(t.name)) {
        expect(t.skipped).toBeDefined();
        continue;
      }
      expect(Number(t.time)).toBeGreaterThan(0);
      expect(t.skipped).toBeUndefined();
      expect(t['system-out']).toMatch(/1\. \[passed\]/);
    }
    expect(suite!.properties.property).toContainEqual({ name: 'seed', value: '7' });
  });

  it('the JSON report records each step with its explanation and evidence', () => {
    const report = JSON.parse(readFileSync(join(out, JSON_FILE), 'utf8')) as RunReport;
    const n = suiteNames().length;
    expect(n).toBeGreaterThanOrEqual(23);
    const skipped = BROWSER_ONLY.length;
    expect(report.summary).toEqual({ total: n, passed: n - skipped, failed: 0, skipped });
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
    // Found exactly: by the transaction_hash in the shop's answer (or its order_id when the create failed).
    expect(happy.steps[0]!.notes.join(' ')).toMatch(
      /create-payment: journal entry \d+.*found by transaction_hash [0-9a-f]{40} in the shop's answer/,
    );
    for (const s of report.scenarios.filter((x) => x.steps[0]?.type === 'trigger' && x.transaction_hash))
      expect(s.steps[0]!.notes.join(' '), s.name).toMatch(/found by (transaction_hash|order_id) /);
    const failedCreate = report.scenarios.find((s) => s.name === 'create-5000105')!;
    expect(failedCreate.steps.find((s) => s.type === 'trigger')!.notes.join(' ')).toMatch(
      /found by order_id ORD-\S+ in the shop's answer/,
    );
    const dup = report.scenarios.find((s) => s.name === 'callback-duplicated')!;
    expect(dup.sandbox_scenario).toBe('callback-duplicate');
    // One at a time, each sandbox scenario is a copy of its own, active for the merchant while it runs.
    expect(dup.steps[0]!.notes.join(' ')).toMatch(
      /PUT \/__admin\/merchants\/e2d3d70d53c67bcd377266f74e98587c\/scenario run-[0-9a-f]{6}-\d+-callback-duplicate \(a copy of callback-duplicate\)/,
    );
    expect(dup.steps.find((s) => s.type === 'duplicate')!.notes.join(' ')).toMatch(
      /2 copies .* all acknowledged/,
    );
  });

  it('writes the HTML report beside the JUnit file, with every scenario and its steps', () => {
    const html = readFileSync(join(out, HTML_FILE), 'utf8');
    expect(html).toMatch(/<title>ktpay-mock run: PASS — \d+ passed, 0 failed, 1 skipped<\/title>/);
    for (const name of suiteNames()) expect(html).toContain(`>${name}</a>`);
    expect(html).toContain('make the shop create a payment: POST {{app.url}}/checkout');
    expect(html).not.toMatch(/<script|<link|src="http/);
  });
});
