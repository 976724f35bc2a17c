/**
 * What the probe never lets out — in its output, its reports or a recording:
 *
 * - the credentials: the upstream `app_id` and `app_key` (the app_key is the gateway's *public*
 *   key, but together with the app_id it lets anyone create payments as the merchant, so both are
 *   treated as secrets), and the sandbox's admin token;
 * - what identifies a payment at the gateway: transaction hashes (any 40-hex string), the
 *   `merchant_id`, the parameters of payment-page URLs and the `signed_order` document.
 *
 * Redaction keeps each value's type and format (a hash stays 40 hex, a URL a URL, base64 base64),
 * and both sides of a comparison go through it, so it never changes a verdict.
 */

import { URL_FIELDS } from './compare-answers.js';

const HEX40 = /(?<![0-9a-f])[0-9a-f]{40}(?![0-9a-f])/g;

/** base64 of a placeholder document: still base64, as `signed_order` is. */
export const REDACTED_SIGNED_ORDER = Buffer.from(
  '<document><redacted by="ktpay-mock probe"/></document>',
).toString('base64');

export interface Redactor {
  /** A string with every secret and every transaction hash replaced. */
  text(s: string): string;
  /** An answer body: JSON is walked field by field (see above); anything else as text. */
  body(raw: string): string;
}

/**
 * A redactor for one side of a probe run. Hashes map to stable stand-ins (`fff…f1`, `fff…f2` in
 * order of appearance), so the same hash reads the same everywhere in one run.
 *
 * @example
 * const r = createRedactor({ app_id: '0a1b…', app_key: 'oy8U…=' });
 * r.text('no merchant 0a1b…') // 'no merchant [app_id]'
 */
export function createRedactor(secrets: Record<string, string | undefined>): Redactor {
  const pairs: [string, string][] = [];
  for (const [label, value] of Object.entries(secrets)) {
    if (!value) continue;
    pairs.push([value, `[${label}]`]);
    const encoded = encodeURIComponent(value);
    if (encoded !== value) pairs.push([encoded, `[${label}]`]);
  }
  // Longest first, so a secret that contains another is replaced whole.
  pairs.sort((a, b) => b[0].length - a[0].length);
  const hashes = new Map<string, string>();
  const standIn = (hash: string) => {
    let s = hashes.get(hash);
    if (!s) {
      s = ('f'.repeat(40) + (hashes.size + 1).toString(16)).slice(-40);
      hashes.set(hash, s);
    }
    return s;
  };

  const text = (s: string): string => {
    let out = s;
    for (const [value, label] of pairs) out = out.split(value).join(label);
    return out.replace(HEX40, standIn);
  };

  const url = (s: string): string => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return text(s);
    }
    if (!u.search) return text(s);
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, 'redacted');
    return text(u.toString());
  };

  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'string') {
      if (key === 'signed_order') return REDACTED_SIGNED_ORDER;
      return URL_FIELDS.has(key) ? url(v) : text(v);
    }
    if (typeof v === 'number' && key === 'merchant_id') return 0;
    if (Array.isArray(v)) return v.map((item) => walk(item, key));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v)) out[text(k)] = walk(child, k);
      return out;
    }
    return v;
  };

  return {
    text,
    body(raw) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return text(raw);
      }
      return JSON.stringify(walk(parsed, ''));
    },
  };
}
