import { setOwn } from './own-property.js';

/**
 * Where deep JSON stops (issue 22). A ktpay order nests 3 levels (`order.service.service_id`); the
 * sandbox accepts 64 levels of objects and arrays in a decrypted payload, an admin JSON body, a
 * config file or a scenario file, and refuses deeper ones with a clear message. Everything here is
 * iterative: a 20,000-level value must not overflow the stack while it is being measured or cut.
 */

/** The most levels of nested objects and arrays the sandbox takes in (docs/reliability.md, "Limits"). */
export const MAX_JSON_DEPTH = 64;

/** What stands where a value was cut because it nests deeper than `limit` levels. */
export const notShown = (limit: number = MAX_JSON_DEPTH) => `[not shown: nested deeper than ${limit} levels]`;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * The nesting depth of valid JSON text (`{}` and `[]` are 1, a scalar 0), scanning characters
 * without building anything. Stops as soon as the depth exceeds `stopAbove` and returns that
 * depth, so a limit check costs one pass over a normal payload and never more.
 *
 * @example
 * jsonTextDepth('{"order":{"amount":1}}') // 2
 * jsonTextDepth('[[[[]]]]', 2)             // 3 (stopped early)
 */
export function jsonTextDepth(text: string, stopAbove = Infinity): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string: brackets inside it do not count.
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return max;
}

/**
 * True when valid JSON text nests deeper than `limit` levels. The check the request paths make:
 * a text with at most `limit` opening brackets in all (strings included) cannot nest deeper, and
 * counting them is a few `indexOf` calls (a normal order has 3), so only a suspicious text pays
 * for the character scan of {@link jsonTextDepth}.
 *
 * @example
 * jsonTextExceeds('{"order":{"amount":1}}', 64) // false, after two indexOf calls per bracket
 */
export function jsonTextExceeds(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  let openers = 0;
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i >= 0; i = text.indexOf(bracket, i + 1)) {
      if (++openers > limit) return jsonTextDepth(text, limit) > limit;
    }
  }
  return false;
}

const isContainer = (v: unknown): v is object => typeof v === 'object' && v !== null;

/**
 * The nesting depth of a parsed value (objects and arrays; a scalar is 0), walked with an explicit
 * stack. Stops once the depth exceeds `stopAbove`.
 *
 * @example
 * valueDepth({ order: { amount: 1 } }) // 2
 */
export function valueDepth(value: unknown, stopAbove = Infinity): number {
  if (!isContainer(value)) return 0;
  let max = 0;
  const stack: Array<[object, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) {
      max = depth;
      if (max > stopAbove) return max;
    }
    for (const v of Object.values(node)) if (isContainer(v)) stack.push([v, depth + 1]);
  }
  return max;
}

/**
 * A copy of `value` in which every object or array deeper than `limit` levels is replaced by the
 * {@link notShown} placeholder; shallower parts are copied as they are (keys such as `__proto__`
 * stay plain keys). Used where something deeper than the limit must still be shown or stored: a
 * refused payload in the journal, a row an older version stored.
 *
 * @example
 * clipDepth({ a: [[1]] }, 2) // { a: ['[not shown: nested deeper than 2 levels]'] }
 */
export function clipDepth(value: unknown, limit: number = MAX_JSON_DEPTH): unknown {
  if (!isContainer(value)) return value;
  const placeholder = notShown(limit);
  if (limit < 1) return placeholder;
  const copyOf = (v: object): Record<string, unknown> | unknown[] => (Array.isArray(v) ? [] : {});
  const root = copyOf(value);
  const stack: Array<[object, Record<string, unknown> | unknown[], number]> = [[value, root, 1]];
  while (stack.length > 0) {
    const [from, to, depth] = stack.pop()!;
    for (const [key, v] of Object.entries(from)) {
      let out: unknown = v;
      if (isContainer(v)) {
        if (depth >= limit) {
          out = placeholder;
        } else {
          out = copyOf(v);
          stack.push([v, out as Record<string, unknown> | unknown[], depth + 1]);
        }
      }
      if (Array.isArray(to)) to[Number(key)] = out;
      else setOwn(to, key, out);
    }
  }
  return root;
}

/**
 * `JSON.stringify`, except that a value too deep for it (V8 overflows the stack after a few
 * thousand levels) is cut at {@link MAX_JSON_DEPTH} levels below the top and serialized again, instead of
 * throwing. The normal path costs nothing extra: the cut happens only after a RangeError.
 *
 * @example
 * safeJsonStringify(JSON.parse('['.repeat(20_000) + ']'.repeat(20_000))) // '[[[…"[not shown: …]"…]]]'
 */
export function safeJsonStringify(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return JSON.stringify(clipDepth(value, MAX_JSON_DEPTH));
  }
}
