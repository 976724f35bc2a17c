import { describe, expect, it } from 'vitest';
import { createSchemaRegistry, type SchemaName } from '../../contracts/schema-registry.js';
import { BATTERY } from './battery.js';
import { compareAnswers, formatOf } from './compare-answers.js';
import { readAnswer } from './read-answer.js';
import { createRedactor, REDACTED_SIGNED_ORDER } from './redact.js';

const APP_ID = '4a75634f2bd897cc69c85a1812e8deab';
const APP_KEY = 'oy8UXMILwFoN7RoZ+pVNMTEjkVPkvwuQoolX9wjJGjs=';
const HASH = '488c9a8b24d4f3f6ec5611dd37cefc6e4fdb389f';

describe('createRedactor', () => {
  it('replaces the credentials, plain and URL-encoded, anywhere in a text', () => {
    const r = createRedactor({ app_id: APP_ID, app_key: APP_KEY, admin_token: undefined });
    const out = r.text(`app ${APP_ID} key ${APP_KEY} url ?k=${encodeURIComponent(APP_KEY)}`);
    expect(out).toBe('app [app_id] key [app_key] url ?k=[app_key]');
  });

  it('maps each transaction hash to a stable 40-hex stand-in, also inside URLs and hints', () => {
    const r = createRedactor({});
    const other = 'b'.repeat(40);
    const body = r.body(
      JSON.stringify({
        transaction_hash: HASH,
        post_link: `https://card.test.nplus.tech/api/v1/merchant-widget/payment/${HASH}/post-link`,
        hint: `no transaction ${other}`,
      }),
    );
    expect(body).not.toContain(HASH);
    expect(body).not.toContain(other);
    const parsed = JSON.parse(body) as Record<string, string>;
    expect(parsed.transaction_hash).toMatch(/^[0-9a-f]{40}$/);
    expect(parsed.post_link).toContain(`/payment/${parsed.transaction_hash}/post-link`);
    expect(parsed.hint).not.toContain(parsed.transaction_hash);
  });

  it('hides merchant_id, payment-page parameters and signed_order, keeping each type and format', () => {
    const r = createRedactor({});
    const payload = {
      merchant_id: 98548631,
      payment_page: 'https://epay.homebank.kz/payform/?params=JYOwbg9sDGCmCSATAvABnR9BGAzAV',
      signed_order: Buffer.from(
        '<document><merchant cert_id="c183e68c" name="NPLUS.TECH"/></document>',
      ).toString('base64'),
    };
    const out = JSON.parse(r.body(JSON.stringify(payload))) as typeof payload;
    expect(out.merchant_id).toBe(0);
    expect(out.payment_page).toBe('https://epay.homebank.kz/payform/?params=redacted');
    expect(out.signed_order).toBe(REDACTED_SIGNED_ORDER);
    for (const k of ['payment_page', 'signed_order'] as const)
      expect(formatOf(out[k])).toBe(formatOf(payload[k]));
  });

  it('never changes a verdict: the comparison of two redacted answers equals that of the originals', () => {
    const registry = createSchemaRegistry();
    const matches = (n: SchemaName, v: unknown) => registry.validator(n)(v) === true;
    const probe = BATTERY.find((p) => p.id === 'status-own')!;
    const status = (hash: string, merchant: number) =>
      JSON.stringify({
        success: true,
        payload: {
          merchant_id: merchant,
          order_id: 'o',
          description: 'd',
          amount: 100,
          transaction_hash: hash,
          created_at: '2026-03-01T12:00:00+06:00',
          updated_at: null,
          status: {
            status: 'pending',
            created_at: '2026-03-01T12:00:00+06:00',
            updated_at: null,
            error: null,
          },
          refunds: [],
          refunded_amount: 0,
        },
      });
    const a = { status: 200, content_type: 'application/json', body: status(HASH, 5) };
    const b = { status: 200, content_type: 'application/json', body: status('c'.repeat(40), 1) };
    const plain = compareAnswers(probe, readAnswer(a), readAnswer(b), matches);
    const redacted = compareAnswers(
      probe,
      readAnswer({ ...a, body: createRedactor({}).body(a.body) }),
      readAnswer({ ...b, body: createRedactor({}).body(b.body) }),
      matches,
    );
    expect(redacted).toEqual(plain);
    expect(plain).toEqual([]);
  });

  it('leaves a body that is not JSON as text, secrets removed', () => {
    expect(createRedactor({ app_id: APP_ID }).body(`<html>${APP_ID}</html>`)).toBe('<html>[app_id]</html>');
  });
});
