import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TargetRecord } from './fuzz-harness.js';

/**
 * `npm run fuzz`: every fuzz target of test/fuzz with FUZZ_RUNS runs each (default 10,000), then a
 * table of runs and failures per target, printed and written into RELIABILITY.md between the
 * `fuzz:start` / `fuzz:end` markers. Exits non-zero when a target failed or ran fewer runs than asked.
 *
 * @example
 * npm run fuzz                   # 10,000 runs per target
 * FUZZ_RUNS=500 npm run fuzz     # a quicker pass
 */

const ROOT = resolve(import.meta.dirname, '../..');
const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
const work = mkdtempSync(join(tmpdir(), 'ktpay-fuzz-'));
const report = join(work, 'fuzz.jsonl');
const started = Date.now();
const loadBefore = loadavg()[0]!;

console.log(`fuzz: ${runs} runs per target, results in ${report}`);
const vitest = spawnSync(join(ROOT, 'node_modules/.bin/vitest'), ['run', 'test/fuzz', '--reporter=verbose'], {
  cwd: ROOT,
  env: { ...process.env, FUZZ_RUNS: String(runs), FUZZ_REPORT: report },
  stdio: 'inherit',
});
const loadAfter = loadavg()[0]!;
const records: TargetRecord[] = existsSync(report)
  ? readFileSync(report, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as TargetRecord)
  : [];
rmSync(work, { recursive: true, force: true });

const fmt = (n: number) => n.toLocaleString('en-US');
const classes = (r: TargetRecord) =>
  ['2xx', '3xx', '4xx', '5xx']
    .filter((c) => r.responses[c])
    .map((c) => `${c} ${fmt(r.responses[c]!)}`)
    .join(', ') || '— (no HTTP)';
// The stateful targets (issue 22) count sequences of commands, each followed by every read path.
const runsCell = (r: TargetRecord) =>
  r.steps === undefined ? fmt(r.runs) : `${fmt(r.runs)} sequences, ${fmt(r.steps)} steps`;
const rows = records.map(
  (r) =>
    `| ${r.target} | ${runsCell(r)} | ${r.failures} | ${classes(r)} | ${r.steps === undefined ? fmt(r.transactions_checked) : '— (model)'} | ${(r.ms / 1000).toFixed(1)} s | ${r.seed} |`,
);
const single = records.filter((r) => r.steps === undefined);
const stateful = records.filter((r) => r.steps !== undefined);
const total = single.reduce((s, r) => s + r.runs, 0);
const sequences = stateful.reduce((s, r) => s + r.runs, 0);
const steps = stateful.reduce((s, r) => s + (r.steps ?? 0), 0);
const failed = records.reduce((s, r) => s + r.failures, 0);
const short = records.filter((r) => r.runs < (r.asked ?? runs));
const table = [
  `Measured by \`npm run fuzz\` on ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC: Node ${process.version}, ` +
    `${cpus().length} cores, 1-minute load average ${loadBefore.toFixed(1)} at the start and ${loadAfter.toFixed(1)} at the end ` +
    `(a shared machine), ${((Date.now() - started) / 60_000).toFixed(1)} min in all. FUZZ_RUNS=${runs}.`,
  '',
  '| Target | Runs | Failures | Responses (by status class) | Transactions checked at the end | Time | Seed |',
  '|---|---:|---:|---|---:|---:|---:|',
  ...rows,
  `| **all ${records.length} targets** | **${fmt(total)} runs${stateful.length > 0 ? `, ${fmt(sequences)} sequences (${fmt(steps)} steps)` : ''}** | **${failed}** | | | | |`,
].join('\n');

console.log(`\n${table}\n`);
const file = join(ROOT, 'RELIABILITY.md');
if (existsSync(file)) {
  const text = readFileSync(file, 'utf8');
  const m = /(<!-- fuzz:start -->\n)[\s\S]*?(\n<!-- fuzz:end -->)/.exec(text);
  if (m) {
    writeFileSync(file, text.replace(m[0], `${m[1]}${table}${m[2]}`));
    console.log('RELIABILITY.md: fuzz table updated');
  }
}
const ok = vitest.status === 0 && failed === 0 && short.length === 0 && records.length > 0;
if (short.length > 0)
  console.error(`targets with fewer runs than asked: ${short.map((r) => r.target).join(', ')}`);
process.exit(ok ? 0 : 1);
