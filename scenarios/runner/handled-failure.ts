/**
 * Handled or crashed: how a shop's answer to a failed gateway call is judged (issue 18).
 *
 * A service whose upstream failed answers 502, 503 or 504 (RFC 9110 §15.6.3–15.6.5), so those, with
 * a body, are a handled failure. A crash is what a shop does not choose: a 500, a dropped connection,
 * a 5xx with nothing in it, or a body that shows the exception it did not catch.
 */

/** Connection errors that mean "nobody answers there" (the shop is not running), not a crash mid-answer. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_INVALID_URL',
]);

/**
 * Whether a failed HTTP exchange never reached the shop (refused, no such host) rather than the shop
 * dropping the connection it had accepted (reset, closed before or while answering).
 *
 * @example
 * unreachable('ECONNREFUSED'); // true: start the shop
 * unreachable('UND_ERR_SOCKET'); // false: the shop closed the connection, a crash
 */
export function unreachable(code: string | undefined): boolean {
  return code !== undefined && UNREACHABLE.has(code);
}

/**
 * Stack traces and uncaught-exception text of the common server stacks. Each needs a shape a person
 * would not write in an error message for a shopper (a frame with a file and line, a qualified
 * exception class, an interpreter banner), so a sentence such as "Error: try again" passes.
 */
const LEAKS: { what: string; re: RegExp }[] = [
  {
    what: 'a JavaScript stack frame',
    re: /^\s*at (?:async )?(?:[\w$.<>[\]]+ )?\(?(?:file:\/\/|node:|\/|[A-Za-z]:\\)[^\s()]*:\d+:\d+\)?\s*$/m,
  },
  {
    what: 'a JavaScript error class',
    re: /(?:^|[\s"'>])(?:[A-Z][A-Za-z0-9]*Error|[A-Z][A-Za-z0-9]*Exception)(?: \[[A-Z_]+\])?: \S/m,
  },
  { what: 'a Python traceback', re: /Traceback \(most recent call last\)|^\s*File "[^"]+", line \d+/m },
  {
    what: 'a Java/Kotlin stack frame',
    re: /^\s*at [a-z][\w$]*(?:\.[\w$<>]+)+\([\w$]+\.(?:java|kt|scala|groovy):\d+\)/m,
  },
  {
    what: 'a qualified exception class',
    re: /\b(?:[a-z][\w]*\.)+[A-Z]\w*(?:Exception|Error)\b|Exception in thread "/,
  },
  {
    what: 'a PHP fatal error or trace',
    re: /(?:PHP )?Fatal error: |Uncaught [A-Z]\w*|Stack trace:\s*#0|^#\d+ \S+\.php\(\d+\)|\.php on line \d+/m,
  },
  {
    what: 'a .NET stack frame',
    re: /^\s*at [A-Z][\w.]+\(.*\) in .+:line \d+|\bSystem\.[A-Z]\w*Exception\b/m,
  },
  { what: 'a Ruby backtrace', re: /\.rb:\d+:in [`'][^'`]+'/ },
  { what: 'a Go panic', re: /^panic: |^goroutine \d+ \[running\]:/m },
  // "trace" alone is often a request id; only a list of frames counts.
  {
    what: 'a serialised stack',
    re: /"(?:stack|stackTrace|stack_trace|backtrace)"\s*:\s*[["]|"trace"\s*:\s*\[\s*[{"]/,
  },
];

/**
 * The first sign that a body leaks a stack trace or an exception's text, or undefined.
 *
 * @example
 * leakIn('TypeError: Cannot read properties of undefined\n    at checkout (/app/shop.js:12:9)');
 * // { what: 'a JavaScript stack frame', excerpt: 'at checkout (/app/shop.js:12:9)' }
 */
export function leakIn(body: string): { what: string; excerpt: string } | undefined {
  const text = body.slice(0, 100_000);
  for (const { what, re } of LEAKS) {
    const m = re.exec(text);
    if (m) return { what, excerpt: m[0].trim().slice(0, 160) };
  }
  return undefined;
}

/** The shop's answer as the runner saw it. */
export interface ShopAnswer {
  /** HTTP status; undefined when no answer came. */
  status?: number | undefined;
  text?: string | undefined;
  /** The connection was dropped (reset or closed) instead of an answer: the error code or message. */
  dropped?: string | undefined;
}

export type AnswerVerdict =
  | { ok: true; note: string }
  | { ok: false; check: 'merchant_5xx' | 'trigger_response'; why: string; expected: string };

/**
 * Judges the shop's answer when its gateway call failed (`status: handled`): below 500 passes; a
 * 5xx from `accepted` (default 502, 503, 504) passes when it has a body that leaks nothing; a 500,
 * another 5xx, an empty 5xx, a leaked stack trace or a dropped connection is `merchant_5xx`.
 *
 * @example
 * judgeHandled({ status: 502, text: '{"error":"payment unavailable"}' }, [502, 503, 504]).ok; // true
 * judgeHandled({ status: 500, text: 'Internal Server Error' }, [502, 503, 504]).ok; // false
 */
export function judgeHandled(answer: ShopAnswer, accepted: readonly number[]): AnswerVerdict {
  const expected = `an answer below 500, or ${accepted.join('/')} with a body that shows no stack trace`;
  if (answer.dropped !== undefined)
    return {
      ok: false,
      check: 'merchant_5xx',
      why: `the shop dropped the connection instead of answering (${answer.dropped})`,
      expected,
    };
  const status = answer.status ?? 0;
  const text = answer.text ?? '';
  const leak = leakIn(text);
  if (leak)
    return {
      ok: false,
      check: 'merchant_5xx',
      why: `the answer (${status}) leaks ${leak.what}: "${leak.excerpt}" — an exception the shop did not handle`,
      expected,
    };
  if (status < 500) return { ok: true, note: `answered ${status}` };
  if (status === 500)
    return {
      ok: false,
      check: 'merchant_5xx',
      why: 'the shop answered 500 (a crash, not a handled failure)',
      expected,
    };
  if (!accepted.includes(status))
    return {
      ok: false,
      check: 'merchant_5xx',
      why: `the shop answered ${status}, which is not a handled gateway failure here (accepted: ${accepted.join(', ')}; trigger.gateway_error.status changes the list)`,
      expected,
    };
  if (text.trim() === '')
    return {
      ok: false,
      check: 'merchant_5xx',
      why: `the shop answered ${status} with an empty body (what a proxy sends when the app behind it died)`,
      expected,
    };
  return { ok: true, note: `answered ${status} with a body: a handled upstream failure (RFC 9110 §15.6)` };
}
