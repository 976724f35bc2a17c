import type { TestCard } from '../../acquirer/acquirer-data.js';
import type { Delivery, DeliveryAttempt } from '../../callbacks/delivery.js';
import type { JournalEntry } from '../../journal/journal-entry.js';
import type { Merchant } from '../../merchants/merchant.js';
import { refundedTotal, STATUSES, type PaymentStatus, type Transaction } from '../../payments/transaction.js';
import { formatAlmaty, formatAmount } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { API_PREFIX } from '../links.js';
import { jsonTextView, jsonView, warningMarks } from './json-view.js';
import { journalRows, type CodeText } from './journal-view.js';
import { DASHBOARD_BASE, dashboardPage, sodiumImportMap } from './layout.js';

export type TxOperation = 'pay' | 'clear' | 'cancel' | 'refund';

/** Which buttons make sense in a status (the state machine still has the last word). */
export function allowedOperations(status: PaymentStatus): TxOperation[] {
  const ops: TxOperation[] = [];
  if (status === 'pending') ops.push('pay');
  if (status === 'success') ops.push('clear');
  if (status === 'pending' || status === 'authorized' || status === 'success') ops.push('cancel');
  if (status === 'completed' || status === 'partially_refunded') ops.push('refund');
  return ops;
}

export function statusBadge(status: string): SafeHtml {
  return html`<span class="badge status-${status}" data-status="${status}">${status}</span>`;
}

export const txHref = (hash: string) => `${DASHBOARD_BASE}/transactions/${hash}`;

export interface TxFilter {
  app_id?: string | undefined;
  status?: string | undefined;
  q?: string | undefined;
}

export interface TxListData {
  rows: Transaction[];
  merchants: ReadonlyMap<string, Merchant>;
  filter: TxFilter;
  /** All transactions in the sandbox (before filtering). */
  total: number;
  limit: number;
}

/** The live part of the list: re-rendered on every change and swapped in by dashboard.js. */
export function transactionsLive(d: TxListData): SafeHtml {
  const rows = d.rows.map((tx) => {
    const m = d.merchants.get(tx.app_id);
    return html`<tr data-hash="${tx.hash}" data-order-id="${tx.order_id}">
  <td class="nowrap muted">${formatAlmaty(tx.created_at)}</td>
  <td><a class="mono" href="${txHref(tx.hash)}">${tx.order_id}</a></td>
  <td>${m?.name ?? tx.app_id}</td>
  <td class="num">${formatAmount(tx.amount)}</td>
  <td>${statusBadge(tx.status)}</td>
  <td class="desc">${tx.description}</td>
  <td class="mono small">${tx.card?.masked ?? ''}</td>
  <td class="mono small muted">${tx.hash.slice(0, 12)}…</td>
</tr>`;
  });
  return html`<div id="live" data-live="transactions">
<p class="muted small" id="tx-count">${d.rows.length} shown · ${d.total} in the sandbox${d.rows.length >= d.limit ? ` · newest ${d.limit}` : ''}</p>
${
  d.rows.length === 0
    ? html`<div class="empty card"><p>No transactions${d.filter.app_id || d.filter.status || d.filter.q ? ' match these filters' : ' yet'}.</p>
<p class="muted small">Create one with <code>POST ${API_PREFIX}/payment</code>, or open the <a href="/demo">demo shop</a>.</p></div>`
    : html`<table class="grid" id="tx-table">
<thead><tr><th>Created (+06:00)</th><th>Order</th><th>Merchant</th><th class="num">Amount</th><th>Status</th><th>Description</th><th>Card</th><th>Hash</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}
</div>`;
}

export function transactionsPage(d: TxListData, signedIn: boolean): string {
  const merchantOptions = [...d.merchants.values()].map(
    (m) =>
      html`<option value="${m.app_id}" ${d.filter.app_id === m.app_id ? 'selected' : ''}>${m.name}</option>`,
  );
  const statusOptions = STATUSES.map(
    (s) => html`<option value="${s}" ${d.filter.status === s ? 'selected' : ''}>${s}</option>`,
  );
  const body = html`<div class="page-head">
  <h1>Transactions</h1>
  <div class="actions-row">
    <button type="button" class="secondary" data-api="POST /__admin/callbacks/flush" data-label="Flush callbacks" id="flush-all">Flush pending callbacks</button>
  </div>
</div>
<form class="filters card" method="get" action="${DASHBOARD_BASE}/transactions" id="tx-filters">
  <label>Merchant <select name="app_id"><option value="">all</option>${merchantOptions}</select></label>
  <label>Status <select name="status"><option value="">any</option>${statusOptions}</select></label>
  <label class="grow">Search <input type="search" name="q" value="${d.filter.q ?? ''}" placeholder="order_id, description or hash"></label>
  <button type="submit" class="primary">Filter</button>
  <a href="${DASHBOARD_BASE}/transactions" class="button secondary">Clear</a>
</form>
${transactionsLive(d)}`;
  return dashboardPage({ title: 'Transactions', section: 'transactions', body, signedIn });
}

export interface TxDetailData {
  tx: Transaction;
  merchant: Merchant | undefined;
  appKey: string | undefined;
  /** Contract warnings about the create payload (unknown fields), recomputed from the contract. */
  warnings: string[];
  journal: JournalEntry[];
  deliveries: Delivery[];
  notes: Array<{ at: number; note: string }>;
  cards: TestCard[];
  otp: string;
  expYear: string;
  codeText: CodeText;
}

function attemptView(a: DeliveryAttempt): SafeHtml {
  const lines = (h: Record<string, string>) =>
    Object.entries(h)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n');
  return html`<li class="attempt verdict-${a.verdict}" data-attempt="${String(a.attempt)}">
  <div class="attempt-head">
    <span class="badge verdict-${a.verdict}">${a.verdict}</span>
    <strong>Attempt ${String(a.attempt)}</strong>
    <span class="muted">${formatAlmaty(a.at)} · ${a.trigger} · ${String(a.latency_ms)} ms</span>
    <span class="response-status">${a.sent ? `HTTP ${a.response_status ?? '—'}` : 'not sent'}</span>
  </div>
  <p class="reason">${a.reason}</p>
  <div class="two-col">
    <div><h4>Request</h4><pre class="code-block">POST\n${lines(a.request_headers)}</pre>${jsonTextView(a.request_body)}</div>
    <div data-testid="callback-response"><h4>Response</h4>${
      a.sent
        ? html`<pre class="code-block">${a.response_headers ? lines(a.response_headers) : '(no headers)'}</pre>${
            a.response_body
              ? html`<pre class="code-block raw-body">${a.response_body}</pre>`
              : html`<p class="muted small">(empty body)</p>`
          }`
        : html`<p class="muted">Nothing was sent.</p>`
    }</div>
  </div>
</li>`;
}

function deliveryView(d: Delivery): SafeHtml {
  return html`<article class="delivery card" data-delivery="${d.id}" data-state="${d.state}">
  <div class="delivery-head">
    <span class="badge delivery-${d.state}">${d.state}</span>
    <span class="mono small">${d.url}</span>
    <span class="muted small">status ${d.status} · ${d.attempts.length} attempt${d.attempts.length === 1 ? '' : 's'}${
      d.next_attempt_at ? ` · next at ${formatAlmaty(d.next_attempt_at)}` : ''
    }</span>
    <button type="button" class="secondary small" data-api="POST /__admin/callbacks/${d.id}/redeliver" data-label="Redeliver">Redeliver</button>
  </div>
  ${d.note ? html`<p class="muted small">${d.note}</p>` : ''}
  ${d.attempts.length > 0 ? html`<ol class="attempts">${d.attempts.map(attemptView)}</ol>` : html`<p class="muted">No attempt yet.</p>`}
</article>`;
}

function timeline(tx: Transaction): SafeHtml {
  return html`<ol class="timeline">${tx.history.map(
    (
      h,
    ) => html`<li><span class="dot status-${h.status}"></span><div class="tl-row"><span class="nowrap muted">${formatAlmaty(h.at)}</span> ${statusBadge(h.status)}
    <span class="event">${h.event}</span></div>${h.detail ? html`<div class="muted small">${h.detail}</div>` : ''}</li>`,
  )}</ol>`;
}

/** The live part of the detail page. */
export function transactionLive(d: TxDetailData): SafeHtml {
  const { tx } = d;
  const marks = warningMarks(d.warnings);
  const refunded = refundedTotal(tx);
  return html`<div id="live" data-live="transaction" data-hash="${tx.hash}" data-status="${tx.status}" data-allowed="${allowedOperations(tx.status).join(' ')}">
<section class="summary card">
  <div class="summary-main">
    <div class="amount">${formatAmount(tx.amount)}</div>
    <div>${statusBadge(tx.status)}${tx.error ? html` <span class="error-text">${tx.error.error_type}: ${tx.error.error_message}${tx.error.code ? ` (acquirer code ${tx.error.code})` : ''}</span>` : ''}</div>
  </div>
  <dl class="facts">
    <div><dt>Order</dt><dd class="mono" id="order-id">${tx.order_id}</dd></div>
    <div><dt>Merchant</dt><dd>${d.merchant?.name ?? '(deleted)'} <span class="mono small muted">${tx.app_id}</span></dd></div>
    <div><dt>Description</dt><dd id="description">${tx.description}</dd></div>
    <div><dt>Type</dt><dd>${tx.type}${tx.service ? html` · service ${String(tx.service.service_id)} / ${tx.service.contract_value}` : ''}</dd></div>
    <div><dt>Card</dt><dd class="mono">${tx.card ? `${tx.card.masked} · ${tx.card.brand} · ${tx.card.cardholder}` : '—'}</dd></div>
    <div><dt>Refunded</dt><dd>${refunded > 0 ? formatAmount(refunded) : '—'}</dd></div>
    <div><dt>Scenario</dt><dd>${tx.scenario ?? d.merchant?.scenario ?? '—'}</dd></div>
    <div><dt>Hash</dt><dd class="mono small">${tx.hash}</dd></div>
  </dl>
</section>
<div class="columns">
  <section class="card">
    <h2>Status timeline</h2>
    ${timeline(tx)}
  </section>
  <section class="card">
    <h2>Decrypted create payload</h2>
    ${
      d.warnings.length > 0
        ? html`<ul class="warnings" id="contract-warnings">${d.warnings.map((w) => html`<li>${w}</li>`)}</ul>`
        : html`<p class="muted small">No contract warnings.</p>`
    }
    <div id="payload">${jsonView(tx.payload, marks)}</div>
  </section>
</div>
<section class="card" id="callbacks">
  <div class="section-head"><h2>Callbacks</h2>
    <button type="button" class="secondary small" data-api="POST /__admin/callbacks/flush" data-label="Flush">Flush pending</button></div>
  ${d.notes.map((n) => html`<p class="note">${formatAlmaty(n.at)} · ${n.note}</p>`)}
  ${
    d.deliveries.length > 0
      ? d.deliveries.map(deliveryView)
      : html`<p class="muted">No callback yet: one is sent when the payment reaches completed, error or denied.</p>`
  }
</section>
<section class="card" id="journal">
  <h2>Journal <span class="muted small">every API request about this transaction</span></h2>
  ${d.journal.length > 0 ? journalRows(d.journal, d.codeText, { showOrder: false }) : html`<p class="muted">No journal entries.</p>`}
</section>
</div>`;
}

function actions(d: TxDetailData): SafeHtml {
  const { tx } = d;
  const cardOptions = d.cards.map(
    (c) => html`<option value="${c.pan}" data-brand="${c.brand}">${c.display} — ${c.result}</option>`,
  );
  const allowed = new Set(allowedOperations(tx.status));
  const dis = (op: TxOperation) => (allowed.has(op) ? '' : html`disabled`);
  const api = `${API_PREFIX}/payment/${tx.hash}`;
  return html`<section class="card actions" id="actions" data-app-id="${tx.app_id}" data-app-key="${d.appKey ?? ''}">
  <h2>Actions</h2>
  <form class="action-form" data-op="pay" data-api="POST /__admin/transactions/${tx.hash}/pay" data-label="Pay">
    <h3>Pay headlessly</h3>
    <label>Test card <select name="pan" id="pay-card">${cardOptions}</select></label>
    <div class="card-fields">
      <label>Month <input name="exp_month" value="12" inputmode="numeric" maxlength="2"></label>
      <label>Year <input name="exp_year" value="${d.expYear}" inputmode="numeric" maxlength="4"></label>
      <label>CVC <input name="cvc" value="123" inputmode="numeric" maxlength="4" data-cvc></label>
    </div>
    <label>Cardholder <input name="cardholder" value="TEST CARDHOLDER" placeholder="CODE 51 forces acquirer code 51"></label>
    <label>3-D Secure OTP <input name="otp" value="${d.otp}" size="6" placeholder="for challenge cards"></label>
    <button type="submit" class="primary" ${dis('pay')} id="pay-button">Pay</button>
  </form>
  <div class="action-buttons">
    <button type="button" data-op="clear" data-api="POST /__admin/transactions/${tx.hash}/clear" data-label="Clear" ${dis('clear')} id="clear-button">Clear now</button>
    <form class="action-form compact" data-op="cancel" data-api="POST ${api}/cancel" data-merchant-call data-label="Cancel">
      <input name="reason" placeholder="reason (optional)">
      <button type="submit" class="danger" ${dis('cancel')} id="cancel-button">Cancel</button>
    </form>
    <form class="action-form compact" data-op="refund" data-api="POST ${api}/refund" data-merchant-call data-label="Refund">
      <input name="amount" placeholder="amount (empty = all)" inputmode="decimal" data-type="number">
      <button type="submit" class="secondary" ${dis('refund')} id="refund-button">Refund</button>
    </form>
  </div>
  <p class="muted small">Pay and clear use the admin API; cancel and refund call the merchant API as
  merchant ${tx.app_id} would (sealed to its app_key in this browser) and show up in the journal.</p>
</section>`;
}

export function transactionPage(d: TxDetailData, signedIn: boolean): string {
  const body = html`<p class="crumbs"><a href="${DASHBOARD_BASE}/transactions">Transactions</a> › <span class="mono">${d.tx.order_id}</span></p>
<div class="detail-layout">
  <div class="detail-main">${transactionLive(d)}</div>
  <aside class="detail-side">${actions(d)}</aside>
</div>`;
  return dashboardPage({
    title: `Order ${d.tx.order_id}`,
    section: 'transactions',
    body,
    head: sodiumImportMap(),
    signedIn,
  });
}
