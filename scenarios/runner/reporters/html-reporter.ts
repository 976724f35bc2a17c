import type { Evidence, RunReport, ScenarioResult, StepResult } from '../outcome.js';

/**
 * Text for HTML: every character that could open markup or leave an attribute is escaped, so text
 * that came from the shop (its answers, its pages) is shown, never run.
 */
export function escapeHtml(text: unknown): string {
  return String(text).replace(
    /[&<>"'`]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!,
  );
}

/** Links into the sandbox that ran the checks: its dashboard pages and the admin API's JSON. */
export function sandboxLinks(report: Pick<RunReport, 'sandbox' | 'merchant'>) {
  const base = /^https?:\/\/[^\s"'<>]+$/.test(report.sandbox.url)
    ? report.sandbox.url.replace(/\/+$/, '')
    : undefined;
  const hex = (h: string | null | undefined) => (h && /^[0-9a-f]{40}$/.test(h) ? h : undefined);
  const app = encodeURIComponent(report.merchant.app_id);
  return {
    dashboard: base ? `${base}/__admin/ui/transactions?app_id=${app}` : undefined,
    transaction: (hash: string | null) =>
      base && hex(hash) ? `${base}/__admin/ui/transactions/${hash}` : undefined,
    journal: (hash: string | null) =>
      base
        ? hex(hash)
          ? {
              page: `${base}/__admin/ui/transactions/${hash}#journal`,
              json: `${base}/__admin/journal?transaction_hash=${hash}`,
            }
          : {
              page: `${base}/__admin/ui/journal?app_id=${app}&show=all`,
              json: `${base}/__admin/journal?app_id=${app}`,
            }
        : undefined,
    delivery: (hash: string | null, id: string) =>
      base
        ? {
            page: hex(hash) ? `${base}/__admin/ui/transactions/${hash}#callbacks` : undefined,
            json: `${base}/__admin/callbacks/${encodeURIComponent(id)}`,
          }
        : undefined,
  };
}

const a = (href: string | undefined, text: string) =>
  href ? `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>` : escapeHtml(text);

const seconds = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);

const STATUS_MARK: Record<string, string> = { passed: '✓', failed: '✗', skipped: '–', not_run: '·' };

const CSS = `
:root{--ok:#1a7f37;--fail:#c4282d;--skip:#8a6d00;--muted:#5d6470;--line:#dde1e6;--bg:#f6f7f9}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2127;background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}
.muted{color:var(--muted)}.mono,code,pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600;margin-right:8px}
.verdict.ok{background:var(--ok)}.verdict.fail{background:var(--fail)}
.meta{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:6px 18px;margin:14px 0;padding:12px 14px;background:#fff;border:1px solid var(--line);border-radius:6px}
.meta dt{font-size:12px;color:var(--muted)}.meta dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);border-radius:6px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);font-weight:600}
.passed .mark{color:var(--ok)}.failed .mark{color:var(--fail)}.skipped .mark,.not_run .mark{color:var(--skip)}
.mark{font-weight:700;width:1.2em;display:inline-block}
details.scenario{background:#fff;border:1px solid var(--line);border-radius:6px;margin:10px 0}
details.scenario>summary{cursor:pointer;padding:10px 14px;font-weight:600}
details.scenario.failed{border-left:4px solid var(--fail)}details.scenario.passed{border-left:4px solid var(--ok)}details.scenario.skipped{border-left:4px solid var(--skip)}
.body{padding:0 14px 14px}
ol.steps{padding-left:0;list-style:none;margin:8px 0}
ol.steps li{padding:6px 0;border-top:1px dashed var(--line)}
ol.steps .notes{margin:4px 0 0 1.6em;padding:0;list-style:disc;color:var(--muted);font-size:13px}
.failure{margin:10px 0;padding:10px 14px;border:1px solid #f0c2c4;background:#fff6f6;border-radius:6px}
.failure h3{margin:0 0 6px;font-size:15px;color:var(--fail)}
.failure dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}
.failure dt{font-weight:600}.failure dd{margin:0;min-width:0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;background:#fff;border:1px solid var(--line);padding:6px 8px;border-radius:4px}
.check{font-family:ui-monospace,monospace;background:#eef0f3;padding:0 6px;border-radius:3px}
a{color:#0b5cad}
`;

function evidenceHtml(e: Evidence, r: ScenarioResult, links: ReturnType<typeof sandboxLinks>): string {
  const items: string[] = [];
  if (e.journal_entry !== undefined) {
    const j = links.journal(r.transaction_hash);
    items.push(
      `journal entry ${escapeHtml(e.journal_entry)}${j ? ` — ${a(j.page, 'dashboard')} · ${a(j.json, 'JSON')}` : ''}`,
    );
  }
  if (e.delivery) {
    const d = links.delivery(r.transaction_hash, e.delivery);
    items.push(
      `callback delivery <span class="mono">${escapeHtml(e.delivery)}</span>${e.attempt !== undefined ? `, attempt ${escapeHtml(e.attempt)}` : ''}${d ? ` — ${d.page ? `${a(d.page, 'dashboard')} · ` : ''}${a(d.json, 'JSON')}` : ''}`,
    );
  }
  if (e.request) items.push(`request <span class="mono">${escapeHtml(e.request)}</span>`);
  if (e.response) items.push(`response <pre>${escapeHtml(e.response)}</pre>`);
  if (e.path && e.path.length > 0)
    items.push(
      `shopper path<ol>${e.path.map((p) => `<li class="mono">${escapeHtml(p)}</li>`).join('')}</ol>`,
    );
  return items.length
    ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>`
    : '<span class="muted">none</span>';
}

function stepHtml(s: StepResult): string {
  return `<li class="${escapeHtml(s.status)}"><span class="mark" title="${escapeHtml(s.status)}">${STATUS_MARK[s.status] ?? '?'}</span>${escapeHtml(s.index)}. ${escapeHtml(s.explain)} <span class="muted">(${escapeHtml(s.type)}${s.status === 'not_run' ? ', not run' : `, ${seconds(s.duration_ms)}`})</span>${
    s.notes.length ? `<ul class="notes">${s.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''
  }</li>`;
}

function scenarioHtml(r: ScenarioResult, i: number, links: ReturnType<typeof sandboxLinks>): string {
  const f = r.failure;
  const tx = links.transaction(r.transaction_hash);
  const failure = f
    ? `<section class="failure"><h3>Step ${escapeHtml(f.step)} ${escapeHtml(f.step_type)}: ${escapeHtml(f.message)} <span class="check">${escapeHtml(f.check)}</span></h3><dl>
<dt>Expected</dt><dd><pre>${escapeHtml(f.expected)}</pre></dd>
<dt>Actual</dt><dd><pre>${escapeHtml(f.actual)}</pre></dd>
<dt>Evidence</dt><dd>${evidenceHtml(f.evidence, r, links)}</dd>
<dt>Fix</dt><dd>${escapeHtml(f.hint)}</dd></dl></section>`
    : '';
  const facts = [
    r.order_id ? `order <span class="mono">${escapeHtml(r.order_id)}</span>` : '',
    r.transaction_hash ? `transaction ${a(tx, r.transaction_hash)}` : '',
    r.sandbox_scenario ? `sandbox scenario <span class="mono">${escapeHtml(r.sandbox_scenario)}</span>` : '',
    r.skip_reason ? `skipped: ${escapeHtml(r.skip_reason)}` : '',
    `<span class="mono">${escapeHtml(r.file)}</span>`,
  ].filter(Boolean);
  return `<details class="scenario ${escapeHtml(r.status)}" id="s-${i + 1}"${r.status === 'failed' ? ' open' : ''}>
<summary><span class="mark">${STATUS_MARK[r.status] ?? '?'}</span>${escapeHtml(r.name)} <span class="muted">— ${escapeHtml(r.status)}, ${seconds(r.duration_ms)}</span></summary>
<div class="body"><p>${escapeHtml(r.description)}</p><p class="muted">${facts.join(' · ')}</p>${failure}
<ol class="steps">${r.steps.map(stepHtml).join('')}</ol></div></details>`;
}

/**
 * The HTML report: one self-contained page (inline CSS, no script, no request to anywhere; its
 * Content-Security-Policy forbids them) with the verdict, each scenario, its steps and notes, and
 * each failure with expected, actual, evidence and the fix, linked to the sandbox's dashboard and
 * admin API. It depends on the report data only, so any command that produces a {@link RunReport}
 * can write it.
 *
 * @example
 * writeFileSync('reports/ktpay-mock-report.html', htmlReport(report));
 */
export function htmlReport(report: RunReport): string {
  const links = sandboxLinks(report);
  const s = report.summary;
  const ok = s.failed === 0;
  const title = `ktpay-mock run: ${ok ? 'PASS' : 'FAIL'} — ${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}`;
  const rows = report.scenarios
    .map(
      (r, i) =>
        `<tr class="${escapeHtml(r.status)}"><td><span class="mark">${STATUS_MARK[r.status] ?? '?'}</span><a href="#s-${i + 1}">${escapeHtml(r.name)}</a></td><td>${escapeHtml(r.suite)}</td><td>${r.status === 'skipped' ? '' : seconds(r.duration_ms)}</td><td>${r.failure ? `<span class="check">${escapeHtml(r.failure.check)}</span> ${escapeHtml(r.failure.message)}` : r.skip_reason ? `<span class="muted">${escapeHtml(r.skip_reason)}</span>` : ''}</td></tr>`,
    )
    .join('\n');
  const meta: [string, string][] = [
    ['Started', escapeHtml(report.started_at)],
    ['Duration', seconds(report.duration_ms)],
    [
      'Seed',
      `${escapeHtml(report.seed)} <span class="muted">(rerun with --seed ${escapeHtml(report.seed)})</span>`,
    ],
    ['Sandbox', `${escapeHtml(report.sandbox.mode)}: ${a(links.dashboard, report.sandbox.url)}`],
    [
      'Merchant',
      `<span class="mono">${escapeHtml(report.merchant.app_id)}</span>${report.merchant.created ? ' <span class="muted">(created for the run)</span>' : ''}`,
    ],
    ['Trigger', escapeHtml(report.trigger)],
    ['Scenarios at a time', escapeHtml(report.parallel)],
    ['Tool', `${escapeHtml(report.tool)} ${escapeHtml(report.version)}`],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1><span class="verdict ${ok ? 'ok' : 'fail'}">${ok ? 'PASS' : 'FAIL'}</span>${escapeHtml(s.passed)} passed, ${escapeHtml(s.failed)} failed${s.skipped ? `, ${escapeHtml(s.skipped)} skipped` : ''} <span class="muted">of ${escapeHtml(s.total)}</span></h1>
<dl class="meta">${meta.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl>
${report.sandbox.mode === 'embedded' ? '<p class="muted">The embedded sandbox stopped with the run: the dashboard and JSON links work against a sandbox that keeps running (<code>--sandbox</code>).</p>' : ''}
<h2>Scenarios</h2>
<table><thead><tr><th>Scenario</th><th>Suite</th><th>Time</th><th>Result</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Details</h2>
${report.scenarios.map((r, i) => scenarioHtml(r, i, links)).join('\n')}
</main>
</body>
</html>
`;
}
