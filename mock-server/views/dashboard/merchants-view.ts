import type { Merchant } from '../../merchants/merchant.js';
import { formatAlmaty } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { DASHBOARD_BASE, dashboardPage } from './layout.js';

export interface MerchantRow {
  merchant: Merchant;
  appKey: string;
}

export interface MerchantsData {
  rows: MerchantRow[];
  /** Every scenario a merchant can switch to (library and user-defined). */
  scenarios: Array<{ name: string; description: string }>;
  /** The scenario from the sandbox's configuration, active where a merchant sets none. */
  globalScenario: string | null;
  /** A fresh random key to prefill the form's `public_key` (the protocol never uses it). */
  suggestedPublicKey: string;
}

function copyable(label: string, value: string, id: string): SafeHtml {
  return html`<div class="copyable"><dt>${label}</dt><dd><code id="${id}">${value}</code>
  <button type="button" class="copy" data-copy="${value}" aria-label="Copy ${label}">Copy</button></dd></div>`;
}

function merchantCard(r: MerchantRow, d: MerchantsData): SafeHtml {
  const m = r.merchant;
  const options = d.scenarios.map(
    (s) =>
      html`<option value="${s.name}" ${m.scenario === s.name ? 'selected' : ''} title="${s.description}">${s.name}</option>`,
  );
  const urls = (
    ['callback_post_url', 'callback_back_url', 'callback_success_url', 'callback_failed_url'] as const
  ).filter((k) => m[k]);
  return html`<article class="card merchant" data-app-id="${m.app_id}">
  <div class="section-head">
    <h2>${m.name} ${m.builtin ? html`<span class="badge">built-in</span>` : ''}</h2>
    <a class="small" href="${DASHBOARD_BASE}/transactions?app_id=${encodeURIComponent(m.app_id)}">Transactions →</a>
  </div>
  <dl class="facts">
    ${copyable('app_id', m.app_id, `app-id-${m.app_id}`)}
    ${copyable('app_key', r.appKey, `app-key-${m.app_id}`)}
    <div><dt>merchant_id</dt><dd>${String(m.merchant_id)}</dd></div>
    <div><dt>Domains</dt><dd>${m.domains.map((x) => html`<span class="chip">${x}</span>`)} ${m.strict_domains ? '' : html`<span class="muted small">(not enforced)</span>`}</dd></div>
    <div><dt>Dialect</dt><dd><span class="badge">${m.envelope}</span> · locale ${m.locale} · acquirer-options v${String(m.acquirer_options_version)}</dd></div>
    ${urls.map((k) => html`<div><dt>${k}</dt><dd class="mono small">${m[k] ?? ''}</dd></div>`)}
    ${m.notify_on.length > 0 ? html`<div><dt>notify_on</dt><dd>${m.notify_on.join(', ')}</dd></div>` : ''}
    ${m.expires_at !== undefined ? html`<div><dt>Expires</dt><dd>${formatAlmaty(m.expires_at)} <span class="muted small">(ephemeral: purged with its data)</span></dd></div>` : ''}
    <div><dt>Scenario</dt><dd>
      <form class="action-form inline-form" data-api="PUT /__admin/merchants/${m.app_id}/scenario" data-label="Switch scenario" data-scenario-form>
        <select name="name" aria-label="Scenario for ${m.name}">
          <option value="" ${m.scenario ? '' : 'selected'}>none${d.globalScenario ? ` (global: ${d.globalScenario})` : ''}</option>
          ${options}
        </select>
        <button type="submit" class="secondary small">Switch</button>
      </form>
    </dd></div>
  </dl>
</article>`;
}

export function merchantsLive(d: MerchantsData): SafeHtml {
  return html`<div id="live" data-live="merchants">${d.rows.map((r) => merchantCard(r, d))}</div>`;
}

export function merchantsPage(d: MerchantsData, signedIn: boolean): string {
  const body = html`<div class="page-head"><h1>Merchants</h1></div>
<div class="merchants-layout">
<div>${merchantsLive(d)}</div>
<aside>
<section class="card">
  <h2>New merchant</h2>
  <form class="action-form stack" data-api="POST /__admin/merchants" data-label="Create merchant" id="merchant-form" data-reset-on-success>
    <label>Name <input name="name" required maxlength="255" placeholder="My shop"></label>
    <label>Domains <input name="domains" required data-type="list" placeholder="shop.example, localhost"></label>
    <label>Merchant public key <input name="public_key" required value="${d.suggestedPublicKey}" class="mono" data-keep></label>
    <p class="muted small">Any base64 32-byte box key; ktpay stores it but the protocol never uses it. A random one is filled in.</p>
    <label>callback_post_url <input name="callback_post_url" type="url" placeholder="https://shop.example/ktpay/callback"></label>
    <div class="inline-fields">
      <label>Dialect <select name="envelope"><option value="reference">reference</option><option value="widget">widget</option></select></label>
      <label>Locale <select name="locale"><option value="ru">ru</option><option value="en">en</option></select></label>
      <label>acquirer-options <select name="acquirer_options_version" data-type="int"><option value="2">v2</option><option value="1">v1</option></select></label>
    </div>
    <label class="check"><input type="checkbox" name="strict_domains" checked data-type="bool"> Enforce domains on callback URLs</label>
    <button type="submit" class="primary">Create merchant</button>
  </form>
</section>
</aside>
</div>`;
  return dashboardPage({ title: 'Merchants', section: 'merchants', body, signedIn });
}
