import type { TestCard } from '../acquirer/acquirer-data.js';
import type { CardField, InputError } from '../acquirer/bank-decision.js';
import type { CardInfo, Transaction } from '../payments/transaction.js';
import { formatAmount } from './format.js';
import { html, type SafeHtml } from './html.js';
import { page } from './layout.js';
import { paths } from './links.js';

export interface OrderSummary {
  merchantName: string;
  tx: Pick<Transaction, 'hash' | 'order_id' | 'amount' | 'description'>;
}

function summary(o: OrderSummary): SafeHtml {
  return html`<section class="order" aria-label="Заказ">
  <p class="merchant">${o.merchantName}</p>
  <p class="amount" data-testid="amount">${formatAmount(o.tx.amount)}</p>
  ${o.tx.description ? html`<p class="description">${o.tx.description}</p>` : ''}
  <p class="muted">Заказ № <span class="mono">${o.tx.order_id}</span></p>
</section>`;
}

function fieldError(errors: InputError[], field: CardField): SafeHtml | '' {
  const e = errors.find((x) => x.field === field);
  return e
    ? html`<p class="field-error" id="err-${field}" role="alert">${e.message} <span class="code">(код ${e.code})</span></p>`
    : '';
}

const describedBy = (errors: InputError[], field: CardField) =>
  errors.some((e) => e.field === field) ? html` aria-invalid="true" aria-describedby="err-${field}"` : '';

export interface CardPageOptions extends OrderSummary {
  errors: InputError[];
  values: { pan: string; exp_month: string; exp_year: string; cardholder: string; email: string };
  close?: { href: string } | undefined;
  cards: TestCard[];
  otp: string;
}

/** The emulated bank's card page (the v2 `payment_page`, and where the v1 form lands). */
export function cardPage(o: CardPageOptions): string {
  const v = o.values;
  const e = o.errors;
  const body = html`<header class="bank-header"><span class="bank-logo" aria-hidden="true">◆</span> Эмулятор банка-эквайера</header>
${summary(o)}
${e.length > 0 ? html`<div class="alert" role="alert">Проверьте данные карты и попробуйте ещё раз.</div>` : ''}
<form method="post" action="${paths.payform(o.tx.hash).split('?')[0]}" class="card-form" novalidate>
  <input type="hidden" name="params" value="${o.tx.hash}">
  <input type="hidden" name="framed" value="0">
  <div class="field">
    <label for="pan">Номер карты</label>
    <input id="pan" name="pan" inputmode="numeric" autocomplete="cc-number" placeholder="0000 0000 0000 0000" maxlength="23" required value="${v.pan}"${describedBy(e, 'pan')}>
    ${fieldError(e, 'pan')}
  </div>
  <div class="row">
    <div class="field">
      <label for="exp_month">Месяц</label>
      <input id="exp_month" name="exp_month" inputmode="numeric" autocomplete="cc-exp-month" placeholder="ММ" maxlength="2" required value="${v.exp_month}"${describedBy(e, 'exp_month')}>
    </div>
    <div class="field">
      <label for="exp_year">Год</label>
      <input id="exp_year" name="exp_year" inputmode="numeric" autocomplete="cc-exp-year" placeholder="ГГ" maxlength="4" required value="${v.exp_year}"${describedBy(e, 'exp_month')}>
    </div>
    <div class="field">
      <label for="cvc">CVC/CVV</label>
      <input id="cvc" name="cvc" type="password" inputmode="numeric" autocomplete="cc-csc" placeholder="•••" maxlength="4" required${describedBy(e, 'cvc')}>
    </div>
  </div>
  ${fieldError(e, 'exp_month')}${fieldError(e, 'cvc')}
  <div class="field">
    <label for="cardholder">Держатель карты</label>
    <input id="cardholder" name="cardholder" autocomplete="cc-name" placeholder="IVAN IVANOV" maxlength="128" value="${v.cardholder}"${describedBy(e, 'cardholder')}>
    ${fieldError(e, 'cardholder')}
  </div>
  <div class="field">
    <label for="email">E-mail для чека <span class="muted">(необязательно)</span></label>
    <input id="email" name="email" type="email" autocomplete="email" placeholder="you@example.com" maxlength="254" value="${v.email}"${describedBy(e, 'email')}>
    ${fieldError(e, 'email')}
  </div>
  <button type="submit" class="primary" id="pay">Оплатить ${formatAmount(o.tx.amount)}</button>
</form>
<details class="test-cards">
  <summary>Тестовые карты песочницы</summary>
  <table>
    <thead><tr><th scope="col">Карта</th><th scope="col">Результат</th></tr></thead>
    <tbody>
    ${o.cards.map((c) => html`<tr><td class="mono">${c.display}</td><td>${c.result}</td></tr>`)}
    </tbody>
  </table>
  <p class="muted">Любой срок действия в будущем, CVC — 3 цифры (4 для Amex). Код 3-D Secure: <span class="mono">${o.otp}</span>.
  Держатель <span class="mono">CODE &lt;код&gt;</span> (например, <span class="mono">CODE 61</span>) даёт любой код банка из каталога.</p>
</details>`;
  return page({ title: 'Оплата картой — эмулятор банка', theme: 'bank', body, close: o.close });
}

export interface AcsPageOptions extends OrderSummary {
  card: CardInfo;
  close?: { href: string } | undefined;
  otp: string;
}

/** The 3-D Secure ACS page: an OTP field (`otp`), Confirm and Cancel. */
export function acsPage(o: AcsPageOptions): string {
  const body = html`<header class="bank-header"><span class="bank-logo" aria-hidden="true">◆</span> 3-D Secure · подтверждение платежа</header>
${summary(o)}
<p>Мы отправили одноразовый код на телефон держателя карты <span class="mono">${o.card.masked}</span>.</p>
<form method="post" action="${paths.acs(o.tx.hash).split('?')[0]}" class="otp-form">
  <input type="hidden" name="params" value="${o.tx.hash}">
  <div class="field">
    <label for="otp">Одноразовый код (OTP)</label>
    <input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" maxlength="16" autofocus>
    <p class="muted">В песочнице подходит код <span class="mono">${o.otp}</span>; любой другой или «Отмена» — отказ с кодом 191.</p>
  </div>
  <div class="actions">
    <button type="submit" name="action" value="confirm" class="primary" id="confirm">Подтвердить</button>
    <button type="submit" name="action" value="cancel" class="secondary" id="cancel" formnovalidate>Отмена</button>
  </div>
</form>`;
  return page({ title: '3-D Secure — подтверждение платежа', theme: 'bank', body, close: o.close });
}
