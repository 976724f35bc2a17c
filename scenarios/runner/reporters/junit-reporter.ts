import type { FailureReport, RunReport, ScenarioResult } from '../outcome.js';

/** XML 1.0 text: escaped, with characters XML cannot hold dropped. */
export function xmlText(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
  );
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** The failure as lines a person can act on (also used by the pretty reporter). */
export function failureLines(f: FailureReport & { step: number; step_type: string }): string[] {
  const e = f.evidence;
  const evidence = [
    e.journal_entry !== undefined ? `journal entry ${e.journal_entry} (GET /__admin/journal)` : '',
    e.delivery
      ? `delivery ${e.delivery}${e.attempt !== undefined ? ` attempt ${e.attempt}` : ''} (GET /__admin/callbacks/${e.delivery})`
      : '',
    e.request ? `request ${e.request}` : '',
    e.response ? `response ${e.response}` : '',
    e.path && e.path.length > 0 ? `shopper path ${e.path.join(' → ')}` : '',
  ].filter(Boolean);
  const l = f.labels ?? { expected: 'expected', actual: 'actual', hint: 'fix' };
  const label = (name: string) => `${name}:`.padEnd(Math.max(10, name.length + 2));
  return [
    `step ${f.step} ${f.step_type}: ${f.message} [${f.check}]`,
    `${label(l.expected)}${f.expected}`,
    `${label(l.actual)}${f.actual}`,
    ...(evidence.length > 0 ? [`${label('evidence')}${evidence.join('; ')}`] : []),
    `${label(l.hint)}${f.hint}`,
  ];
}

/** Every failure of a scenario: the first, then the rest (the probe reports each drift). */
export function allFailures(r: ScenarioResult): (FailureReport & { step: number; step_type: string })[] {
  return r.failure ? [r.failure, ...(r.more_failures ?? [])] : [];
}

function testcase(r: ScenarioResult): string {
  const attrs = `classname="${xmlText(`ktpay-mock.${r.suite}`)}" name="${xmlText(r.name)}" file="${xmlText(r.file)}" time="${seconds(r.duration_ms)}"`;
  const steps = r.steps
    .map(
      (s) => `${s.index}. [${s.status}] ${s.explain}${s.notes.length ? `\n   ${s.notes.join('\n   ')}` : ''}`,
    )
    .join('\n');
  const out = `    <system-out>${xmlText(`${r.description}\n${r.order_id ? `order_id ${r.order_id}\n` : ''}${r.transaction_hash ? `transaction ${r.transaction_hash}\n` : ''}${steps}`)}</system-out>\n`;
  if (r.status === 'skipped')
    return `  <testcase ${attrs}>\n    <skipped message="${xmlText(r.skip_reason ?? 'skipped')}"/>\n${out}  </testcase>`;
  if (r.status === 'failed' && r.failure) {
    const more = r.more_failures?.length ? ` (+${r.more_failures.length} more)` : '';
    const body = allFailures(r)
      .map((f) => failureLines(f).join('\n'))
      .join('\n\n');
    return `  <testcase ${attrs}>\n    <failure message="${xmlText(`${r.failure.message} [${r.failure.check}]${more}`)}" type="${xmlText(r.failure.check)}">${xmlText(body)}</failure>\n${out}  </testcase>`;
  }
  return `  <testcase ${attrs}>\n${out}  </testcase>`;
}

/**
 * JUnit XML in the common shape CI servers read (one `<testsuite>` per suite, one `<testcase>`
 * per scenario; `<failure>` carries the check id as its type and the actionable text as body).
 */
export function junitReport(report: RunReport): string {
  const bySuite = new Map<string, ScenarioResult[]>();
  for (const r of report.scenarios) bySuite.set(r.suite, [...(bySuite.get(r.suite) ?? []), r]);
  const suites = [...bySuite.entries()].map(([name, rs]) => {
    const failures = rs.filter((r) => r.status === 'failed').length;
    const skipped = rs.filter((r) => r.status === 'skipped').length;
    const time = rs.reduce((t, r) => t + r.duration_ms, 0);
    const props = [
      ...(report.seed !== null ? [['seed', String(report.seed)]] : []),
      ...(report.probe ? [['upstream', report.probe.upstream]] : []),
      ['sandbox', report.sandbox.url],
      ['merchant', report.merchant.app_id],
    ]
      .map(([k, v]) => `    <property name="${k}" value="${xmlText(v!)}"/>`)
      .join('\n');
    return `<testsuite name="${xmlText(name)}" tests="${rs.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(time)}" timestamp="${report.started_at.replace(/\.\d+Z$/, '')}">\n  <properties>\n${props}\n  </properties>\n${rs.map(testcase).join('\n')}\n</testsuite>`;
  });
  const s = report.summary;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${report.tool}" tests="${s.total}" failures="${s.failed}" errors="0" skipped="${s.skipped}" time="${seconds(report.duration_ms)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
