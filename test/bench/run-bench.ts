import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectPath } from '../../mock-server/shared/project-root.js';
import { hasDist, runBench, type BenchOptions, type BenchReport, type BenchSettings } from './harness.js';
import { renderMarkdown, renderText } from './report.js';

/** The settings of `npm run bench`: issue 10's sizes, sized to finish well inside 5 minutes on 2 cores. */
export const FULL_SETTINGS: BenchSettings = {
  rounds: 3,
  seconds: 2.5,
  warmup: 0.5,
  connections: 50,
  callbacks: 10_000,
  failing_callbacks: 10_000,
  memory_transactions: 100_000,
  startup_samples: 10,
  postgres_callbacks: 1000,
};

/** How the bench starts its processes from a project root: the built sandbox, and the floor via tsx. */
export function launches(root: string, sandboxEntry: 'dist' | 'source' = 'dist') {
  const node = process.execPath;
  const cli =
    sandboxEntry === 'dist'
      ? { command: node, args: [join(root, 'dist', 'mock-server', 'cli.js')], cwd: root }
      : { command: node, args: ['--import', 'tsx', join(root, 'mock-server', 'cli.ts')], cwd: root };
  return {
    sandbox: { ...cli, args: [...cli.args, 'serve'] },
    floor: {
      command: node,
      args: ['--import', 'tsx', join(root, 'test', 'bench', 'floor-server.ts')],
      cwd: root,
    },
    runner: { cli, fixtureDir: join(root, 'test', 'fixtures', 'merchants', 'correct'), timeoutMs: 120_000 },
    // What a user types; it runs the built CLI, so only the dist bench measures it.
    ...(sandboxEntry === 'dist' ? { npmStart: { command: 'npm', args: ['start'], cwd: root } } : {}),
  };
}

/**
 * Runs the bench and writes the Markdown report to `out`.
 *
 * @example
 * await benchToFile({ ...FULL_SETTINGS, out: 'BENCHMARKS.md' });
 */
export async function benchToFile(
  settings: BenchSettings & {
    out: string;
    sandboxEntry?: 'dist' | 'source';
    log?: (line: string) => void;
    command?: string;
    /** Measure Prism and WireMock too (`npm run bench -- --peers`). */
    peers?: boolean;
  },
): Promise<{ report: BenchReport; markdown: string }> {
  const root = projectPath();
  const entry = settings.sandboxEntry ?? 'dist';
  if (entry === 'dist' && !hasDist(root))
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  const options: BenchOptions = {
    ...settings,
    ...launches(root, entry),
    ...(settings.peers ? { peers: true } : {}),
    log: settings.log ?? (() => undefined),
  };
  const report = await runBench(options);
  const markdown = renderMarkdown(report, { command: settings.command ?? 'npm run bench' });
  writeFileSync(settings.out, markdown);
  return { report, markdown };
}

/** The newest modification time of the TypeScript sources that `npm run build` compiles. */
function newestSource(root: string): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
        newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of ['mock-server', 'contracts', 'scenarios'])
    if (existsSync(join(root, dir))) walk(join(root, dir));
  return newest;
}

/** dist/ exists and its CLI bundle is newer than every source file `npm run build` compiles. */
export function distIsCurrent(root: string): boolean {
  const cli = join(root, 'dist', 'mock-server', 'cli.js');
  return existsSync(cli) && statSync(cli).mtimeMs >= newestSource(root);
}

/**
 * Runs `npm run build` (tsc, the contract validators and the esbuild bundle of the CLI, which is
 * what `npm start` runs) unless dist/ is newer than every source file: a clean clone has a fresh
 * one from `npm ci`, and the build is 20-40 s of the 5-minute budget. Returns the seconds spent.
 */
export function buildIfStale(root: string, log: (line: string) => void): number {
  if (distIsCurrent(root)) {
    log('dist/ is newer than the sources: no build needed');
    return 0;
  }
  log('dist/ is missing or older than the sources: building (npm run build)…');
  const started = performance.now();
  const res = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0)
    throw new Error(
      `the build failed (npm run build exited ${res.status}); fix it, then run the bench again`,
    );
  return (performance.now() - started) / 1000;
}

async function main() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: projectPath('BENCHMARKS.md') },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      peers: { type: 'boolean', default: false },
    },
  });
  const settings: BenchSettings = values.quick
    ? {
        ...FULL_SETTINGS,
        rounds: 1,
        seconds: 1,
        warmup: 0.5,
        callbacks: 1000,
        failing_callbacks: 1000,
        memory_transactions: 5000,
        startup_samples: 3,
        postgres_callbacks: 300,
      }
    : { ...FULL_SETTINGS };
  if (values.rounds) settings.rounds = Number(values.rounds);
  if (values.seconds) settings.seconds = Number(values.seconds);
  const t0 = performance.now();
  const log = (line: string) =>
    process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
  log(`ktpay-mock bench → ${values.out}`);
  buildIfStale(projectPath(), log);
  const { report } = await benchToFile({
    ...settings,
    out: values.out,
    log,
    peers: values.peers,
    command: values.peers ? 'npm run bench -- --peers' : 'npm run bench',
  });
  log('');
  log(renderText(report));
  for (const n of report.notes) log(`note: ${n}`);
  log(`\nwrote ${values.out} (${((performance.now() - t0) / 1000).toFixed(0)} s in all, build included)`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  });
}
