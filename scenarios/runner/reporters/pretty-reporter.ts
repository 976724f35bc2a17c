import type { RunObserver } from '../engine.js';
import type { RunReport, ScenarioResult } from '../outcome.js';
import { allFailures, failureLines } from './junit-reporter.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface PrettyOptions {
  write: (text: string) => void;
  /** Live progress (spinner, scenario N/M, current step) redrawn in place; plain lines when false. */
  live: boolean;
  color: boolean;
}

const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`);

/**
 * The human reporter. On a TTY it keeps one status line, "⠹ [3/21] decline-issuer — pay …",
 * redrawn with a spinner; in CI (no TTY, or CI set) it prints one plain line per scenario. Either
 * way each failure is printed in full: what was expected, what happened, the evidence, the fix.
 */
export function createPrettyReporter(
  o: PrettyOptions,
): RunObserver & { finish(report: RunReport): void; stop(): void } {
  const paint = (code: number, s: string) => (o.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const green = (s: string) => paint(32, s);
  const red = (s: string) => paint(31, s);
  const yellow = (s: string) => paint(33, s);
  const dim = (s: string) => paint(2, s);
  let status = '';
  /** The running scenarios' status lines, newest last (several run at once with --parallel). */
  const running = new Map<number, string>();
  const refresh = () => {
    const lines = [...running.values()];
    const newest = lines.at(-1) ?? '';
    status = lines.length > 1 ? `${newest} (+${lines.length - 1} more running)` : newest;
  };
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const cols = () => (process.stdout.columns ?? 100) - 1;
  const draw = () => {
    if (!o.live || !status) return;
    frame = (frame + 1) % FRAMES.length;
    o.write(`\r\u001b[2K${`${FRAMES[frame]} ${status}`.slice(0, cols())}`);
  };
  const clearLine = () => {
    if (o.live) o.write('\r\u001b[2K');
  };
  const line = (text: string) => {
    clearLine();
    o.write(`${text}\n`);
    draw();
  };
  const describe = (r: ScenarioResult, index: number, total: number) => {
    const head = `[${index}/${total}]`;
    if (r.status === 'passed') return `${green('✓')} ${dim(head)} ${r.name} ${dim(`(${ms(r.duration_ms)})`)}`;
    if (r.status === 'skipped')
      return `${yellow('-')} ${dim(head)} ${r.name} ${yellow(`skipped: ${r.skip_reason ?? ''}`)}`;
    const failures = allFailures(r);
    const lines = failures.length
      ? failures.flatMap((f) => failureLines(f).map((l, i) => `    ${i === 0 ? red(l) : l}`))
      : [`    ${red('failed')}`];
    return [`${red('✗')} ${dim(head)} ${r.name} ${dim(`(${ms(r.duration_ms)})`)}`, ...lines].join('\n');
  };
  return {
    onRunStart(info) {
      line(
        `ktpay-mock run: ${info.total} scenario${info.total === 1 ? '' : 's'}${info.parallel > 1 ? `, ${info.parallel} at a time,` : ''} against ${info.mode === 'embedded' ? 'an embedded sandbox' : 'the sandbox'} at ${info.sandbox}, merchant ${info.merchant}, seed ${info.seed}`,
      );
      if (o.live) timer = setInterval(draw, 80);
    },
    onScenarioStart(index, total, s) {
      running.delete(index);
      running.set(index, `[${index}/${total}] ${s.name}`);
      refresh();
      if (!o.live) return;
      draw();
    },
    onStep(index, total, s, step, explain) {
      running.set(index, `[${index}/${total}] ${s.name} — ${step}. ${explain}`);
      refresh();
      draw();
    },
    onScenarioEnd(index, total, r) {
      running.delete(index);
      refresh();
      line(describe(r, index, total));
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      status = '';
      clearLine();
    },
    finish(report) {
      this.stop();
      const s = report.summary;
      const parts = [
        `${s.passed} passed`,
        `${s.failed} failed`,
        ...(s.skipped ? [`${s.skipped} skipped`] : []),
      ];
      const verdict = s.failed === 0 ? green('PASS') : red('FAIL');
      if (report.probe) {
        const drifts = report.probe.drifts;
        const counts = [
          `${s.passed} match`,
          `${s.failed} drifted`,
          ...(s.skipped ? [`${s.skipped} skipped`] : []),
        ];
        o.write(
          `\n${verdict} ${counts.join(', ')} of ${s.total} probes; ${drifts} drift${drifts === 1 ? '' : 's'} in ${ms(report.duration_ms)}\n`,
        );
        return;
      }
      const seed = report.seed !== null ? ` (seed ${report.seed}; rerun with --seed ${report.seed})` : '';
      o.write(`\n${verdict} ${parts.join(', ')} in ${ms(report.duration_ms)}${seed}\n`);
    },
  };
}
