import { describe, expect, it } from 'vitest';
import { createSchemaRegistry, type SchemaName } from '../../contracts/schema-registry.js';
import { buildErrorReply, buildSuccessBody, type Dialect } from '../../mock-server/envelope/ktpay-error.js';
import { BATTERY, type ProbeDefinition } from './battery.js';
import { compareAnswers, flatten, formatOf, schemaPointer } from './compare-answers.js';
import { readAnswer, type ProbeAnswer } from './read-answer.js';

const registry = createSchemaRegistry();
const matches = (n: SchemaName, v: unknown) => registry.validator(n)(v) === true;
const probe = (id: string): ProbeDefinition => BATTERY.find((p) => p.id === id)!;
const JSON_TYPE = 'application/json; charset=utf-8';

const ok = (payload: Record<string, unknown>, dialect: Dialect = 'reference', status = 200): ProbeAnswer => ({
  status,
  content_type: JSON_TYPE,
  body: JSON.stringify(buildSuccessBody(payload, dialect)),
});
const err = (
  code: number,
  dialect: Dialect = 'reference',
  validation?: Record<string, string[]>,
): ProbeAnswer => {
  const r = buildErrorReply(code, dialect, { validation, diagnostic: 'a sandbox diagnostic' });
  return { status: r.statusCode, content_type: JSON_TYPE, body: JSON.stringify(r.body) };
};
const compare = (id: string, u: ProbeAnswer, s: ProbeAnswer) =>
  compareAnswers(probe(id), readAnswer(u), readAnswer(s), matches);
const kinds = (ds: { kind: string; path?: string }[]) =>
  ds.map((d) => (d.path ? `${d.kind}@${d.path}` : d.kind));

const status = (over: Record<string, unknown> = {}) => ({
  merchant_id: 1,
  order_id: 'ktpay-mock-probe-1-create-valid',
  description: 'd',
  amount: 100,
  transaction_hash: 'a'.repeat(40),
  created_at: '2026-03-01T12:00:00+06:00',
  updated_at: null,
  status: { status: 'pending', created_at: '2026-03-01T12:00:00+06:00', updated_at: null, error: null },
  refunds: [],
  refunded_amount: 0,
  ...over,
});

describe('readAnswer', () => {
  it('reads both dialects into one shape: outcome, keys per envelope level, payload, code, messages', () => {
    const ref = readAnswer(err(4220002, 'reference', { 'order.amount': ['Обязательное поле.'] }));
    const wid = readAnswer(err(4220002, 'widget', { 'order.amount': ['Обязательное поле.'] }));
    expect(ref).toMatchObject({ dialect: 'reference', outcome: 'error', code: 4220002 });
    expect(wid).toMatchObject({ dialect: 'widget', outcome: 'error', code: 4220002 });
    expect(ref.messages).toEqual(wid.messages);
    expect(ref.messages).toEqual({ 'order.amount': 'Обязательное поле.' });
    expect(wid.keys).toEqual({
      '(top)': ['data', 'error', 'response', 'success'],
      error: ['code', 'hint', 'messages'],
      response: ['data', 'success'],
    });
    expect(readAnswer(ok({ a: 1 }, 'widget'))).toMatchObject({
      dialect: 'widget',
      outcome: 'success',
      payload: { a: 1 },
    });
    expect(readAnswer(err(4040108)).messages).toEqual({ error: 'Транзакция не найдена.' });
  });

  it('tells a body that is not JSON, and JSON that is no ktpay envelope', () => {
    expect(readAnswer({ status: 502, content_type: 'text/html', body: '<html>' }).dialect).toBe('not_json');
    expect(readAnswer({ status: 200, content_type: JSON_TYPE, body: '{"ok":1}' })).toMatchObject({
      dialect: 'unknown',
      outcome: 'unknown',
    });
  });
});

describe('compareAnswers', () => {
  it('finds no drift where only hashes, ids, times and URLs differ', () => {
    const u = status();
    const s = status({
      merchant_id: 7,
      order_id: 'ktpay-mock-probe-2-create-valid',
      transaction_hash: 'b'.repeat(40),
      created_at: '2027-01-02T03:04:05+06:00',
    });
    expect(compare('status-own', ok(u), ok(s))).toEqual([]);
    expect(
      compare(
        'acquirer-options',
        ok({ payment_page: 'https://epay.example.kz/payform/?params=abc' }),
        ok({ payment_page: 'http://127.0.0.1:8077/acquirer/payform?params=def' }),
      ),
    ).toEqual([]);
    expect(compare('status-unknown', err(4040108), err(4040108))).toEqual([]);
  });

  it('reports the HTTP status, with the probe rule and both sides', () => {
    const d = compare('status-unknown', err(4040108), { ...err(4040108), status: 400 });
    expect(d).toEqual([
      expect.objectContaining({
        kind: 'http_status',
        upstream: '404',
        sandbox: '400',
        rule: expect.stringContaining('spec §5'),
      }),
    ]);
  });

  it('reports the dialect once, and still compares code, messages and fields across dialects', () => {
    expect(kinds(compare('status-unknown', err(4040108, 'widget'), err(4040108)))).toEqual(['dialect']);
    expect(kinds(compare('status-own', ok(status(), 'widget'), ok(status())))).toEqual(['dialect']);
    expect(kinds(compare('status-own', ok(status({ amount: '100' }), 'widget'), ok(status())))).toEqual([
      'dialect',
      'field_type@amount',
    ]);
  });

  it('reports envelope keys within one dialect (a widget error without its response key)', () => {
    const full = JSON.parse(err(4220101, 'widget').body) as Record<string, unknown>;
    delete full.response;
    const d = compare(
      'bad-base64',
      { ...err(4220101, 'widget'), body: JSON.stringify(full) },
      err(4220101, 'widget'),
    );
    expect(d).toEqual([
      expect.objectContaining({
        kind: 'envelope_keys',
        path: '(top)',
        upstream: '["data","error","success"]',
        rule: 'contracts widget-error.json',
      }),
      expect.objectContaining({ kind: 'envelope_keys', path: 'response', upstream: '[]' }),
    ]);
  });

  it('reports a different code once (the message follows it), naming both catalog entries', () => {
    const d = compare('not-json', err(4220102), err(4220101));
    expect(kinds(d)).toEqual(['error_code']);
    expect(d[0]!.rule).toContain('error-catalog 4220102');
    expect(d[0]!.rule).toContain('error-catalog 4220101');
  });

  it('reports a different message per field, hints aside', () => {
    const u = err(4220002, 'reference', { 'order.amount': ['Обязательное поле.'], order: ['x'] });
    const s = err(4220002, 'reference', { 'order.amount': ['This field is required.'] });
    const d = compare('create-no-amount', u, s);
    expect(kinds(d)).toEqual(['message@order.amount', 'message@order']);
    expect(d[0]).toMatchObject({ upstream: '"Обязательное поле."', sandbox: '"This field is required."' });
    expect(d[1]).toMatchObject({ upstream: '"x"', sandbox: '(none)' });
  });

  it('reports success on one side and an error on the other as outcome, and stops there', () => {
    const d = compare('status-own', err(5000107), ok(status()));
    expect(kinds(d)).toEqual(['http_status', 'outcome']);
    expect(d[1]!.upstream).toContain('5000107');
    expect(d[1]!.sandbox).toContain('success with {merchant_id');
  });

  it('reports missing, extra, mistyped, misformatted and unequal fields, with the schema pointer', () => {
    const u = status({ amount: 100, currency: 398, created_at: '2026-03-01 12:00:00' });
    const s = status({
      amount: 150,
      refunds: undefined,
      status: { ...status().status, status: 'cancelled' },
    });
    const d = compare('status-own', ok(u), ok(s));
    expect(kinds(d)).toEqual([
      'field_value@amount',
      'field_format@created_at',
      'field_value@status.status',
      'field_missing@refunds',
      'field_missing@currency',
    ]);
    expect(d.find((x) => x.path === 'status.status')!.rule).toBe(
      'contracts payment-status.json#/properties/status/properties/status',
    );
    expect(d.find((x) => x.path === 'currency')!.rule).toContain('has no field "currency"');
    expect(d.find((x) => x.path === 'created_at')).toMatchObject({
      upstream: 'time (other form)',
      sandbox: 'time +06:00',
    });
    expect(kinds(compare('status-own', ok(status()), ok(status({ extra: true }))))).toEqual([
      'field_extra@extra',
    ]);
  });

  it('acquirer-options: v1 on one side and v2 on the other is one contract drift; v1 on both compares v1 fields', () => {
    const v1 = (origin: string) => ({
      callback_back_url: `${origin}/done`,
      callback_success_url: `${origin}/done`,
      callback_failed_url: `${origin}/done`,
      signed_order: Buffer.from(`<document origin="${origin}"/>`).toString('base64'),
      action: `${origin}/logon`,
      language: 'rus',
      post_link: `${origin}/post-link`,
      back_link: `${origin}/back-link`,
      template: 'ktwidget_pay_kt.xsl',
    });
    const v2 = ok({ payment_page: 'http://127.0.0.1/acquirer/payform?params=x' });
    const d = compare('acquirer-options', ok(v1('https://epay.kkb.kz')), v2);
    expect(d).toEqual([
      expect.objectContaining({
        kind: 'contract',
        upstream: 'follows contracts acquirer-options-v1.json',
        sandbox: 'follows contracts acquirer-options-v2.json',
      }),
    ]);
    expect(compare('acquirer-options', ok(v1('https://epay.kkb.kz')), ok(v1('http://127.0.0.1:9')))).toEqual(
      [],
    );
    expect(
      kinds(
        compare('acquirer-options', ok({ ...v1('https://a.kz'), language: 'eng' }), ok(v1('http://b.kz'))),
      ),
    ).toEqual(['field_value@language']);
  });

  it('reports a body that is not JSON on one side only', () => {
    const html: ProbeAnswer = { status: 502, content_type: 'text/html', body: '<html>bad gateway</html>' };
    expect(
      kinds(compare('create-valid', html, ok({ transaction_hash: 'a'.repeat(40), show_close_button: true }))),
    ).toEqual(['http_status', 'content_type', 'body']);
    expect(compare('create-valid', html, html)).toEqual([]);
  });
});

describe('helpers', () => {
  it('formatOf tells the formats a volatile value may have', () => {
    expect(formatOf('a'.repeat(40))).toBe('40 hex');
    expect(formatOf('2026-03-01T12:00:00+06:00')).toBe('time +06:00');
    expect(formatOf('2026-03-01T06:00:00Z')).toBe('time (other form)');
    expect(formatOf('https://x.kz/a?b=c')).toBe('URL');
    expect(formatOf(Buffer.from('<document>…</document>').toString('base64'))).toBe('base64');
    expect(formatOf('Order-1')).toBe('text');
  });

  it('flatten lists every path with its type, arrays as []', () => {
    const f = flatten({ a: { b: 1 }, list: [{ c: 'x' }], n: null });
    expect([...f].map(([p, l]) => `${p}:${l.type}`)).toEqual([
      'a:object',
      'a.b:number',
      'list:array',
      'list[]:object',
      'list[].c:string',
      'n:null',
    ]);
  });

  it('schemaPointer follows properties, oneOf branches and array items', () => {
    expect(schemaPointer('paymentStatus', 'status.error.error_type')).toBe(
      'contracts payment-status.json#/properties/status/properties/error/oneOf/1/properties/error_type',
    );
    expect(schemaPointer('paymentStatus', 'refunds[].amount')).toBe(
      'contracts payment-status.json#/properties/refunds/items/properties/amount',
    );
  });
});
