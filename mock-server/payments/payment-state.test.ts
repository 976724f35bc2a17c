import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { toAlmatyIso } from '../shared/almaty-time.js';
import {
  EVENT_TYPES,
  isFinal,
  isRejection,
  isValidAmount,
  transition,
  type PaymentEvent,
  type PaymentEventType,
  type Rejection,
} from './payment-state.js';
import { STATUSES, type PaymentStatus, type Transaction } from './transaction.js';

const T0 = Date.UTC(2026, 0, 15, 8, 0, 0); // 14:00:00 in Almaty
const AT = T0 + 60_000;

const card = {
  masked: '440563******5096',
  brand: 'visa',
  cardholder: 'IVAN IVANOV',
  exp_month: '12',
  exp_year: '2030',
};

function txIn(status: PaymentStatus): Transaction {
  const refunds = status === 'partially_refunded' ? [{ amount: 400, at: T0 + 10, reason: null }] : [];
  const refunded = status === 'refunded' ? [{ amount: 1000, at: T0 + 10, reason: 'full' }] : refunds;
  return {
    id: 1,
    hash: 'a'.repeat(40),
    app_id: 'e2d3d70d53c67bcd377266f74e98587c',
    merchant_id: 1,
    order_id: 'Order1',
    amount: 1000,
    description: 'Тестовый заказ',
    type: 'ecom',
    service: null,
    urls: {},
    show_close_button: true,
    user: null,
    payload: {},
    status,
    status_created_at: T0,
    status_updated_at: null,
    error: null,
    history: [{ status: 'pending', at: T0 - 1000, event: 'create' }],
    card: null,
    refunds: refunded,
    created_at: T0 - 1000,
    updated_at: null,
  };
}

function eventOf(type: PaymentEventType): PaymentEvent {
  switch (type) {
    case 'authorize':
      return { type, at: AT, card };
    case 'confirm':
      return { type, at: AT, detail: 'credited' };
    case 'fail':
      return {
        type,
        at: AT,
        status: 'error',
        error: { error_type: 'ERROR_PAYMENT', error_message: 'Недостаточно средств на карте.', code: '51' },
        card,
      };
    case 'clear':
      return { type, at: AT };
    case 'cancel':
      return { type, at: AT, reason: 'shopper changed their mind' };
    case 'refund':
      return { type, at: AT, amount: 100, reason: null };
  }
}

/**
 * The whole lifecycle of spec §9 as a table: for each (status, event), the status it leads to or
 * the catalog code of its rejection.
 */
const EXPECTED: Record<PaymentStatus, Record<PaymentEventType, PaymentStatus | number>> = {
  pending: {
    authorize: 'authorized',
    confirm: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    fail: 'error',
    clear: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    cancel: 'cancelled',
    refund: ErrorCode.REFUND_BEFORE_CLEARING_4090116,
  },
  authorized: {
    authorize: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    confirm: 'success',
    fail: 'error',
    clear: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    cancel: 'cancelled',
    refund: ErrorCode.REFUND_BEFORE_CLEARING_4090116,
  },
  success: {
    authorize: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    confirm: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    fail: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    clear: 'completed',
    cancel: 'cancelled',
    refund: ErrorCode.REFUND_BEFORE_CLEARING_4090116,
  },
  completed: {
    authorize: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    confirm: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    fail: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    clear: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    cancel: ErrorCode.CANCEL_AFTER_CLEARING_4090115,
    refund: 'partially_refunded',
  },
  error: {
    authorize: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    confirm: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    fail: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    clear: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    cancel: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    refund: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
  },
  denied: {
    authorize: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    confirm: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    fail: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    clear: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    cancel: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    refund: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
  },
  cancelled: {
    authorize: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    confirm: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    fail: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    clear: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    cancel: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    refund: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
  },
  partially_refunded: {
    authorize: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    confirm: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    fail: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    clear: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    cancel: ErrorCode.CANCEL_AFTER_CLEARING_4090115,
    refund: 'partially_refunded',
  },
  refunded: {
    authorize: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    confirm: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    fail: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    clear: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    cancel: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
    refund: ErrorCode.NOT_ALLOWED_IN_STATUS_4090111,
  },
};

describe('transition(): every status × every event', () => {
  it('the table covers every status and every event', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...STATUSES].sort());
    for (const s of STATUSES) expect(Object.keys(EXPECTED[s]).sort()).toEqual([...EVENT_TYPES].sort());
  });

  for (const status of STATUSES) {
    for (const type of EVENT_TYPES) {
      const expected = EXPECTED[status][type];
      const label = typeof expected === 'number' ? `rejected with ${expected}` : `→ ${expected}`;
      it(`${status} + ${type} ${label}`, () => {
        const before = txIn(status);
        const snapshot = structuredClone(before);
        const out = transition(before, eventOf(type));
        // Pure: the input is never mutated, whatever the outcome.
        expect(before).toEqual(snapshot);
        if (typeof expected === 'number') {
          expect(isRejection(out)).toBe(true);
          const r = out as Rejection;
          expect(r).toMatchObject({ rejected: true, code: expected, from: status, event: type });
          expect(r.message).toContain(status);
        } else {
          expect(isRejection(out)).toBe(false);
          const tx = out as Transaction;
          expect(tx.status).toBe(expected);
          expect(tx.status_created_at).toBe(AT);
          expect(tx.status_updated_at).toBeNull();
          expect(tx.updated_at).toBe(AT);
          expect(tx.history).toHaveLength(before.history.length + 1);
          expect(tx.history.at(-1)).toMatchObject({ status: expected, at: AT, event: type });
        }
      });
    }
  }
});

describe('transition(): details', () => {
  it('authorize stores the card; fail stores the error and the card', () => {
    const a = transition(txIn('pending'), eventOf('authorize')) as Transaction;
    expect(a.card).toEqual(card);
    const f = transition(txIn('authorized'), eventOf('fail')) as Transaction;
    expect(f.error).toEqual({
      error_type: 'ERROR_PAYMENT',
      error_message: 'Недостаточно средств на карте.',
      code: '51',
    });
    expect(f.card).toEqual(card);
    expect(f.history.at(-1)?.detail).toBe('acquirer code 51');
  });

  it('fail can end in denied (e.g. a service gateway refusal)', () => {
    const d = transition(txIn('authorized'), {
      type: 'fail',
      at: AT,
      status: 'denied',
      error: { error_type: 'ERROR_SYSTEM', error_message: 'refused' },
    }) as Transaction;
    expect(d.status).toBe('denied');
    expect(d.history.at(-1)?.detail).toBe('ERROR_SYSTEM');
    expect(isFinal(d.status)).toBe(true);
  });

  it('confirm records its detail (service crediting) in the history', () => {
    const s = transition(txIn('authorized'), {
      type: 'confirm',
      at: AT,
      detail: 'credited to service 1',
    }) as Transaction;
    expect(s.history.at(-1)?.detail).toBe('credited to service 1');
  });

  it('refund of the whole remainder ends in refunded; of part of it in partially_refunded', () => {
    const part = transition(txIn('completed'), {
      type: 'refund',
      at: AT,
      amount: 250.5,
      reason: 'damaged',
    }) as Transaction;
    expect(part.status).toBe('partially_refunded');
    expect(part.refunds).toEqual([{ amount: 250.5, at: AT, reason: 'damaged' }]);
    const rest = transition(part, { type: 'refund', at: AT + 1, amount: 749.5, reason: null }) as Transaction;
    expect(rest.status).toBe('refunded');
    expect(rest.refunds).toHaveLength(2);
    const fromPartial = transition(txIn('partially_refunded'), {
      type: 'refund',
      at: AT,
      amount: 600,
      reason: null,
    });
    expect((fromPartial as Transaction).status).toBe('refunded');
  });

  it('a refund larger than what remains is rejected with 4220112 and changes nothing', () => {
    const r = transition(txIn('partially_refunded'), {
      type: 'refund',
      at: AT,
      amount: 600.01,
      reason: null,
    });
    expect(r).toMatchObject({ rejected: true, reason: 'refund_exceeds_remainder', code: 4220112 });
    const r2 = transition(txIn('completed'), { type: 'refund', at: AT, amount: 1000.01, reason: null });
    expect(r2).toMatchObject({ rejected: true, code: 4220112 });
  });

  it('a refund amount that is not > 0 with at most 2 decimals is rejected with 4220114', () => {
    // 4e-9 and 1e-7 are within the 2-decimal tolerance of 0 cents (found by the fuzz suite: a
    // refund of 4e-9 once turned a payment partially_refunded with nothing refunded).
    for (const amount of [0, -5, 1.005, Number.NaN, Number.POSITIVE_INFINITY, 4e-9, 1e-7, -0]) {
      expect(transition(txIn('completed'), { type: 'refund', at: AT, amount, reason: null })).toMatchObject({
        rejected: true,
        reason: 'invalid_amount',
        code: 4220114,
      });
    }
    expect(isValidAmount(0.01)).toBe(true);
    expect(isValidAmount(10.1)).toBe(true);
    expect(isValidAmount(10.123)).toBe(false);
  });

  it('cancel keeps its reason in the history', () => {
    const c = transition(txIn('success'), eventOf('cancel')) as Transaction;
    expect(c.history.at(-1)?.detail).toBe('shopper changed their mind');
  });

  it('final statuses are exactly completed, error, denied, cancelled and refunded', () => {
    expect(STATUSES.filter(isFinal).sort()).toEqual([
      'cancelled',
      'completed',
      'denied',
      'error',
      'refunded',
    ]);
  });
});

describe('status history', () => {
  it('walks pending → authorized → success → completed with every timestamp rendered in +06:00', () => {
    let tx = txIn('pending');
    const steps: PaymentEvent[] = [
      { type: 'authorize', at: T0 + 1000, card },
      { type: 'confirm', at: T0 + 2000 },
      { type: 'clear', at: T0 + 3000 },
    ];
    for (const e of steps) {
      const next = transition(tx, e);
      if (isRejection(next)) throw new Error(next.message);
      tx = next;
    }
    expect(tx.history.map((h) => h.status)).toEqual(['pending', 'authorized', 'success', 'completed']);
    expect(tx.history.map((h) => h.event)).toEqual(['create', 'authorize', 'confirm', 'clear']);
    const rendered = tx.history.map((h) => toAlmatyIso(h.at));
    expect(rendered).toEqual([
      '2026-01-15T13:59:59+06:00',
      '2026-01-15T14:00:01+06:00',
      '2026-01-15T14:00:02+06:00',
      '2026-01-15T14:00:03+06:00',
    ]);
    for (const r of rendered) expect(r).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+06:00$/);
  });

  it('a rejected event leaves the history untouched', () => {
    const tx = txIn('error');
    const r = transition(tx, eventOf('clear'));
    expect(isRejection(r)).toBe(true);
    expect(tx.history).toHaveLength(1);
  });
});
