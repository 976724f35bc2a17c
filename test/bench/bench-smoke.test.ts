import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../mock-server/shared/project-root.js';
import { findPostgresBin } from '../helpers/postgres-server.js';
import type { BenchReport } from './harness.js';
import { POSTGRES_CASE_PREFIX, POSTGRES_CASES } from './postgres-case.js';
import { targetMet } from './report.js';
import { cliHasRun } from './runner-case.js';
import { benchToFile, distIsCurrent, launches } from './run-bench.js';

/*
 * The bench harness end to end with tiny sizes (a few hundred ms per case), against the code in
 * this tree: the built CLI when dist/ is newer than every source (as after `npm ci`, and it starts
 * in a third of the time, which matters for the ~30 processes this spawns), else the sources
 * through tsx. The real numbers come from
 * `npm run bench`, never from the test suite: this only proves that every case runs, measures,
 * and lands in a BENCHMARKS.md-shaped file (written to a temp path, never the real one).
 */

const dir = mkdtempSync(join(tmpdir(), 'ktpay-bench-smoke-'));
const out = join(dir, 'BENCHMARKS.md');
const real = projectPath('BENCHMARKS.md');
const realBefore = existsSync(real) ? statSync(real).mtimeMs : undefined;
const pgBin = findPostgresBin();
const entry = distIsCurrent(projectPath()) ? 'dist' : 'source';

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench (smoke, tiny durations)', () => {
  let report: BenchReport;
  let markdown: string;

  it('runs every case against its own processes and writes the report', async () => {
    ({ report, markdown } = await benchToFile({
      rounds: 2,
      seconds: 0.3,
      warmup: 0.1,
      connections: 10,
      callbacks: 150,
      failing_callbacks: 150,
      memory_transactions: 800,
      startup_samples: 2,
      postgres_callbacks: 60,
      out,
      sandboxEntry: entry,
      command: 'bench-smoke.test.ts',
      ...(process.env.BENCH_SMOKE_LOG ? { log: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    }));
    expect(readFileSync(out, 'utf8')).toBe(markdown);
  }, 300_000);

  it('every figure is a positive measured number; only a part missing from this build has none', () => {
    const cases = report.rows.map((r) => r.case);
    for (const want of [
      'startup',
      'create-payment',
      'create / floor',
      'status GET',
      'card form POST',
      'memory, memory store',
      'memory, SQLite store',
    ]) {
      expect(
        cases.some((c) => c.startsWith(want)),
        want,
      ).toBe(true);
    }
    expect(cases.some((c) => c.startsWith('floor'))).toBe(true);
    expect(cases.some((c) => c.startsWith('callbacks (stream'))).toBe(true);
    expect(cases.some((c) => c.startsWith('callbacks, 10 %'))).toBe(true);
    for (const row of report.rows) {
      if (row.median === null && row.case.startsWith(POSTGRES_CASE_PREFIX)) {
        // The PostgreSQL rows are measured wherever PostgreSQL's server binaries are.
        expect(pgBin, row.note).toBeUndefined();
        expect(row.note).toMatch(/^not available in this environment: /);
        continue;
      }
      if (row.median === null) {
        // The runner is measured only when the build has `ktpay-mock run` and the fixture merchant.
        expect(row.case).toBe('runner');
        const runnable =
          cliHasRun(launches(projectPath(), entry).runner.cli) &&
          existsSync(projectPath('test', 'fixtures', 'merchants', 'correct'));
        expect(runnable, row.note).toBe(false);
        expect(row.note).toMatch(/not available in this build/);
        continue;
      }
      expect(Number.isFinite(row.median), `${row.case} · ${row.figure}`).toBe(true);
      expect(row.rounds.length).toBeGreaterThan(0);
      // A difference of two measured p99s may come out at or below zero on a noisy machine.
      if (row.case === POSTGRES_CASES.added) continue;
      // autocannon's latency percentiles have 1 ms resolution: a fast server's p50 can be 0 ms.
      const floor = /latency/.test(row.figure) ? 0 : Number.MIN_VALUE;
      expect(row.median, `${row.case} · ${row.figure}`).toBeGreaterThanOrEqual(floor);
      for (const v of row.rounds) expect(v, `${row.case} · ${row.figure}`).toBeGreaterThanOrEqual(floor);
    }
  });

  it('the PostgreSQL rows (issue 17): measured when the server binaries are here, said to be missing when not', () => {
    const pg = report.rows.filter((r) => r.case.startsWith(POSTGRES_CASE_PREFIX));
    if (!pgBin) {
      expect(pg.length).toBeGreaterThan(0);
      for (const row of pg) expect(row.median, row.case).toBeNull();
      return;
    }
    const figures = (c: string) => pg.filter((r) => r.case === c);
    for (const c of [POSTGRES_CASES.baseline, POSTGRES_CASES.one, POSTGRES_CASES.three]) {
      expect(figures(c).map((r) => r.figure)).toEqual([
        'create-payment req/s',
        'create-payment p99 latency',
        'status GET req/s',
        'status GET p99 latency',
      ]);
      for (const row of figures(c)) {
        expect(row.rounds, `${c} · ${row.figure}`).toHaveLength(2);
        for (const v of row.rounds)
          expect(v).toBeGreaterThanOrEqual(row.unit === 'ms' ? 0 : Number.MIN_VALUE);
      }
      // Every process the configuration runs on shows its CPU per request.
      const cpu = figures(c)[0]!.note!;
      expect(cpu).toMatch(c === POSTGRES_CASES.three ? /replicas \d+ µs/ : /sandbox \d+ µs/);
      if (c !== POSTGRES_CASES.baseline) expect(cpu).toMatch(/PostgreSQL \d+ µs/);
      if (c === POSTGRES_CASES.three) expect(cpu).toMatch(/front \d+ µs/);
    }
    // The p99 the database adds is the one-replica p99 minus the memory store's, round by round.
    const p99 = (c: string, what: string) =>
      figures(c).find((r) => r.figure === `${what} p99 latency`)!.rounds;
    for (const what of ['create-payment', 'status GET']) {
      const added = figures(POSTGRES_CASES.added).find((r) => r.figure.startsWith(`${what} p99 added`))!;
      expect(added.rounds).toEqual(
        p99(POSTGRES_CASES.one, what).map((v, i) => v - p99(POSTGRES_CASES.baseline, what)[i]!),
      );
    }
    const [callbacks] = figures(POSTGRES_CASES.callbacks);
    expect(callbacks!.median).toBeGreaterThan(0);
    expect(callbacks!.note).toMatch(
      /^120 paid over 2 round\(s\), each acknowledged exactly once \(checked\)/,
    );
    expect(callbacks!.note).toMatch(/attempts made by replica: \d+ · \d+ · \d+ \(3 replicas\)/);
    expect(
      report.notes.some((n) =>
        n.startsWith(
          `${POSTGRES_CASES.callbacks}: every one of 120 paid transactions of the measured rounds, and the 20 of the unmeasured first round, got exactly one delivery`,
        ),
      ),
    ).toBe(true);
    expect(markdown).toContain('cannot show horizontal scaling');
  });

  it('the figures are measured, not constants: repeated rounds differ', () => {
    const multi = report.rows.filter((r) => r.rounds.length > 1);
    expect(multi.length).toBeGreaterThan(5);
    const identical = multi.filter((r) => r.rounds.every((v) => v === r.rounds[0]));
    expect(identical.length, identical.map((r) => `${r.case} · ${r.figure}`).join('; ')).toBeLessThan(
      multi.length / 2,
    );
  });

  it('the memory rows give the RSS after a forced full GC too', () => {
    for (const row of report.rows.filter((r) => r.case.startsWith('memory'))) {
      expect(row.note).toMatch(/\d+(\.\d)? MB after one full GC forced through the inspector/);
    }
  });

  it('the failing-callback run ends with every delivery acknowledged once', () => {
    expect(
      report.notes.some((n) => /every one of \d+ deliveries ended acknowledged exactly once/.test(n)),
    ).toBe(true);
    const row = report.rows.find((r) => r.case.startsWith('callbacks, 10 %'))!;
    expect(row.note).toMatch(/lost 0, duplicated beyond retries 0/);
  });

  it('the Markdown has the machine, the date, the table with targets, and the method', () => {
    expect(markdown).toMatch(/^# Benchmarks/);
    expect(markdown).toContain(report.started_at.slice(0, 10));
    expect(markdown).toContain(report.machine.cpu);
    expect(markdown).toContain(report.machine.node);
    expect(markdown).toMatch(/\| Case \| Figure \| Median \| Rounds \| Target \| Met \|/);
    for (const row of report.rows.filter((r) => r.target && r.median !== null)) {
      expect(markdown).toContain(row.case);
      expect(['met', '**missed**'].some((w) => markdown.includes(w))).toBe(true);
      expect(typeof targetMet(row)).toBe('boolean');
    }
    expect(markdown).toContain('## How each figure is measured');
  });

  it('a missed target comes with a CPU profile of that case', () => {
    const missed = (c: string) => report.rows.some((r) => r.case === c && targetMet(r) === false);
    const expected: Array<[string, string]> = [
      ['startup', 'startup'],
      ['create / floor', 'create-payment'],
      ['status GET', 'status GET'],
    ];
    for (const [row, evidence] of expected) {
      if (!missed(row)) continue;
      const ev = report.evidence.find((e) => e.case === evidence);
      expect(ev, row).toBeDefined();
      expect(ev!.files.length).toBeGreaterThan(0);
      expect(ev!.sampled_ms).toBeGreaterThan(0);
      expect(markdown).toContain(`### ${evidence}`);
    }
    if (report.evidence.length > 0) expect(markdown).toContain('## Profile evidence for missed targets');
  });

  it('leaves the real BENCHMARKS.md alone', () => {
    expect(existsSync(real) ? statSync(real).mtimeMs : undefined).toBe(realBefore);
  });
});
