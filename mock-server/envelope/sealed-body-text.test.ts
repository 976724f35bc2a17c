import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KtpayError } from './ktpay-error.js';
import { ENCODING_WARNING_PREFIX, readSealedBody } from './sealed-body-text.js';

/** 100 bytes: base64 with `==` padding, and with `+` (first) and `/` in it. */
const BYTES = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 67 + 251) % 256));
const B64 = BYTES.toString('base64');

/** The diagnostic of the 4220101 a body is refused with. */
function refusal(raw: string): string {
  try {
    readSealedBody(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(KtpayError);
    expect((err as KtpayError).code).toBe(4220101);
    return (err as KtpayError).diagnostic!;
  }
  throw new Error(`accepted: ${JSON.stringify(raw)}`);
}

/** Accepted: the same bytes, and the warnings. */
function accepted(raw: string): readonly string[] {
  const { cipher, warnings } = readSealedBody(raw);
  expect(Buffer.from(cipher)).toEqual(BYTES);
  for (const w of warnings) expect(w.startsWith(ENCODING_WARNING_PREFIX)).toBe(true);
  return warnings;
}

const wrap = (text: string, width: number, eol: string) =>
  (text.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(eol);

describe('readSealedBody', () => {
  it('takes clean ORIGINAL base64 with no warning', () => {
    expect(B64).toMatch(/[+/].*=$/);
    expect(accepted(B64)).toEqual([]);
  });

  it.each([
    ['a trailing newline (echo, PHP_EOL)', `${B64}\n`, ['ends with a newline']],
    ['a trailing CRLF', `${B64}\r\n`, ['ends with CRLF']],
    ['leading and trailing spaces', `  ${B64}\t`, ['starts with whitespace', 'ends with whitespace']],
    [
      "MIME wrapping at 76 with LF (Python's base64.encodebytes)",
      `${wrap(B64, 76, '\n')}\n`,
      ['ends with a newline', 'wrapped into lines of 76 characters (MIME'],
    ],
    [
      'MIME wrapping at 76 with CRLF (Java getMimeEncoder)',
      wrap(B64, 76, '\r\n'),
      ['wrapped into lines of 76 characters with CRLF line ends'],
    ],
    ['openssl base64 (64 columns)', `${wrap(B64, 64, '\n')}\n`, ['ends with a newline', 'lines of 64']],
    [
      'uneven line breaks',
      `${B64.slice(0, 10)}\n${B64.slice(10, 50)}\n${B64.slice(50)}`,
      ['split across 3 lines'],
    ],
    ['a UTF-8 byte-order mark', `\uFEFF${B64}`, ['byte-order mark (EF BB BF)']],
    ['a BOM and a trailing newline', `\uFEFF${B64}\n`, ['byte-order mark', 'ends with a newline']],
  ])('accepts %s, with a warning per deviation', (_name, raw, expected) => {
    const warnings = accepted(raw);
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((part, i) => expect(warnings[i]).toContain(part));
    for (const w of warnings) expect(w).toContain('the real gateway may refuse it [mock]');
  });

  it.each([
    ['an empty body', '', 'the request body is empty'],
    ['only whitespace', ' \r\n\t', 'the request body is empty'],
    ['the URL-safe alphabet', B64.replace(/\+/g, '-').replace(/\//g, '_'), 'URL-safe base64'],
    ['URL-safe without padding', B64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'URL-safe'],
    ['missing padding', B64.replace(/=+$/, ''), 'has no = padding (134 characters'],
    ['a JSON string literal (JSON.stringify)', JSON.stringify(B64), 'JSON string literal'],
    ['a JSON string literal (PHP json_encode, \\/)', `"${B64.replace(/\//g, '\\/')}"`, 'JSON string literal'],
    ['a JSON string literal with a newline after it', `${JSON.stringify(B64)}\n`, 'JSON string literal'],
    ['percent-encoding (urlencode)', encodeURIComponent(B64), 'percent-encoded'],
    ['+ decoded to spaces (a form decoder)', B64.replace(/\+/g, ' '), 'spaces where + signs belong'],
    ['plain JSON', '{"order":{}}', 'looks like plain JSON'],
    ['text with spaces', 'this is not base64 at all!', 'spaces or tabs inside'],
    ['text', 'hello!', 'character "!", U+0021, at 5'],
    ['a non-ASCII character', `${B64.slice(0, -4)}ж===`, 'character "ж", U+0436'],
  ])('refuses %s with 4220101 and a hint naming it', (_name, raw, expected) => {
    expect(refusal(raw)).toContain(expected);
  });

  it('accepts any base64 wrapped at any width with LF or CRLF, to the same bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 120 }),
        fc.constantFrom('\n', '\r\n'),
        (bytes, width, eol) => {
          const text = Buffer.from(bytes).toString('base64');
          const { cipher, warnings } = readSealedBody(wrap(text, width, eol));
          expect(Buffer.from(cipher)).toEqual(Buffer.from(bytes));
          expect(warnings.length).toBe(text.length > width ? 1 : 0);
        },
      ),
    );
  });

  it('never throws anything but 4220101, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (raw) => {
        try {
          readSealedBody(raw);
        } catch (err) {
          expect((err as KtpayError).code).toBe(4220101);
          expect((err as KtpayError).diagnostic).toMatch(/^the /);
        }
      }),
    );
  });
});
