import type { CardInfo, StatusError, Transaction } from '../payments/transaction.js';
import type { AcquirerData, ThreeDsMode } from './acquirer-data.js';
import { brandOf, checkExpiry, cvcValid, luhnValid, maskPan, normalizePan } from './card-rules.js';

/** What the shopper typed on the bank's card page (spec §8 field names). */
export interface CardForm {
  pan: string;
  exp_month: string;
  exp_year: string;
  cvc: string;
  cardholder: string;
  email: string;
}

export type CardField = keyof CardForm;

/** An inline error on the card page: the form is shown again and nothing changes. */
export interface InputError {
  field: CardField;
  /** The acquirer code whose catalog text is shown (14/15 for the PAN, -9 for the expiry, 189 otherwise). */
  code: string;
  message: string;
}

/**
 * What scenarios (issue 6) may impose on the bank: a response code, a 3DS mode, or the service
 * gateway's answer. Anything left out follows the test-card table.
 */
export interface AcquirerOverride {
  code?: string;
  three_ds?: ThreeDsMode;
  service?: 'credit' | 'refuse';
  /** The bank does not answer the card form: the shopper sees "-8" and the payment stays pending. */
  unavailable?: boolean;
}

/** Which decision a scenario is asked about: the card form, or the service gateway after authorization. */
export interface OverrideQuery {
  phase: 'pay' | 'service';
  /** PAN digits of the submitted card (pay phase). */
  pan?: string;
}

export type CardDecision =
  | { kind: 'invalid'; errors: InputError[] }
  | {
      kind: 'decided';
      card: CardInfo;
      /** The acquirer response code the payment ends in (after a passed challenge, if any). */
      code: string;
      three_ds: ThreeDsMode;
      /** Which rule chose the code, for the journal and reports. */
      rule: 'test_card' | 'cardholder_code' | 'other_card' | 'override';
    };

/** The final word on a code: approved, or the status and error the mapping gives. */
export type CodeVerdict =
  | { approved: true; code: string }
  | { approved: false; code: string; status: 'error' | 'denied'; error: StatusError };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function inputError(field: CardField, code: string, data: AcquirerData): InputError {
  return { field, code, message: data.messages.get(code) ?? code };
}

/** The `<c>` of a cardholder `CODE <c>`, or undefined. */
export function cardholderCode(cardholder: string, data: AcquirerData): string | undefined {
  const m = new RegExp(data.cards.cardholder_code_rule.pattern, 'i').exec(cardholder.trim());
  return m?.[1]?.toUpperCase();
}

/** True for `00` and every acquirer code the mapping knows. */
export function isKnownCode(code: string, data: AcquirerData): boolean {
  return code === data.outcomes.approved_code || Object.hasOwn(data.outcomes.codes, code);
}

/**
 * The bank's decision on a card form, as a pure function of the form, the time and the data: the
 * same inputs always give the same answer, whether they came from a page, the admin API or a test.
 *
 * @example
 * decideCard({ pan: '4000 0000 0000 9995', exp_month: '12', exp_year: '30', cvc: '123', cardholder: 'A B', email: '' },
 *   { now: Date.now(), data });
 * // { kind: 'decided', code: '51', three_ds: 'frictionless', rule: 'test_card', card: {...} }
 */
export function decideCard(
  form: CardForm,
  opts: { now: number; data: AcquirerData; override?: AcquirerOverride | undefined },
): CardDecision {
  const { data, now, override } = opts;
  const errors: InputError[] = [];
  const pan = normalizePan(form.pan);
  const brand = brandOf(pan);
  if (!/^[0-9]{12,19}$/.test(pan)) errors.push(inputError('pan', '15', data));
  else if (!luhnValid(pan)) errors.push(inputError('pan', data.cards.input_errors.luhn, data));
  const expiry = checkExpiry(form.exp_month, form.exp_year, now);
  if (!expiry.ok) errors.push(inputError('exp_month', data.cards.input_errors.expired, data));
  if (!cvcValid(form.cvc.trim(), brand))
    errors.push(inputError('cvc', data.cards.input_errors.card_data, data));
  const cardholder = form.cardholder.trim();
  const requested = cardholderCode(cardholder, data);
  if (requested !== undefined && !isKnownCode(requested, data)) {
    errors.push(inputError('cardholder', data.cards.input_errors.card_data, data));
  }
  if (form.email.trim() !== '' && !EMAIL.test(form.email.trim())) {
    errors.push(inputError('email', data.cards.input_errors.card_data, data));
  }
  if (errors.length > 0 || !expiry.ok) return { kind: 'invalid', errors };
  if (override?.unavailable)
    return { kind: 'invalid', errors: [inputError('pan', data.cards.input_errors.unavailable, data)] };

  const card: CardInfo = {
    masked: maskPan(pan),
    brand,
    cardholder,
    exp_month: expiry.month,
    exp_year: expiry.year,
  };
  const listed = data.cards.cards.find((c) => c.pan === pan);
  let code = listed?.code ?? data.cards.other_cards.code;
  let three_ds = listed?.three_ds ?? data.cards.other_cards.three_ds;
  let rule: Extract<CardDecision, { kind: 'decided' }>['rule'] = listed ? 'test_card' : 'other_card';
  if (requested !== undefined) {
    code = requested;
    three_ds = 'frictionless';
    rule = 'cardholder_code';
  }
  if (override?.code !== undefined) {
    code = override.code;
    rule = 'override';
  }
  if (override?.three_ds !== undefined) three_ds = override.three_ds;
  return { kind: 'decided', card, code, three_ds, rule };
}

/**
 * The 3-D Secure answer: the right OTP lets the pending code through; a wrong OTP or Cancel ends in
 * the failure code (191).
 */
export function decideChallenge(
  pendingCode: string,
  answer: { otp: string } | { cancel: true },
  data: AcquirerData,
): string {
  if ('otp' in answer && answer.otp.trim() === data.cards.three_ds.otp) return pendingCode;
  return data.cards.three_ds.failure_code;
}

/**
 * Maps an acquirer code to its verdict through `contracts/data/acquirer-outcomes.json`; the message
 * is the catalog's text for the code.
 */
export function verdictOf(code: string, data: AcquirerData): CodeVerdict {
  if (code === data.outcomes.approved_code) return { approved: true, code };
  const mapped = data.outcomes.codes[code];
  if (!mapped) {
    // Unknown codes never reach here from the pages (the form rejects them); a scenario could.
    return {
      approved: false,
      code,
      status: 'error',
      error: { error_type: 'ERROR_PAYMENT', error_message: `Acquirer code ${code}`, code },
    };
  }
  return {
    approved: false,
    code,
    status: mapped.status,
    error: { error_type: mapped.error_type, error_message: data.messages.get(code) ?? code, code },
  };
}

/**
 * The service gateway's answer for a `type=service` payment after authorization [doc: crediting;
 * mock: contract_value `0000000000` is refused].
 */
export function serviceVerdict(
  tx: Pick<Transaction, 'type' | 'service'>,
  data: AcquirerData,
  override?: AcquirerOverride,
): { credited: true } | { credited: false; status: 'error' | 'denied'; error: StatusError } {
  if (tx.type !== 'service') return { credited: true };
  const refusal = data.outcomes.service_gateway_refusal;
  const refused =
    override?.service !== undefined
      ? override.service === 'refuse'
      : tx.service?.contract_value === refusal.contract_value;
  if (!refused) return { credited: true };
  return {
    credited: false,
    status: refusal.status,
    error: { error_type: refusal.error_type, error_message: refusal.error_message },
  };
}
