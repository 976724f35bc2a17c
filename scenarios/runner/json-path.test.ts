import { describe, expect, it } from 'vitest';
import { describeExpectation, meets, mismatches, parsePath, readPath } from './json-path.js';

describe('readPath (the JSONPath subset of verify)', () => {
  const doc = { status: 'paid', shipments: 1, items: [{ sku: 'A' }, { sku: 'B' }], 'odd key': { x: null } };

  it('reads dotted names, indexes (also negative), quoted keys and .length', () => {
    expect(readPath(doc, '$.status')).toEqual({ found: true, value: 'paid' });
    expect(readPath(doc, '$.items[1].sku')).toEqual({ found: true, value: 'B' });
    expect(readPath(doc, '$.items[-1].sku')).toEqual({ found: true, value: 'B' });
    expect(readPath(doc, "$['odd key'].x")).toEqual({ found: true, value: null });
    expect(readPath(doc, '$.items.length')).toEqual({ found: true, value: 2 });
    expect(readPath(doc, '$')).toEqual({ found: true, value: doc });
  });

  it('tells a missing path from a null value, and never reads inherited properties', () => {
    expect(readPath(doc, '$.nope')).toEqual({ found: false, value: undefined });
    expect(readPath(doc, '$.items[5]')).toEqual({ found: false, value: undefined });
    expect(readPath(doc, '$.status.constructor')).toEqual({ found: false, value: undefined });
    expect(readPath(doc, '$.toString')).toEqual({ found: false, value: undefined });
  });

  it('refuses syntax it does not support instead of guessing', () => {
    expect(() => parsePath('status')).toThrow(/must start with \$/);
    expect(() => parsePath('$.items[*].sku')).toThrow(/cannot read/);
    expect(() => parsePath('$..sku')).toThrow(/cannot read/);
  });
});

describe('expectations', () => {
  it('compares literals by value and applies each operator', () => {
    const v = (value: unknown) => ({ found: true, value });
    expect(meets(v('paid'), 'paid')).toBe(true);
    expect(meets(v(1), '1')).toBe(false);
    expect(meets(v('new'), { not_in: ['paid', 'refunded'] })).toBe(true);
    expect(meets(v('paid'), { not_in: ['paid'] })).toBe(false);
    expect(meets(v(2), { gte: 2 })).toBe(true);
    expect(meets(v(2), { lt: 2 })).toBe(false);
    expect(meets(v('ORD-1'), { matches: '^ORD-' })).toBe(true);
    expect(meets({ found: false, value: undefined }, { exists: false })).toBe(true);
    expect(meets({ found: false, value: undefined }, 'paid')).toBe(false);
    expect(meets({ found: false, value: undefined }, { ne: 'paid' })).toBe(true);
  });

  it('lists every miss with the expectation in words and the actual value', () => {
    expect(
      mismatches(
        { status: 'paid', shipments: 2 },
        { '$.status': 'paid', '$.shipments': 1, '$.paid_at': { exists: true } },
      ),
    ).toEqual([
      { path: '$.shipments', expected: '== 1', actual: '2' },
      { path: '$.paid_at', expected: 'present', actual: '(missing)' },
    ]);
    expect(describeExpectation({ in: ['a', 'b'] })).toBe('one of ["a","b"]');
  });
});
