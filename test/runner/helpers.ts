import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCommand, JSON_FILE, type RunIo } from '../../scenarios/runner/run-command.js';
import type { RunFlags } from '../../scenarios/runner/check-config.js';
import type { RunReport } from '../../scenarios/runner/outcome.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CORRECT_CONFIG = fileURLToPath(
  new URL('../fixtures/merchants/correct/ktpay-mock.check.yaml', import.meta.url),
);
export const SUITE_DIR = fileURLToPath(new URL('../../scenarios/suites/merchant-checks/', import.meta.url));

/** The scenario names of the built-in suite, from its files (name = file name without the numeric prefix). */
export const suiteNames = () =>
  readdirSync(SUITE_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => f.replace(/^\d+-/, '').replace(/\.yaml$/, ''));

/** Built-in scenarios that run only with a browser trigger (skipped for an HTTP shop). */
export const BROWSER_ONLY = ['widget-close'];

/** Runs `ktpay-mock run` in-process (the CLI's own implementation, minus process.exit). */
export async function runInProcess(
  flags: RunFlags,
): Promise<{ code: number; report: RunReport | undefined; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: RunIo = {
    cwd: ROOT,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    live: false,
    color: false,
  };
  const { code } = await runCommand(flags, io);
  let report: RunReport | undefined;
  if (flags.out && flags.reporters?.includes('json')) {
    try {
      report = JSON.parse(readFileSync(`${flags.out}/${JSON_FILE}`, 'utf8')) as RunReport;
    } catch {
      report = undefined;
    }
  }
  return { code, report, stdout, stderr };
}

/** `ktpay-mock run …` in a process of its own (the CLI from source), as a CI job runs it. */
export function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'mock-server/cli.ts', 'run', ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}
