import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckConfigError, loadCheckConfig, type RunFlags } from './check-config.js';
import { runChecks, RunSetupError, type RunObserver } from './engine.js';
import type { RunReport } from './outcome.js';
import { jsonReport } from './reporters/json-reporter.js';
import { junitReport } from './reporters/junit-reporter.js';
import { htmlReport } from './reporters/html-reporter.js';
import { createPrettyReporter } from './reporters/pretty-reporter.js';

export const JUNIT_FILE = 'ktpay-mock-junit.xml';
export const JSON_FILE = 'ktpay-mock-report.json';
export const HTML_FILE = 'ktpay-mock-report.html';

export interface RunIo {
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Draw live progress (a TTY outside CI). */
  live: boolean;
  color: boolean;
}

/**
 * `ktpay-mock run`: load the check config, run the suites, write the reports. Resolves with the
 * exit code: 0 when every scenario passed (skipped ones do not fail a run), 1 when one failed,
 * 2 when the run could not start (bad config, sandbox or app not reachable).
 *
 * @example
 * const code = await runCommand({ config: 'ktpay-mock.check.yaml', reporters: ['junit'] }, io);
 */
export async function runCommand(flags: RunFlags, io: RunIo): Promise<{ code: number; report?: RunReport }> {
  let config;
  try {
    config = loadCheckConfig(flags, io.cwd);
  } catch (err) {
    if (err instanceof CheckConfigError) {
      io.stderr(`ktpay-mock run: ${err.message}\n`);
      return { code: 2 };
    }
    throw err;
  }
  const pretty = config.reporters.includes('pretty')
    ? createPrettyReporter({ write: io.stdout, live: io.live, color: io.color })
    : undefined;
  const observer: RunObserver = pretty ?? {};
  let report: RunReport;
  try {
    report = await runChecks(config, observer);
  } catch (err) {
    pretty?.stop();
    // Anything else (a template naming an unknown variable in app.env, a file that vanished…) is
    // still a run that could not start: say so in one line rather than with a stack trace.
    const known = err instanceof CheckConfigError || err instanceof RunSetupError;
    io.stderr(`ktpay-mock run: ${known ? '' : 'could not run: '}${(err as Error).message ?? String(err)}\n`);
    return { code: 2 };
  }
  const written: string[] = [];
  const files = [
    ['junit', JUNIT_FILE, junitReport],
    ['json', JSON_FILE, jsonReport],
    ['html', HTML_FILE, htmlReport],
  ] as const;
  for (const [name, file, render] of files) {
    if (!config.reporters.includes(name)) continue;
    mkdirSync(config.out, { recursive: true });
    const path = join(config.out, file);
    writeFileSync(path, render(report));
    written.push(path);
  }
  if (pretty) {
    pretty.finish(report);
    for (const p of written) io.stdout(`report: ${p}\n`);
  } else {
    const s = report.summary;
    io.stderr(
      `ktpay-mock run: ${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}${written.length ? `; ${written.join(', ')}` : ''}\n`,
    );
  }
  return { code: report.summary.failed === 0 ? 0 : 1, report };
}
