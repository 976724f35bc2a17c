import { html, jsonForScript, type SafeHtml } from '../html.js';
import { ASSET_BASE } from '../layout.js';

/** Where the dashboard lives; every link and script below is relative to it. */
export const DASHBOARD_BASE = '/__admin/ui';
export const DASHBOARD_ASSETS = `${DASHBOARD_BASE}/assets`;

export type DashboardSection = 'transactions' | 'merchants' | 'journal';

export interface DashboardPageOptions {
  title: string;
  section: DashboardSection | null;
  body: SafeHtml;
  /** Extra `<head>` content, e.g. the import map that lets the detail page seal refund bodies. */
  head?: SafeHtml;
  /** Whether a sign-out button makes sense (ADMIN_TOKEN is set). */
  signedIn?: boolean;
  /** No section links (the sign-in page: they would only lead back to it). */
  bare?: boolean;
}

const NAV: ReadonlyArray<[DashboardSection, string, string]> = [
  ['transactions', 'Transactions', `${DASHBOARD_BASE}/transactions`],
  ['merchants', 'Merchants', `${DASHBOARD_BASE}/merchants`],
  ['journal', 'Journal', `${DASHBOARD_BASE}/journal`],
];

/**
 * The dashboard's shell: a top bar with the sections, one stylesheet and one script. Every value
 * goes through {@link html}, so merchant and shopper strings are escaped wherever they appear.
 */
export function dashboardPage(o: DashboardPageOptions): string {
  const nav = NAV.map(
    ([key, label, href]) =>
      html`<a href="${href}" class="${o.section === key ? 'active' : ''}" ${o.section === key ? html`aria-current="page"` : ''}>${label}</a>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${o.title} · ktpay-mock dashboard</title>
<link rel="stylesheet" href="${DASHBOARD_ASSETS}/dashboard.css">
${o.head ?? ''}
<script type="module" src="${DASHBOARD_ASSETS}/dashboard.js"></script>
</head>
<body>
<header class="topbar">
  <a class="brand" href="${DASHBOARD_BASE}"><span class="logo" aria-hidden="true">◆</span> ktpay-mock</a>
  ${o.bare ? '' : html`<nav aria-label="Sections">${nav}</nav>`}
  <div class="topbar-right">
    ${o.bare ? '' : html`<span class="live-indicator" id="live-indicator" data-state="connecting" title="Live updates">live</span>`}
    <a href="/docs" class="toplink">API docs</a>
    ${o.signedIn ? html`<form method="post" action="${DASHBOARD_BASE}/logout" class="inline"><button class="link" type="submit">Sign out</button></form>` : ''}
  </div>
</header>
<main class="page">
${o.body}
</main>
<div class="toasts" id="toasts" role="status" aria-live="polite"></div>
</body>
</html>
`.value;
}

/** The import map the detail page needs to load libsodium for sealing refund and cancel bodies. */
export function sodiumImportMap(): SafeHtml {
  return html`<script type="importmap">${jsonForScript({ imports: { libsodium: `${ASSET_BASE}/libsodium.mjs` } })}</script>`;
}

/** The sign-in form shown instead of any data while ADMIN_TOKEN is set and no session exists. */
export function loginPage(o: { next: string; failed: boolean }): string {
  const body = html`<section class="login card">
  <h1>Sign in</h1>
  <p class="muted">This sandbox runs with <code>ADMIN_TOKEN</code>. Enter it once; the dashboard keeps an
  HttpOnly session cookie (never the token itself) until you sign out or the token changes.</p>
  ${o.failed ? html`<p class="alert" role="alert" id="login-error">That token is not this sandbox's ADMIN_TOKEN.</p>` : ''}
  <form method="post" action="${DASHBOARD_BASE}/login" class="stack">
    <input type="hidden" name="next" value="${o.next}">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <button class="primary" type="submit" id="login-submit">Sign in</button>
  </form>
  <p class="muted small">API clients send <code>Authorization: Bearer &lt;token&gt;</code> instead.</p>
</section>`;
  return dashboardPage({ title: 'Sign in', section: null, body, bare: true });
}

/** An error inside the dashboard (unknown transaction, bad filter): the catalog code and what to do. */
export function dashboardErrorPage(o: {
  code: number;
  message: string;
  hint: string;
  signedIn: boolean;
}): string {
  const body = html`<section class="card error-card">
  <h1>Error <span class="code-badge">${o.code}</span></h1>
  <p>${o.message}</p>
  <p class="muted">${o.hint}</p>
  <p><a href="${DASHBOARD_BASE}/transactions">Back to transactions</a></p>
</section>`;
  return dashboardPage({ title: `Error ${o.code}`, section: null, body, signedIn: o.signedIn });
}
