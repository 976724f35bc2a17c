import { describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { catalogAcquirerCodes, loadAcquirerData } from './acquirer-data.js';
import {
  cardholderCode,
  decideCard,
  decideChallenge,
  serviceVerdict,
  verdictOf,
  type CardForm,
} from './bank-decision.js';
import { brandOf, checkExpiry, luhnValid, maskPan } from './card-rules.js';

const data = loadAcquirerData();
const NOW = Date.UTC(2026, 5, 15, 6, 0, 0); // 2026-06-15 12:00 Almaty

const form = (over: Partial<CardForm> = {}): CardForm => ({
  pan: '4405 6397 0401 5096',
  exp_month: '12',
  exp_year: '30',
  cvc: '123',
  cardholder: 'IVAN IVANOV',
  email: '',
  ...over,
});

describe('card rules', () => {
  it('checks Luhn on every test card and rejects a changed digit', () => {
    for (const c of data.cards.cards) expect(luhnValid(c.pan), c.pan).toBe(true);
    expect(luhnValid('4405639704015097')).toBe(false);
    expect(luhnValid('12345')).toBe(false);
  });

  it('knows the brands and masks the middle digits', () => {
    expect(brandOf('4405639704015096')).toBe('visa');
    expect(brandOf('5522042705066736')).toBe('mastercard');
    expect(brandOf('2221000000000009')).toBe('mastercard');
    expect(brandOf('377514500004820')).toBe('amex');
    expect(brandOf('6011000000000004')).toBe('unknown');
    expect(maskPan('4405639704015096')).toBe('440563******5096');
    expect(maskPan('377514500004820')).toBe('377514*****4820');
  });

  it('accepts the current month and later, in 2 or 4 digits, and rejects the past and junk', () => {
    expect(checkExpiry('6', '26', NOW)).toEqual({ ok: true, month: '06', year: '2026' });
    expect(checkExpiry('01', '2031', NOW)).toEqual({ ok: true, month: '01', year: '2031' });
    expect(checkExpiry('05', '26', NOW)).toEqual({ ok: false, reason: 'past' });
    expect(checkExpiry('13', '30', NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(checkExpiry('ab', '30', NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(checkExpiry('12', '3', NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('uses Almaty time for the month boundary', () => {
    // 2026-06-30 19:00 UTC is already July 1st in Almaty: a 06/26 card has expired there.
    expect(checkExpiry('06', '26', Date.UTC(2026, 5, 30, 19, 0, 0))).toEqual({ ok: false, reason: 'past' });
    expect(checkExpiry('06', '26', Date.UTC(2026, 5, 30, 17, 0, 0))).toMatchObject({ ok: true });
  });
});

describe('decideCard', () => {
  it('follows the test-card table exactly', () => {
    for (const c of data.cards.cards) {
      const d = decideCard(form({ pan: c.display, cvc: c.brand === 'amex' ? '1234' : '123' }), {
        now: NOW,
        data,
      });
      expect(d, c.display).toMatchObject({
        kind: 'decided',
        code: c.code,
        three_ds: c.three_ds,
        rule: 'test_card',
      });
    }
  });

  it('approves any other Luhn-valid PAN without 3DS', () => {
    expect(decideCard(form({ pan: '4111111111111111' }), { now: NOW, data })).toMatchObject({
      kind: 'decided',
      code: '00',
      three_ds: 'frictionless',
      rule: 'other_card',
      card: {
        masked: '411111******1111',
        brand: 'visa',
        cardholder: 'IVAN IVANOV',
        exp_month: '12',
        exp_year: '2030',
      },
    });
  });

  it('a Luhn-invalid PAN is an inline error with code 14; a too-short one 15', () => {
    expect(decideCard(form({ pan: '4405639704015097' }), { now: NOW, data })).toEqual({
      kind: 'invalid',
      errors: [{ field: 'pan', code: '14', message: data.messages.get('14') }],
    });
    expect(decideCard(form({ pan: '1234' }), { now: NOW, data })).toMatchObject({
      kind: 'invalid',
      errors: [{ field: 'pan', code: '15' }],
    });
  });

  it('an expiry in the past is an inline error with code -9', () => {
    expect(decideCard(form({ exp_month: '01', exp_year: '2020' }), { now: NOW, data })).toEqual({
      kind: 'invalid',
      errors: [{ field: 'exp_month', code: '-9', message: 'Некорректно введен срок действия карты.' }],
    });
  });

  it('CVC has 3 digits, 4 for Amex', () => {
    expect(decideCard(form({ cvc: '12' }), { now: NOW, data })).toMatchObject({
      kind: 'invalid',
      errors: [{ field: 'cvc' }],
    });
    expect(decideCard(form({ cvc: '1234' }), { now: NOW, data })).toMatchObject({ kind: 'invalid' });
    expect(decideCard(form({ pan: '377514500004820', cvc: '123' }), { now: NOW, data })).toMatchObject({
      kind: 'invalid',
    });
    expect(decideCard(form({ pan: '377514500004820', cvc: '1234' }), { now: NOW, data })).toMatchObject({
      kind: 'decided',
      code: '00',
    });
  });

  it('reports every bad field at once', () => {
    const d = decideCard(form({ pan: '4405639704015097', exp_year: '2001', cvc: '', email: 'not-mail' }), {
      now: NOW,
      data,
    });
    expect(d.kind === 'invalid' && d.errors.map((e) => e.field)).toEqual([
      'pan',
      'exp_month',
      'cvc',
      'email',
    ]);
  });

  it('cardholder CODE <c> reaches every catalog code, frictionless, on any Luhn-valid PAN', () => {
    for (const code of catalogAcquirerCodes()) {
      for (const holder of [`CODE ${code}`, `code  ${code.toLowerCase()}`]) {
        const d = decideCard(form({ pan: '5522 0427 0506 6736', cardholder: holder }), { now: NOW, data });
        expect(d, holder).toMatchObject({
          kind: 'decided',
          code,
          three_ds: 'frictionless',
          rule: 'cardholder_code',
        });
      }
    }
    expect(cardholderCode('CODE 00', data)).toBe('00');
    expect(
      decideCard(form({ cardholder: 'CODE 00', pan: '4000000000009995' }), { now: NOW, data }),
    ).toMatchObject({ code: '00' });
  });

  it('an unknown CODE is an inline error on the cardholder field', () => {
    expect(decideCard(form({ cardholder: 'CODE 999' }), { now: NOW, data })).toMatchObject({
      kind: 'invalid',
      errors: [{ field: 'cardholder', code: '189' }],
    });
  });

  it('a scenario override wins over the table (code and 3DS mode)', () => {
    const d = decideCard(form(), { now: NOW, data, override: { code: '61', three_ds: 'challenge' } });
    expect(d).toMatchObject({ kind: 'decided', code: '61', three_ds: 'challenge', rule: 'override' });
  });

  it('is deterministic: the same form and time give the same decision', () => {
    expect(decideCard(form(), { now: NOW, data })).toEqual(decideCard(form(), { now: NOW, data }));
  });
});

describe('3-D Secure and verdicts', () => {
  it('OTP 1111 passes the pending code; another OTP or Cancel ends in 191', () => {
    expect(decideChallenge('00', { otp: '1111' }, data)).toBe('00');
    expect(decideChallenge('51', { otp: ' 1111 ' }, data)).toBe('51');
    expect(decideChallenge('00', { otp: '1112' }, data)).toBe('191');
    expect(decideChallenge('00', { otp: '' }, data)).toBe('191');
    expect(decideChallenge('00', { cancel: true }, data)).toBe('191');
  });

  it('maps each code through the data file, with the catalog message', () => {
    expect(verdictOf('00', data)).toEqual({ approved: true, code: '00' });
    expect(verdictOf('51', data)).toEqual({
      approved: false,
      code: '51',
      status: 'error',
      error: { error_type: 'ERROR_PAYMENT', error_message: 'Недостаточно средств на карте.', code: '51' },
    });
    expect(verdictOf('191', data)).toMatchObject({ status: 'error', error: { error_type: 'ERROR_INPUT' } });
    expect(verdictOf('04', data)).toMatchObject({ status: 'denied', error: { error_type: 'ERROR_PAYMENT' } });
  });

  it('the service gateway refuses contract 0000000000 with denied / ERROR_SYSTEM, and credits anything else', () => {
    expect(
      serviceVerdict({ type: 'service', service: { service_id: 1, contract_value: '0000000000' } }, data),
    ).toEqual({
      credited: false,
      status: 'denied',
      error: {
        error_type: 'ERROR_SYSTEM',
        error_message: data.outcomes.service_gateway_refusal.error_message,
      },
    });
    expect(
      serviceVerdict({ type: 'service', service: { service_id: 1, contract_value: '17-25022' } }, data),
    ).toEqual({ credited: true });
    expect(serviceVerdict({ type: 'ecom', service: null }, data)).toEqual({ credited: true });
    expect(
      serviceVerdict({ type: 'service', service: { service_id: 1, contract_value: '1' } }, data, {
        service: 'refuse',
      }),
    ).toMatchObject({
      credited: false,
    });
  });
});

describe('the data files', () => {
  const { validator } = createSchemaRegistry();

  it('match their contracts', () => {
    const cards = validator('testCardsData');
    expect(cards(data.cards), JSON.stringify(cards.errors)).toBe(true);
    const outcomes = validator('acquirerOutcomesData');
    expect(outcomes(data.outcomes), JSON.stringify(outcomes.errors)).toBe(true);
  });

  it('map every acquirer code of the catalog, and nothing else', () => {
    expect(Object.keys(data.outcomes.codes).sort()).toEqual(catalogAcquirerCodes().sort());
    for (const code of catalogAcquirerCodes()) expect(data.messages.get(code), code).toBeTruthy();
  });

  it('hold exactly the spec §8 table', () => {
    expect(data.cards.cards.map((c) => [c.display, c.code, c.three_ds])).toEqual([
      ['4405 6397 0401 5096', '00', 'frictionless'],
      ['5522 0427 0506 6736', '00', 'challenge'],
      ['3775 1450 0004 820', '00', 'frictionless'],
      ['4003 0327 0454 7597', '54', 'frictionless'],
      ['5578 3427 1075 0560', '04', 'frictionless'],
      ['4000 0000 0000 0002', '05', 'frictionless'],
      ['4000 0000 0000 9995', '51', 'frictionless'],
      ['4000 0000 0000 0119', '-22', 'frictionless'],
    ]);
    for (const c of data.cards.cards) expect(c.display.replace(/ /g, '')).toBe(c.pan);
  });
});
