// Reads vitest's JSON report and prints CI's verdict: every skipped or todo test by name, then, as the
// last line, `N passed, N failed`. CI installs every runtime the tests need, so here a skipped test
// counts as a failed one, and so does a test file that failed to load (it has no failed test in it).
// Exits 1 when that count is not 0.
//
//   node .ci/vitest-summary.mjs reports/vitest.json
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const file = process.argv[2] ?? 'reports/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.log(`no vitest report at ${file} (${err.message})`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const NOT_RUN = new Set(['skipped', 'pending', 'todo', 'disabled']);
const named = [];
let brokenFiles = 0;
for (const f of report.testResults ?? []) {
  const tests = f.assertionResults ?? [];
  if (f.status === 'failed' && !tests.some((t) => t.status === 'failed')) {
    brokenFiles++;
    console.log(`failed to load: ${relative(process.cwd(), f.name)}`);
  }
  for (const t of tests) {
    if (NOT_RUN.has(t.status)) named.push(`${relative(process.cwd(), f.name)} > ${t.fullName} (${t.status})`);
  }
}
// vitest's own totals as well, in case a skip is counted where no test result names it.
const skipped = Math.max(named.length, (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0));
for (const line of named) console.log(`skipped: ${line}`);
if (skipped > 0) {
  console.log(
    `${skipped} test(s) skipped: CI installs every runtime the tests need, so each counts as failed`,
  );
}
const failed = report.numFailedTests + brokenFiles + skipped;
console.log(`${report.numPassedTests} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
