import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cleanEnv, type Launch } from './processes.js';

/**
 * The runner case: the wall time of `ktpay-mock run` with the built-in suite against the correct
 * fixture merchant (issue 7), from spawn to exit.
 *
 * It is measured only when this build has both parts: the `run` subcommand (listed by
 * `ktpay-mock --help`) and `test/fixtures/merchants/correct/`. The run starts in the fixture's
 * folder, so the check config there (`ktpay-mock.check.yaml`, issue 7's convention) names the
 * merchant, its trigger and the suite. Anything missing is reported in plain words, never a figure.
 */
export interface RunnerSetup {
  /** `node dist/mock-server/cli.js` (without a subcommand). */
  cli: Launch;
  /** The correct fixture merchant's folder. */
  fixtureDir: string;
  /** Give up after this long (the target is 15 s). */
  timeoutMs: number;
}

export type RunnerOutcome = { ok: true; seconds: number; note: string } | { ok: false; reason: string };

/** Whether the CLI lists a `run` command. Never starts a server: only `--help` is called. */
export function cliHasRun(cli: Launch): boolean {
  const res = spawnSync(cli.command, [...cli.args, '--help'], {
    cwd: cli.cwd,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 15_000,
  });
  return res.status === 0 && /^\s+run\b/m.test(res.stdout);
}

/** `--parallel` of the second runner row (issue 18: the built-in suite in ≤ 3 s). */
export const RUNNER_PARALLEL = 4;

/** `extra` are more `run` flags (e.g. `--parallel 4`); the note names them. */
export async function measureRunner(setup: RunnerSetup, extra: string[] = []): Promise<RunnerOutcome> {
  if (!cliHasRun(setup.cli))
    return {
      ok: false,
      reason: 'runner: not available in this build (`ktpay-mock --help` lists no `run` command)',
    };
  if (!existsSync(setup.fixtureDir)) {
    return {
      ok: false,
      reason: `runner: not available in this build (no correct fixture merchant at ${setup.fixtureDir})`,
    };
  }
  const checkConfig = readdirSync(setup.fixtureDir).find((f) => /^ktpay-mock\.check\.(ya?ml|json)$/.test(f));
  const out = mkdtempSync(join(tmpdir(), 'ktpay-bench-runner-'));
  const args = [
    ...setup.cli.args,
    'run',
    ...(checkConfig ? ['--config', checkConfig] : []),
    '--reporter',
    'json',
    '--out',
    out,
    ...extra,
  ];
  try {
    const started = performance.now();
    const result = await new Promise<{ code: number | null; stderr: string; timedOut: boolean }>(
      (resolve) => {
        const child = spawn(setup.cli.command, args, {
          cwd: setup.fixtureDir,
          env: cleanEnv(),
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        let timedOut = false;
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (d: string) => {
          if (stderr.length < 4000) stderr += d;
        });
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, setup.timeoutMs);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, stderr, timedOut });
        });
      },
    );
    const seconds = (performance.now() - started) / 1000;
    if (result.timedOut)
      return { ok: false, reason: `runner: did not finish within ${setup.timeoutMs / 1000} s` };
    if (result.code !== 0) {
      return {
        ok: false,
        reason: `runner: \`ktpay-mock ${args.slice(setup.cli.args.length).join(' ')}\` exited ${result.code}: ${result.stderr.trim().slice(0, 300)}`,
      };
    }
    return {
      ok: true,
      seconds: Math.round(seconds * 100) / 100,
      note: `ktpay-mock run${checkConfig ? ` --config ${checkConfig}` : ''}${extra.length ? ` ${extra.join(' ')}` : ''} in the fixture folder; exit 0`,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
