import type { Transaction } from '../payments/transaction.js';
import { formatAmount, STATUS_LABELS } from './format.js';
import { html, jsonForScript } from './html.js';
import { ASSET_BASE, page } from './layout.js';

export interface DemoConfig {
  app_id: string;
  app_key: string;
  merchant_name: string;
  /** Where the API and the widget live (the sandbox itself). */
  origin: string;
}

export const DEMO_PRODUCT = {
  name: 'Электрический чайник «Алатау»',
  amount: 14990,
  description: 'Чайник 1,7 л, сталь',
};

/**
 * The demo shop at `/demo`: it seals the order in the browser with libsodium, as the public JS
 * widget client does, opens `/payment-card` in an iframe `#iframe_widget` and obeys the
 * postMessage protocol. Without JavaScript the same form is sealed by the server instead.
 */
export function demoPage(cfg: DemoConfig | undefined): string {
  if (!cfg) {
    const body = html`<h1>Демо-магазин недоступен</h1><p>Встроенный тестовый мерчант выключен (<span class="mono">default_merchant.enabled: false</span>).</p>`;
    return page({ title: 'Демо-магазин — ktpay-mock', theme: 'shop', body });
  }
  const body = html`<header class="shop-header"><span class="shop-logo" aria-hidden="true">◆</span> ${cfg.merchant_name} <span class="muted">· демо-магазин песочницы</span></header>
<article class="product">
  <div class="product-image" aria-hidden="true">☕</div>
  <div>
    <h1>${DEMO_PRODUCT.name}</h1>
    <p class="muted">${DEMO_PRODUCT.description}</p>
  </div>
</article>
<form id="checkout" method="post" action="/demo/checkout" class="checkout">
  <div class="field">
    <label for="amount">Сумма, ₸</label>
    <input id="amount" name="amount" inputmode="decimal" value="${DEMO_PRODUCT.amount}" required>
  </div>
  <div class="field">
    <label for="description">Описание заказа</label>
    <input id="description" name="description" value="${DEMO_PRODUCT.name}" maxlength="200">
  </div>
  <div class="field checkbox">
    <input id="show_close_button" name="show_close_button" type="checkbox" value="true" checked>
    <label for="show_close_button">Показывать кнопку закрытия виджета</label>
  </div>
  <button type="submit" class="primary" id="pay-button">Оплатить ${formatAmount(DEMO_PRODUCT.amount)}</button>
  <p id="demo-status" class="muted" role="status" aria-live="polite"></p>
</form>
<section class="help">
  <h2>Как это работает</h2>
  <ol>
    <li>Страница шифрует заказ в браузере (<span class="mono">crypto_box_seal</span>, libsodium) ключом <span class="mono">app_key</span> встроенного мерчанта.</li>
    <li>Отправляет его на <span class="mono">POST /api/v1/merchant-widget/payment</span> с заголовком <span class="mono">Auth-Identifier</span>.</li>
    <li>Открывает <span class="mono">/payment-card?hash=…</span> в iframe <span class="mono">#iframe_widget</span> и слушает <span class="mono">postMessage</span>.</li>
  </ol>
  <p>Карта для 3-D Secure: <span class="mono">5522 0427 0506 6736</span>, код <span class="mono">1111</span>. Без 3-D Secure: <span class="mono">4405 6397 0401 5096</span>.</p>
  <p class="muted small">app_id <span class="mono">${cfg.app_id}</span> · app_key <span class="mono">${cfg.app_key}</span></p>
</section>`;
  const head = html`<script type="importmap">${jsonForScript({ imports: { libsodium: `${ASSET_BASE}/libsodium.mjs` } })}</script>
<script type="application/json" id="demo-config">${jsonForScript(cfg)}</script>`;
  const scripts = html`<script type="module" src="${ASSET_BASE}/demo.js"></script>`;
  return page({ title: 'Демо-магазин — ktpay-mock', theme: 'shop', body, head, scripts });
}

/** The demo shop's own success/failure page, where the widget sends the shopper. */
export function demoResultPage(o: { outcome: string; orderId: string; tx: Transaction | undefined }): string {
  const ok = o.outcome === 'success';
  const body = html`<header class="shop-header"><span class="shop-logo" aria-hidden="true">◆</span> Демо-магазин</header>
<div class="result ${ok ? 'ok' : 'fail'}">
  <div class="result-icon" aria-hidden="true">${ok ? '✓' : '!'}</div>
  <h1 id="demo-result" data-outcome="${ok ? 'success' : 'failed'}">${ok ? 'Спасибо за покупку!' : 'Оплата не прошла'}</h1>
</div>
<dl class="receipt">
  <div><dt>Заказ</dt><dd class="mono">${o.orderId}</dd></div>
  ${o.tx ? html`<div><dt>Сумма</dt><dd>${formatAmount(o.tx.amount)}</dd></div><div><dt>Статус в песочнице</dt><dd data-testid="status">${STATUS_LABELS[o.tx.status] ?? o.tx.status} (<span class="mono">${o.tx.status}</span>)</dd></div>` : ''}
  ${o.tx?.error ? html`<div><dt>Причина</dt><dd>${o.tx.error.error_message}</dd></div>` : ''}
</dl>
<p><a class="button secondary" href="/demo">Вернуться в магазин</a>
${o.tx ? html` <a class="button secondary" href="/__admin/transactions/${o.tx.hash}">Транзакция (JSON)</a>` : ''}</p>`;
  return page({ title: `${ok ? 'Заказ оплачен' : 'Оплата не прошла'} — демо-магазин`, theme: 'shop', body });
}
