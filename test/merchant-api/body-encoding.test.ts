import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../../mock-server/envelope/ktpay-error.js';
import { ENCODING_WARNING_PREFIX } from '../../mock-server/envelope/sealed-body-text.js';
import { expectErrorReply, expectSuccessReply } from '../helpers/envelope-assert.js';
import { API, APP_ID, buildTestApp, orderPayload, postCreate, seal } from '../helpers/sandbox.js';

/**
 * Issue 15 §2: base64 as real clients produce it. Each variant is either accepted with an
 * `encoding:` contract warning in the journal, or refused with 4220101 and a hint naming the
 * problem; the same in both dialects, on create and on the sealed cancel/refund bodies.
 */

const wrap = (text: string, width: number, eol: string) =>
  (text.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(eol);

/** A sealed order whose base64 has `==` padding and at least one `+` (so every variant changes it). */
async function sealedWithPlusAndPadding(): Promise<{ body: string; orderId: string }> {
  for (;;) {
    const payload = orderPayload({ description: 'x'.repeat(10) });
    const body = await seal(payload);
    if (body.endsWith('==') && body.includes('+') && body.includes('/'))
      return { body, orderId: payload.order.order_id };
  }
}

type Variant = { name: string; make: (b64: string) => string } & ({ warns: string[] } | { refused: string });

const VARIANTS: Variant[] = [
  { name: 'a trailing newline (echo, PHP_EOL)', make: (b) => `${b}\n`, warns: ['ends with a newline'] },
  { name: 'a trailing CRLF', make: (b) => `${b}\r\n`, warns: ['ends with CRLF'] },
  {
    name: "MIME wrapping every 76 characters (Python's base64.encodebytes)",
    make: (b) => `${wrap(b, 76, '\n')}\n`,
    warns: ['ends with a newline', 'wrapped into lines of 76 characters'],
  },
  {
    name: 'MIME wrapping with CRLF (Java getMimeEncoder)',
    make: (b) => wrap(b, 76, '\r\n'),
    warns: ['lines of 76 characters with CRLF line ends'],
  },
  {
    name: 'openssl base64 without -A (64 columns)',
    make: (b) => `${wrap(b, 64, '\n')}\n`,
    warns: ['ends with a newline', 'lines of 64 characters'],
  },
  { name: 'a UTF-8 byte-order mark', make: (b) => `\uFEFF${b}`, warns: ['byte-order mark (EF BB BF)'] },
  {
    name: 'the URL-safe alphabet',
    make: (b) => b.replace(/\+/g, '-').replace(/\//g, '_'),
    refused: 'URL-safe base64',
  },
  { name: 'missing padding', make: (b) => b.replace(/=+$/, ''), refused: 'has no = padding' },
  {
    name: 'a JSON string literal (json_encode: "…" with \\/)',
    make: (b) => `"${b.replace(/\//g, '\\/')}"`,
    refused: 'JSON string literal',
  },
  {
    name: 'a JSON string literal (JSON.stringify)',
    make: (b) => JSON.stringify(b),
    refused: 'JSON string literal',
  },
  { name: 'percent-encoding', make: (b) => encodeURIComponent(b), refused: 'percent-encoded' },
  {
    name: 'each + turned into a space (form-decoded)',
    make: (b) => b.replace(/\+/g, ' '),
    refused: 'spaces where + signs belong',
  },
];

async function lastJournal(app: FastifyInstance) {
  return (await app.inject({ url: '/__admin/journal?limit=1' })).json().entries[0] as {
    order_id: string | null;
    verdict: {
      ok: boolean;
      error_code: number | null;
      explanation: string | null;
      contract_warnings: string[];
    };
  };
}

for (const dialect of ['reference', 'widget'] as Dialect[]) {
  describe(`base64 variants on create (${dialect} dialect)`, () => {
    let app: FastifyInstance;
    beforeAll(async () => {
      app = await buildTestApp({ envelope: dialect });
    });
    afterAll(() => app.close());

    it('a clean body leaves no warning', async () => {
      const { body } = await sealedWithPlusAndPadding();
      expectSuccessReply(...reply(await postCreate(app, body)), dialect);
      expect((await lastJournal(app)).verdict.contract_warnings).toEqual([]);
    });

    for (const v of VARIANTS) {
      if ('warns' in v) {
        it(`accepts ${v.name}, with a contract warning in the journal`, async () => {
          const { body, orderId } = await sealedWithPlusAndPadding();
          const res = await postCreate(app, v.make(body));
          const data = expectSuccessReply(...reply(res), dialect);
          expect(data.transaction_hash).toMatch(/^[0-9a-f]{40}$/);
          const entry = await lastJournal(app);
          expect(entry.order_id).toBe(orderId);
          expect(entry.verdict.ok).toBe(true);
          const encoding = entry.verdict.contract_warnings.filter((w) =>
            w.startsWith(ENCODING_WARNING_PREFIX),
          );
          expect(encoding).toHaveLength(v.warns.length);
          v.warns.forEach((part, i) => expect(encoding[i]).toContain(part));
        });
      } else {
        it(`refuses ${v.name} with 4220101 and a hint naming it`, async () => {
          const { body } = await sealedWithPlusAndPadding();
          const res = await postCreate(app, v.make(body));
          const err = expectErrorReply(...reply(res), dialect, 4220101);
          expect(err.hint).toContain(v.refused);
          const entry = await lastJournal(app);
          expect(entry.verdict.error_code).toBe(4220101);
          expect(entry.verdict.explanation).toContain(v.refused);
        });
      }
    }
  });
}

describe('base64 variants on the sealed cancel and refund bodies', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp({ clearing_delay_ms: 'manual' });
  });
  afterAll(() => app.close());

  it('accepts a wrapped cancel body with a warning and refuses a URL-safe one', async () => {
    const hash = expectSuccessReply(...reply(await postCreate(app, await seal(orderPayload()))), 'reference')
      .transaction_hash as string;
    const cancel = (body: string) =>
      app.inject({
        method: 'POST',
        url: `${API}/payment/${hash}/cancel`,
        headers: { 'auth-identifier': APP_ID, 'content-type': 'text/plain' },
        payload: body,
      });
    let sealed = '';
    while (!/[+/]/.test(sealed)) sealed = await seal({ reason: 'Покупатель передумал' });
    const refused = await cancel(sealed.replace(/\+/g, '-').replace(/\//g, '_'));
    expect(expectErrorReply(...reply(refused), 'reference', 4220101).hint).toContain('URL-safe');

    const res = await cancel(`${wrap(sealed, 20, '\r\n')}\r\n`);
    expect(expectSuccessReply(...reply(res), 'reference').status).toMatchObject({ status: 'cancelled' });
    const warnings = (await lastJournal(app)).verdict.contract_warnings;
    expect(warnings.map((w) => w.split(';')[0])).toEqual([
      `${ENCODING_WARNING_PREFIX}the body ends with CRLF (\\r\\n), a Windows line end`,
      expect.stringContaining('wrapped into lines of 20 characters with CRLF line ends'),
    ]);
  });
});

/** An inject reply as `(status, parsed body)`. */
function reply(res: { statusCode: number; body: string }): [number, unknown] {
  return [res.statusCode, JSON.parse(res.body)];
}
