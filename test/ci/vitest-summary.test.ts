import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** CI's verdict on a vitest run (`.ci/run` ends with it): skips fail it, and it says which. */
const dir = mkdtempSync(join(tmpdir(), 'ktpay-ci-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function summarize(report: string) {
  const r = spawnSync(process.execPath, ['.ci/vitest-summary.mjs', report], { encoding: 'utf8' });
  return { status: r.status, lines: r.stdout.trimEnd().split('\n') };
}

function reportFile(name: string, report: object): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(report));
  return path;
}

const file = (name: string, status: string, tests: { fullName: string; status: string }[]) => ({
  name: join(process.cwd(), name),
  status,
  assertionResults: tests,
});

describe('.ci/vitest-summary.mjs', () => {
  it('on a real vitest run: names the skipped suite and the todo, counts them as failed, exits 1', () => {
    const out = join(dir, 'real.json');
    const run = spawnSync(
      process.execPath,
      [
        'node_modules/vitest/vitest.mjs',
        'run',
        '--config',
        'test/fixtures/vitest-skips/vitest.config.ts',
        '--reporter=json',
        `--outputFile.json=${out}`,
      ],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0); // vitest itself passes a run with skips
    expect(run.stderr).toContain(
      'skipped: COBOL client tests: needs GnuCOBOL 3 (apt-get install gnucobol), not found on this machine',
    );
    const { status, lines } = summarize(out);
    expect(lines).toEqual([
      'skipped: test/fixtures/vitest-skips/skips.fixture.ts > COBOL client seals an order (skipped)',
      'skipped: test/fixtures/vitest-skips/skips.fixture.ts > a test written later (todo)',
      '2 test(s) skipped: CI installs every runtime the tests need, so each counts as failed',
      '1 passed, 2 failed',
    ]);
    expect(status).toBe(1);
  });

  it('passes a run with nothing failed or skipped: one plain line', () => {
    const report = reportFile('green', {
      numPassedTests: 2,
      numFailedTests: 0,
      numPendingTests: 0,
      numTodoTests: 0,
      testResults: [file('a.test.ts', 'passed', [{ fullName: 'x', status: 'passed' }])],
    });
    expect(summarize(report)).toEqual({ status: 0, lines: ['2 passed, 0 failed'] });
  });

  it('counts a failed test, and a file that failed to load (it has no failed test in it)', () => {
    const report = reportFile('red', {
      numPassedTests: 1,
      numFailedTests: 1,
      numPendingTests: 0,
      numTodoTests: 0,
      testResults: [
        file('a.test.ts', 'failed', [{ fullName: 'x', status: 'failed' }]),
        file('b.test.ts', 'failed', []),
      ],
    });
    expect(summarize(report)).toEqual({
      status: 1,
      lines: ['failed to load: b.test.ts', '1 passed, 2 failed'],
    });
  });

  it("counts skips vitest reports but no test result names (its own totals win when they're larger)", () => {
    const report = reportFile('unnamed', {
      numPassedTests: 3,
      numFailedTests: 0,
      numPendingTests: 1,
      numTodoTests: 0,
      testResults: [],
    });
    const { status, lines } = summarize(report);
    expect(status).toBe(1);
    expect(lines.at(-1)).toBe('3 passed, 1 failed');
  });

  it('fails when there is no report (vitest did not finish)', () => {
    const { status, lines } = summarize(join(dir, 'missing.json'));
    expect(status).toBe(1);
    expect(lines.at(-1)).toBe('0 passed, 1 failed');
  });
});
