import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clipDepth,
  jsonTextDepth,
  jsonTextExceeds,
  MAX_JSON_DEPTH,
  notShown,
  safeJsonStringify,
  valueDepth,
} from './json-depth.js';
import { setOwn } from './own-property.js';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('jsonTextDepth', () => {
  it('counts levels of objects and arrays, not brackets inside strings', () => {
    expect(jsonTextDepth('1')).toBe(0);
    expect(jsonTextDepth('"[[[{"')).toBe(0);
    expect(jsonTextDepth('{}')).toBe(1);
    expect(jsonTextDepth('{"order":{"service":{"service_id":1}}}')).toBe(3);
    expect(jsonTextDepth('{"a":"x\\"[[[","b":[{"c":"]]]}"}]}')).toBe(3);
    expect(jsonTextDepth('[[],[[]],{}]')).toBe(3);
    expect(jsonTextDepth(nested(20_000))).toBe(20_000);
  });

  it('stops once the depth exceeds the bound', () => {
    expect(jsonTextDepth(nested(20_000), 64)).toBe(65);
    expect(jsonTextDepth(nested(64), 64)).toBe(64);
  });

  it('agrees with valueDepth on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (v) => {
        expect(jsonTextDepth(JSON.stringify(v))).toBe(valueDepth(v));
      }),
      { numRuns: 300, seed: 22 },
    );
  });
});

describe('jsonTextExceeds', () => {
  it('is false without counting past the limit, and exact when the brackets are many', () => {
    expect(jsonTextExceeds('{"order":{"amount":1}}', 2)).toBe(false);
    expect(jsonTextExceeds('{"order":{"amount":1}}', 1)).toBe(true);
    // Many brackets, little depth: the scan decides.
    expect(jsonTextExceeds(`[${'[],'.repeat(500)}[]]`, 64)).toBe(false);
    expect(jsonTextExceeds(`{"s":"${'['.repeat(500)}"}`, 64)).toBe(false);
    expect(jsonTextExceeds(nested(65), 64)).toBe(true);
    expect(jsonTextExceeds(nested(64), 64)).toBe(false);
  });
});

describe('valueDepth', () => {
  it('walks 20,000 levels without recursion', () => {
    expect(valueDepth(JSON.parse(nested(20_000)))).toBe(20_000);
    expect(valueDepth(JSON.parse(nested(20_000)), 10)).toBe(11);
    expect(valueDepth(null)).toBe(0);
  });
});

describe('clipDepth', () => {
  it('cuts what nests deeper than the limit and leaves the rest equal', () => {
    expect(clipDepth({ a: [[1]], b: 'x' }, 2)).toEqual({ a: [notShown(2)], b: 'x' });
    expect(clipDepth([1, { a: 2 }], 2)).toEqual([1, { a: 2 }]);
    expect(clipDepth('s', 1)).toBe('s');
    const clipped = clipDepth(JSON.parse(`{"order":{"order_id":"x"},"extra":${nested(20_000)}}`));
    expect(valueDepth(clipped)).toBe(MAX_JSON_DEPTH);
    expect(JSON.stringify(clipped)).toContain(notShown());
    expect((clipped as { order: unknown }).order).toEqual({ order_id: 'x' });
  });

  it('keeps a "__proto__" key a plain key of the copy', () => {
    const v = JSON.parse('{"__proto__":{"polluted":1},"a":{"__proto__":[1]}}') as Record<string, unknown>;
    const copy = clipDepth(v, 5) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(copy.polluted).toBeUndefined();
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(v));
  });

  it('is the identity for values within the limit', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        expect(JSON.stringify(clipDepth(v, 8))).toBe(JSON.stringify(v));
      }),
      { numRuns: 300, seed: 23 },
    );
  });
});

describe('safeJsonStringify and setOwn', () => {
  it('serializes what JSON.stringify overflows on, cut at the limit', () => {
    const deep = JSON.parse(nested(20_000));
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    const text = safeJsonStringify({ entries: [deep] });
    expect(jsonTextDepth(text)).toBe(MAX_JSON_DEPTH);
    expect(text).toContain(notShown());
    expect(safeJsonStringify({ a: 1 })).toBe('{"a":1}');
  });

  it('setOwn adds "__proto__" as a key, not a prototype', () => {
    const o: Record<string, unknown> = {};
    setOwn(o, '__proto__', { port: 1 });
    setOwn(o, 'constructor', 2);
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(o.port).toBeUndefined();
    expect(Object.keys(o)).toEqual(['__proto__', 'constructor']);
  });
});
