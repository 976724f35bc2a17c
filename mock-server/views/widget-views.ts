import type { Transaction } from '../payments/transaction.js';
import { formatAlmaty, formatAmount, STATUS_LABELS } from './format.js';
import { html } from './html.js';
import { page } from './layout.js';
import { outcomeOf, paths } from './links.js';
import { RECEIPT_STATUSES } from '../payments/receipt-pdf.js';

export interface ReceiptOptions {
  merchantName: string;
  tx: Transaction;
  continueUrl: string;
  close?: { href: string } | undefined;
}

function details(merchantName: string, tx: Transaction) {
  const failed = tx.status === 'error' || tx.status === 'denied';
  return html`<dl class="receipt">
  <div><dt>Магазин</dt><dd>${merchantName}</dd></div>
  <div><dt>Сумма</dt><dd class="strong">${formatAmount(tx.amount)}</dd></div>
  ${tx.description ? html`<div><dt>Назначение</dt><dd>${tx.description}</dd></div>` : ''}
  <div><dt>Номер заказа</dt><dd class="mono">${tx.order_id}</dd></div>
  ${tx.card ? html`<div><dt>Карта</dt><dd class="mono" data-testid="masked-card">${tx.card.masked}</dd></div>` : ''}
  <div><dt>Статус</dt><dd data-testid="status" data-status="${tx.status}">${STATUS_LABELS[tx.status] ?? tx.status}</dd></div>
  ${failed && tx.error ? html`<div><dt>Причина</dt><dd data-testid="error-message">${tx.error.error_message}${tx.error.code ? html` <span class="code">(код ${tx.error.code})</span>` : ''}</dd></div>` : ''}
  <div><dt>Дата</dt><dd>${formatAlmaty(tx.status_created_at)}</dd></div>
  <div><dt>Транзакция</dt><dd class="mono small">${tx.hash}</dd></div>
</dl>`;
}

/** The widget's receipt page after a payment, with "Продолжить" (spec §8 step 6). */
export function receiptPage(o: ReceiptOptions): string {
  const ok = outcomeOf(o.tx) === 'success';
  const body = html`<div class="result ${ok ? 'ok' : 'fail'}">
  <div class="result-icon" aria-hidden="true">${ok ? '✓' : '!'}</div>
  <h1>${ok ? 'Оплата прошла успешно' : 'Оплата не прошла'}</h1>
</div>
${details(o.merchantName, o.tx)}
${RECEIPT_STATUSES.has(o.tx.status) ? html`<p><a id="receipt-pdf" href="${paths.pdf(o.tx.hash)}" target="_blank" rel="noopener" download>Скачать чек (PDF)</a></p>` : ''}
<a class="button primary" id="continue" href="${o.continueUrl}" target="_top" data-continue>Продолжить</a>`;
  return page({
    title: ok ? 'Чек об оплате — ktpay' : 'Оплата не прошла — ktpay',
    theme: 'widget',
    body,
    close: o.close,
  });
}

/** The sandbox's default page, where "Продолжить" leads when neither transaction nor merchant set a URL. */
export function donePage(o: { merchantName: string; tx: Transaction }): string {
  const outcome = outcomeOf(o.tx);
  const heading =
    outcome === 'success'
      ? 'Спасибо! Платёж принят'
      : outcome === 'failed'
        ? 'Платёж не выполнен'
        : 'Платёж ещё не оплачен';
  const body = html`<h1>${heading}</h1>
<p class="muted">Это страница виджета по умолчанию: ни транзакция, ни мерчант не указали свой URL.</p>
${details(o.merchantName, o.tx)}`;
  return page({ title: `${heading} — ktpay`, theme: 'widget', body });
}

/**
 * Sends an iframed shopper on: `frame.js` posts the URL to the parent (spec §8); without JavaScript
 * the `<noscript>` refresh and the link still work.
 */
export function redirectPage(url: string): string {
  const body = html`<h1>Перенаправление…</h1>
<p><a id="exit" href="${url}" target="_top" data-exit>Перейти на сайт магазина</a></p>`;
  const head = html`<noscript><meta http-equiv="refresh" content="0;url=${url}"></noscript>`;
  return page({ title: 'Перенаправление — ktpay', theme: 'widget', body, head });
}

/** Any catalog error met on a page, shown as HTML. */
export function errorPage(o: { code: number; message: string; hint: string }): string {
  const body = html`<div class="result fail"><div class="result-icon" aria-hidden="true">!</div><h1>${o.message}</h1></div>
<p>Код ошибки: <span class="mono" data-testid="error-code">${o.code}</span></p>
<p class="muted">${o.hint}</p>`;
  return page({ title: `Ошибка ${o.code} — ktpay`, theme: 'widget', body });
}
