import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Merchant } from '../merchants/merchant.js';
import type { CardInfo, Transaction } from '../payments/transaction.js';
import { toAlmatyIso } from '../shared/almaty-time.js';
import type { ThreeDsMode } from './acquirer-data.js';

/** The currency code of every ktpay order: KZT [doc]. */
export const KZT = '398';

export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

function unescapeXml(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|apos);/g,
    (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!,
  );
}

/**
 * The sandbox's stand-in for the bank's RSA signatures: an HMAC-SHA256 keyed by the merchant's
 * current server secret key [mock]. It is deterministic, so a signed order can be checked by
 * building it again, and it survives restarts with a durable store.
 */
function sign(merchant: Merchant, text: string): string {
  const key = merchant.server_keys[0]?.secret_key ?? merchant.app_id;
  return createHmac('sha256', `ktpay-mock bank:${key}`).update(text, 'utf8').digest('base64');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The bank-side order number: ktpay's numeric transaction id, at least six digits as KKB wants. */
export function bankOrderId(tx: Pick<Transaction, 'id'>): string {
  return String(tx.id).padStart(6, '0');
}

/** The `cert_id` the bank documents carry for a merchant: 8 hex digits of SHA-256(app_id). */
export function bankCertId(appId: string): string {
  return createHash('sha256').update(appId).digest('hex').slice(0, 8);
}

const certId = (merchant: Merchant) => bankCertId(merchant.app_id);

function amountText(amount: number): string {
  return Number.isInteger(amount) ? String(amount) : amount.toFixed(2);
}

function merchantElement(tx: Transaction, merchant: Merchant, cert = certId(merchant)): string {
  const amount = amountText(tx.amount);
  return (
    `<merchant cert_id="${cert}" name="${escapeXml(merchant.name)}">` +
    `<order order_id="${bankOrderId(tx)}" amount="${amount}" currency="${KZT}">` +
    `<department merchant_id="${String(merchant.merchant_id).padStart(8, '0')}" amount="${amount}" abonent_id="1"/>` +
    `</order></merchant>`
  );
}

/**
 * The XML behind acquirer-options v1 `signed_order` [doc shape]:
 * `<document><merchant …><order …><department …/></order></merchant><merchant_sign type="RSA">…</merchant_sign></document>`.
 */
export function signedOrderXml(tx: Transaction, merchant: Merchant): string {
  const m = merchantElement(tx, merchant);
  return `<?xml version="1.0" encoding="UTF-8"?><document>${m}<merchant_sign type="RSA">${sign(merchant, m)}</merchant_sign></document>`;
}

/**
 * acquirer-options v1 `signed_order`: base64 (ORIGINAL) of {@link signedOrderXml}.
 *
 * @example
 * Buffer.from(signedOrderOf(tx, merchant), 'base64').toString(); // '<?xml …?><document><merchant …'
 */
export function signedOrderOf(tx: Transaction, merchant: Merchant): string {
  return Buffer.from(signedOrderXml(tx, merchant), 'utf8').toString('base64');
}

/** True when `b64` is exactly the signed order the sandbox issued for this transaction. */
export function isOriginalSignedOrder(b64: string, tx: Transaction, merchant: Merchant): boolean {
  return sameText(b64.trim(), signedOrderOf(tx, merchant));
}

/** What the emulated bank reports to ktpay's post-link after a payment attempt. */
export interface BankResult {
  response_code: string;
  card: CardInfo;
  email: string;
  three_ds: ThreeDsMode;
  reference: string;
  approval_code: string;
  at: number;
}

/**
 * The bank's signed result notice, in the shape of the KKB e-pay PostLink document
 * (`<document><bank …><customer …>…</customer><results …><payment …/></results></bank><bank_sign …>…</bank_sign></document>`).
 */
export function bankNoticeXml(
  tx: Transaction,
  merchant: Merchant,
  r: BankResult,
  /** {@link bankCertId} of the merchant, when the caller keeps it. */
  cert = certId(merchant),
): string {
  const c = r.card;
  const bank =
    `<bank name="ktpay-mock emulated bank">` +
    `<customer name="${escapeXml(c.cardholder)}" mail="${escapeXml(r.email)}" phone="">` +
    merchantElement(tx, merchant, cert) +
    `</customer>` +
    `<results timestamp="${toAlmatyIso(r.at)}">` +
    `<payment merchant_id="${String(merchant.merchant_id).padStart(8, '0')}" card="${c.masked}" brand="${c.brand}"` +
    ` exp_date="${c.exp_month}/${c.exp_year}" amount="${amountText(tx.amount)}" reference="${r.reference}"` +
    ` approval_code="${r.approval_code}" response_code="${escapeXml(r.response_code)}"` +
    ` secure="${r.three_ds === 'challenge' ? 'Yes' : 'No'}"/>` +
    `</results></bank>`;
  return `<?xml version="1.0" encoding="UTF-8"?><document>${bank}<bank_sign cert_id="${cert}" type="SHA/RSA">${sign(merchant, bank)}</bank_sign></document>`;
}

function attr(element: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(element);
  return m ? unescapeXml(m[1]!) : undefined;
}

export type NoticeCheck =
  | { ok: true; order_id: string; amount: string; result: Omit<BankResult, 'at'> }
  | { ok: false; reason: string };

/**
 * Checks a notice POSTed to post-link: the bank signature, then the order it names. Only a
 * document the sandbox's bank signed for this merchant passes, so the attribute reads below only
 * ever see the sandbox's own output.
 */
export function verifyBankNotice(xml: string, tx: Transaction, merchant: Merchant): NoticeCheck {
  const m = /<document>(<bank [\s\S]*<\/bank>)<bank_sign [^>]*>([^<]*)<\/bank_sign><\/document>\s*$/.exec(
    xml.trim(),
  );
  if (!m)
    return {
      ok: false,
      reason: 'not a bank notice document (<document><bank>…</bank><bank_sign>…</bank_sign></document>)',
    };
  const bank = m[1]!;
  const valid = merchant.server_keys.some((k) =>
    sameText(m[2]!, sign({ ...merchant, server_keys: [k] }, bank)),
  );
  if (!valid)
    return {
      ok: false,
      reason: 'bank_sign does not match: the notice was altered or signed for another merchant',
    };
  const order = /<order [^>]*>/.exec(bank)?.[0] ?? '';
  const payment = /<payment [^>]*\/>/.exec(bank)?.[0] ?? '';
  const customer = /<customer [^>]*>/.exec(bank)?.[0] ?? '';
  const orderId = attr(order, 'order_id') ?? '';
  if (orderId !== bankOrderId(tx))
    return { ok: false, reason: `the notice is for order ${orderId}, not ${bankOrderId(tx)}` };
  const [expMonth = '', expYear = ''] = (attr(payment, 'exp_date') ?? '').split('/');
  return {
    ok: true,
    order_id: orderId,
    amount: attr(order, 'amount') ?? '',
    result: {
      response_code: attr(payment, 'response_code') ?? '',
      card: {
        masked: attr(payment, 'card') ?? '',
        brand: attr(payment, 'brand') ?? 'unknown',
        cardholder: attr(customer, 'name') ?? '',
        exp_month: expMonth,
        exp_year: expYear,
      },
      email: attr(customer, 'mail') ?? '',
      three_ds: attr(payment, 'secure') === 'Yes' ? 'challenge' : 'frictionless',
      reference: attr(payment, 'reference') ?? '',
      approval_code: attr(payment, 'approval_code') ?? '',
    },
  };
}
