import type { JournalEntry } from '../../journal/journal-entry.js';
import type { Merchant } from '../../merchants/merchant.js';
import { formatAlmaty } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { jsonView, warningMarks } from './json-view.js';
import { DASHBOARD_BASE, dashboardPage } from './layout.js';

/** A catalog code's texts, for saying in words what a failed request ran into. */
export type CodeText = (
  code: number,
) => { message: string; message_en?: string | undefined; hint: string } | undefined;

function headersText(h: Record<string, string>): string {
  return Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}

function entryRow(e: JournalEntry, codeText: CodeText, showOrder: boolean): SafeHtml {
  const code = e.verdict.error_code;
  const text = code !== null ? codeText(code) : undefined;
  const failed = !e.verdict.ok;
  const txLink = e.transaction_hash ? `${DASHBOARD_BASE}/transactions/${e.transaction_hash}` : null;
  return html`<li class="entry ${failed ? 'failed' : 'ok'}" data-entry="${String(e.id)}" data-code="${code === null ? '' : String(code)}">
  <details>
    <summary>
      <span class="nowrap muted">${formatAlmaty(e.at)}</span>
      <span class="method">${e.method}</span>
      <span class="mono path">${e.path}</span>
      <span class="badge ${failed ? 'http-fail' : 'http-ok'}">${e.response.status === 0 ? 'note' : String(e.response.status)}</span>
      ${code !== null ? html`<span class="code-badge" title="${text?.hint ?? ''}">${String(code)}</span>` : ''}
      ${showOrder && e.order_id ? html`<span class="mono small">${e.order_id}</span>` : ''}
      ${failed ? html`<span class="summary-reason">${e.verdict.explanation ?? text?.message_en ?? text?.message ?? ''}</span>` : ''}
      ${e.verdict.contract_warnings.length > 0 && e.method !== 'CALLBACK' ? html`<span class="badge warn-badge">${e.verdict.contract_warnings.length} warning${e.verdict.contract_warnings.length === 1 ? '' : 's'}</span>` : ''}
      ${e.verdict.scenario ? html`<span class="badge scenario-badge">scenario ${e.verdict.scenario}</span>` : ''}
    </summary>
    <div class="entry-body">
      ${
        failed || e.verdict.explanation
          ? html`<div class="explain">
        ${text ? html`<p><strong>${text.message_en ?? text.message}</strong>${text.message_en ? html` <span class="muted">(${text.message})</span>` : ''}</p>` : ''}
        ${e.verdict.explanation ? html`<p class="explanation">${e.verdict.explanation}</p>` : ''}
        ${text ? html`<p class="muted small">${text.hint}</p>` : ''}
      </div>`
          : ''
      }
      ${e.verdict.contract_warnings.length > 0 && e.method !== 'CALLBACK' ? html`<ul class="warnings">${e.verdict.contract_warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
      ${txLink ? html`<p class="small"><a href="${txLink}">Transaction ${e.order_id ?? e.transaction_hash}</a></p>` : ''}
      <div class="two-col">
        <div><h4>Request headers</h4><pre class="code-block">${headersText(e.headers)}</pre>
          <p class="muted small">${String(e.raw_body_size)} bytes received · ${String(e.duration_ms)} ms</p>
          ${e.decrypted !== null ? html`<h4>Decrypted body</h4>${jsonView(e.decrypted, warningMarks(e.verdict.contract_warnings))}` : ''}</div>
        <div><h4>Response</h4>${jsonView(e.response.body)}</div>
      </div>
    </div>
  </details>
</li>`;
}

/** Journal entries as an expandable list; failed ones carry the code and the plain-words reason. */
export function journalRows(
  entries: readonly JournalEntry[],
  codeText: CodeText,
  opts: { showOrder: boolean },
): SafeHtml {
  return html`<ol class="journal-list">${entries.map((e) => entryRow(e, codeText, opts.showOrder))}</ol>`;
}

export interface JournalData {
  entries: JournalEntry[];
  failedOnly: boolean;
  app_id: string | undefined;
  merchants: ReadonlyMap<string, Merchant>;
  codeText: CodeText;
}

export function journalLive(d: JournalData): SafeHtml {
  return html`<div id="live" data-live="journal">
${
  d.entries.length === 0
    ? html`<div class="empty card"><p>${d.failedOnly ? 'No failed requests.' : 'The journal is empty.'}</p></div>`
    : html`<section class="card">${journalRows(d.entries, d.codeText, { showOrder: true })}</section>`
}
</div>`;
}

export function journalPage(d: JournalData, signedIn: boolean): string {
  const options = [...d.merchants.values()].map(
    (m) => html`<option value="${m.app_id}" ${d.app_id === m.app_id ? 'selected' : ''}>${m.name}</option>`,
  );
  const body = html`<div class="page-head"><h1>Journal</h1></div>
<form class="filters card" method="get" action="${DASHBOARD_BASE}/journal">
  <div class="tabs" role="group" aria-label="Which requests">
    <label class="tab"><input type="radio" name="show" value="failed" ${d.failedOnly ? 'checked' : ''} data-autosubmit> Failed</label>
    <label class="tab"><input type="radio" name="show" value="all" ${d.failedOnly ? '' : 'checked'} data-autosubmit> All</label>
  </div>
  <label>Merchant <select name="app_id" data-autosubmit><option value="">all</option>${options}</select></label>
  <noscript><button type="submit">Apply</button></noscript>
</form>
${journalLive(d)}`;
  return dashboardPage({ title: 'Journal', section: 'journal', body, signedIn });
}
