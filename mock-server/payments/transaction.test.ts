import { describe, expect, it } from 'vitest';
import { NO_REFUNDS, refundedTotal, transactionUser, type TransactionUser } from './transaction.js';

describe('transactionUser', () => {
  it('is null without a user', () => {
    expect(transactionUser(undefined)).toBeNull();
  });

  it('returns the payload’s own object when it holds exactly the known fields, in order', () => {
    const full = { merchant_user_id: 'u-1', phone: '+77778889900', email: 'a@example.kz' };
    const some = { merchant_user_id: 42, email: 'a@example.kz' };
    const none = {};
    expect(transactionUser(full)).toBe(full);
    expect(transactionUser(some)).toBe(some);
    expect(transactionUser(none)).toBe(none);
  });

  it('copies only the known fields, in the contract’s order, from anything else', () => {
    const extra = { phone: '+77778889900', nickname: 'x' } as TransactionUser;
    const reordered = { email: 'a@example.kz', merchant_user_id: 'u-1' };
    const withUndefined = { merchant_user_id: 'u-1', phone: undefined } as unknown as TransactionUser;
    expect(transactionUser(extra)).toStrictEqual({ phone: '+77778889900' });
    expect(JSON.stringify(transactionUser(reordered))).toBe(
      '{"merchant_user_id":"u-1","email":"a@example.kz"}',
    );
    expect(transactionUser(withUndefined)).toStrictEqual({ merchant_user_id: 'u-1' });
    expect(transactionUser(withUndefined)).not.toBe(withUndefined);
  });
});

describe('NO_REFUNDS', () => {
  it('is one frozen empty list: a refund makes a new one', () => {
    expect(NO_REFUNDS).toEqual([]);
    expect(Object.isFrozen(NO_REFUNDS)).toBe(true);
    expect(refundedTotal({ refunds: NO_REFUNDS })).toBe(0);
    expect(refundedTotal({ refunds: [...NO_REFUNDS, { amount: 10.1, at: 0, reason: null }] })).toBe(10.1);
  });
});
