import { ErrorCode } from '../../contracts/error-catalog.js';
import { decodeOriginalBase64, isOriginalBase64 } from '../crypto/sealed-box.js';
import { KtpayError } from './ktpay-error.js';

/**
 * Every contract warning about the body's encoding starts with this; the runner's `encoding` check
 * fails on any of them.
 */
export const ENCODING_WARNING_PREFIX = 'encoding: ';

/** The base64 text of a sealed body, decoded, and what was wrong with it but tolerated. */
export interface SealedBodyText {
  cipher: Uint8Array;
  /** Contract warnings (each starts with {@link ENCODING_WARNING_PREFIX}); empty for a clean body. */
  warnings: readonly string[];
}

const NO_WARNINGS: readonly string[] = Object.freeze([]);
const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\f', '\v']);
const TOLERATED =
  'accepted by the sandbox, but the real gateway may refuse it [mock]: send exactly the base64 text';

const warn = (what: string) => `${ENCODING_WARNING_PREFIX}${what}; ${TOLERATED}`;
const refuse = (diagnostic: string) => new KtpayError(ErrorCode.BAD_DATA_4220101, { diagnostic });

/** The whitespace at one end of the body, in words (`undefined` when there is none). */
function describeEdge(edge: string, end: 'start' | 'end'): string | undefined {
  if (edge === '') return undefined;
  if (end === 'end' && /^\r\n$/.test(edge)) return 'the body ends with CRLF (\\r\\n), a Windows line end';
  if (end === 'end' && edge === '\n')
    return 'the body ends with a newline (\\n), as echo, PHP_EOL or a file saved with a final newline add';
  const shown = JSON.stringify(edge.length > 12 ? `${edge.slice(0, 12)}…` : edge);
  return `the body ${end === 'start' ? 'starts' : 'ends'} with whitespace (${shown})`;
}

/** Why a text without whitespace, BOM or quotes is not ORIGINAL base64, in words a developer can act on. */
function explainNotBase64(text: string): string {
  if (/^[{[]/.test(text))
    return 'the body looks like plain JSON: seal it with crypto_box_seal and base64-encode it first';
  if (/%(?:2[BbFf]|3[Dd])/.test(text))
    return 'the base64 is percent-encoded (%2B, %2F or %3D: urlencode, encodeURIComponent or a form field): send the base64 text itself as the raw body';
  if (/[-_]/.test(text) && /^[A-Za-z0-9\-_]+={0,2}$/.test(text))
    return 'the body is URL-safe base64 (it has - or _): use the ORIGINAL variant (sodium.base64_variants.ORIGINAL)';
  if (/^[A-Za-z0-9+/]+$/.test(text) && text.length % 4 !== 1)
    return `the base64 has no = padding (${text.length} characters, not a multiple of 4): use the ORIGINAL variant, which pads`;
  const bad = [...text].findIndex((c) => !/[A-Za-z0-9+/=]/.test(c));
  if (bad < 0) return `the body is not base64 text (${text.length} characters, not a multiple of 4)`;
  const c = [...text][bad]!;
  const code = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `the body is not base64 text (character ${JSON.stringify(c)}, U+${code}, at ${bad})`;
}

/**
 * Reads the sealed body's base64 text (spec §2) as real clients send it. A clean ORIGINAL-variant
 * body takes one pass over its characters and nothing else. Otherwise [mock]:
 *
 * - what carries no data is removed, and each removal is a contract warning: a UTF-8 byte-order
 *   mark, whitespace or newlines around the text (LF or CRLF), and line breaks inside it (MIME
 *   wrapping every 76 or 64 characters);
 * - what changes the text itself is refused with `4220101` and a hint naming it: a JSON string
 *   literal (`"…"`), the URL-safe alphabet, missing `=` padding, percent-encoding, spaces inside
 *   (a `+` turned into a space by form decoding), anything else that is not base64.
 *
 * @example
 * const { cipher, warnings } = readSealedBody(request.body);
 * request.ktpay.warnings.push(...warnings);
 */
export function readSealedBody(raw: string): SealedBodyText {
  const clean = decodeOriginalBase64(raw);
  if (clean) return { cipher: clean, warnings: NO_WARNINGS };
  return readTolerantly(raw);
}

/** The slow path of {@link readSealedBody}: only bodies that are not clean base64 come here. */
function readTolerantly(raw: string): SealedBodyText {
  const warnings: string[] = [];
  let text = raw;
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    warnings.push(
      warn(
        'the body starts with a UTF-8 byte-order mark (EF BB BF), as files saved as "UTF-8 with BOM" on Windows have',
      ),
    );
  }
  let start = 0;
  let end = text.length;
  while (start < end && WHITESPACE.has(text[start]!)) start++;
  while (end > start && WHITESPACE.has(text[end - 1]!)) end--;
  if (start === end)
    throw refuse('the request body is empty: send the base64 of crypto_box_seal(json, app_key)');
  for (const edge of [describeEdge(text.slice(0, start), 'start'), describeEdge(text.slice(end), 'end')]) {
    if (edge) warnings.push(warn(edge));
  }
  text = text.slice(start, end);

  if (text.startsWith('"')) {
    throw refuse(
      `the body is a JSON string literal ("…"), as json_encode($sealed), JSON.stringify(sealed) or Guzzle's 'json' option make it: send the base64 text itself as the raw body (Guzzle: 'body' => $sealed)`,
    );
  }
  if (/[\r\n]/.test(text)) {
    const lines = text.split(/\r\n|\r|\n/);
    const widths = new Set(lines.slice(0, -1).map((l) => l.length));
    const crlf = text.includes('\r\n') ? ' with CRLF line ends' : '';
    warnings.push(
      warn(
        widths.size === 1
          ? `the base64 is wrapped into lines of ${[...widths][0]} characters${crlf} (MIME style: Python's base64.encodebytes, openssl base64 without -A, Java's getMimeEncoder)`
          : `the base64 is split across ${lines.length} lines${crlf}`,
      ),
    );
    text = lines.join('');
  }
  if (plusesTurnedToSpaces(raw)) {
    throw refuse(
      'the base64 has spaces where + signs belong: the body was URL- or form-decoded on the way (a + means a space there); send the raw body, never form-encoded',
    );
  }
  if (/[ \t]/.test(text))
    throw refuse('the base64 has spaces or tabs inside it: send the base64 text in one piece');
  const cipher = decodeOriginalBase64(text);
  if (!cipher) throw refuse(explainNotBase64(text));
  return { cipher, warnings };
}

/** True when the body is base64 once each space is a `+` again (a form decoder's doing). */
function plusesTurnedToSpaces(raw: string): boolean {
  if (!raw.includes(' ')) return false;
  const text = raw
    .replace(/^\uFEFF/, '')
    .replace(/[\r\n]/g, '')
    .replace(/ /g, '+');
  return isOriginalBase64(text.replace(/^[\t\f\v]+|[\t\f\v]+$/g, ''));
}
