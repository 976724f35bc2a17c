import { html, type SafeHtml } from './html.js';

export const ASSET_BASE = '/static/ktpay-mock';

export interface PageOptions {
  title: string;
  /** `widget` (ktpay's pages), `bank` (the emulated acquirer) or `shop` (the demo). */
  theme: 'widget' | 'bank' | 'shop';
  body: SafeHtml;
  /** Shows the × button: a link to `href` without JavaScript, `postMessage("close")` inside an iframe. */
  close?: { href: string } | undefined;
  /** Extra elements for `<head>` (import maps, meta refresh in `<noscript>`). */
  head?: SafeHtml;
  /** Scripts after the body; `frame.js` is always there for the iframe protocol. */
  scripts?: SafeHtml;
}

const SANDBOX_NOTE = 'ktpay-mock · песочница, реальные деньги не списываются';

/**
 * The shell of every server-rendered page: one stylesheet, no JavaScript required. `frame.js` only
 * adds the iframe protocol (spec §8) and small niceties.
 */
export function page(opts: PageOptions): string {
  const close = opts.close
    ? html`<a class="close" href="${opts.close.href}" target="_top" data-close aria-label="Закрыть" title="Закрыть">×</a>`
    : '';
  return html`<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${opts.title}</title>
<link rel="stylesheet" href="${ASSET_BASE}/styles.css">
${opts.head ?? ''}
</head>
<body class="theme-${opts.theme}">
${close}
<main class="shell">
${opts.body}
<p class="sandbox-note">${SANDBOX_NOTE}</p>
</main>
<script src="${ASSET_BASE}/frame.js" defer></script>
${opts.scripts ?? ''}
</body>
</html>
`.value;
}
