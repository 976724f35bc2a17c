/**
 * Card-number and expiry rules of the emulated bank [mock, spec §8]. Pure functions, no I/O.
 */

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'unknown';

/** Digits only: spaces and dashes a shopper types are dropped. */
export function normalizePan(pan: string): string {
  return pan.replace(/[\s-]/g, '');
}

/**
 * The Luhn check digit rule.
 *
 * @example
 * luhnValid('4405639704015096'); // true
 */
export function luhnValid(pan: string): boolean {
  if (!/^[0-9]{12,19}$/.test(pan)) return false;
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    let d = pan.charCodeAt(pan.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function brandOf(pan: string): CardBrand {
  if (/^3[47]/.test(pan)) return 'amex';
  if (/^4/.test(pan)) return 'visa';
  const two = Number(pan.slice(0, 2));
  const four = Number(pan.slice(0, 4));
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'mastercard';
  return 'unknown';
}

/**
 * First six and last four digits, the rest starred, as receipts show a card.
 *
 * @example
 * maskPan('4405639704015096'); // '440563******5096'
 */
export function maskPan(pan: string): string {
  if (pan.length < 11) return `${pan.slice(0, 1)}${'*'.repeat(Math.max(0, pan.length - 5))}${pan.slice(-4)}`;
  return `${pan.slice(0, 6)}${'*'.repeat(pan.length - 10)}${pan.slice(-4)}`;
}

export function cvcValid(cvc: string, brand: CardBrand): boolean {
  return brand === 'amex' ? /^[0-9]{4}$/.test(cvc) : /^[0-9]{3}$/.test(cvc);
}

export type ExpiryCheck =
  { ok: true; month: string; year: string } | { ok: false; reason: 'malformed' | 'past' };

const ALMATY_OFFSET_MS = 6 * 60 * 60 * 1000;

/**
 * A card is valid through the last day of its expiry month (Almaty time). The year may have two or
 * four digits.
 *
 * @example
 * checkExpiry('12', '30', Date.now()); // { ok: true, month: '12', year: '2030' }
 */
export function checkExpiry(month: string, year: string, now: number): ExpiryCheck {
  const m = month.trim();
  const y = year.trim();
  if (!/^[0-9]{1,2}$/.test(m) || !/^([0-9]{2}|[0-9]{4})$/.test(y)) return { ok: false, reason: 'malformed' };
  const mm = Number(m);
  if (mm < 1 || mm > 12) return { ok: false, reason: 'malformed' };
  const yyyy = y.length === 2 ? 2000 + Number(y) : Number(y);
  const local = new Date(now + ALMATY_OFFSET_MS);
  const nowIndex = local.getUTCFullYear() * 12 + local.getUTCMonth();
  const cardIndex = yyyy * 12 + (mm - 1);
  if (cardIndex < nowIndex) return { ok: false, reason: 'past' };
  return { ok: true, month: String(mm).padStart(2, '0'), year: String(yyyy) };
}
