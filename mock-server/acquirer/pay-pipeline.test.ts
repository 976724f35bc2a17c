import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ID, buildTestApp, createPayment } from '../../test/helpers/sandbox.js';
import { verifyBankNotice } from './bank-documents.js';
import { digits } from './pay-pipeline.js';

describe('digits: the bank reference and approval code source', () => {
  it('gives n decimal digits, the same for the same seed', () => {
    const a = digits('abc:bank:1', 18);
    expect(a).toMatch(/^\d{18}$/);
    expect(digits('abc:bank:1', 18)).toBe(a);
    expect(digits('abc:bank:2', 18)).not.toBe(a);
    expect(digits('abc:bank:1', 6)).toBe(a.slice(0, 6));
  });

  it('spreads its digits evenly (each within 8-12 % over 20,000 seeds)', () => {
    const counts = Array.from({ length: 10 }, () => 0);
    for (let i = 0; i < 20_000; i++)
      for (const c of digits(`${i.toString(16)}:bank:1`, 6)) counts[Number(c)]!++;
    for (const n of counts) expect(n / 120_000).toBeGreaterThan(0.08);
    for (const n of counts) expect(n / 120_000).toBeLessThan(0.12);
  });
});

/*
 * The emulated bank applies the notice it has just signed without checking its own signature
 * again (issue 10). These cases prove the stored notice is exactly what post-link would accept and
 * that reading it back gives the result that was applied.
 */
describe('the notice of a payment made through the pipeline', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(() => app.close());

  async function payWith(pan: string) {
    const hash = await createPayment(app);
    const res = await app.inject({
      method: 'POST',
      url: `/__admin/transactions/${hash}/pay`,
      payload: { pan, exp_month: '12', exp_year: '2030', cvc: '123', cardholder: 'TEST CARDHOLDER' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const tx = (await app.sandbox.store.getTransaction(hash))!;
    const merchant = (await app.sandbox.store.getMerchant(APP_ID))!;
    return { tx, merchant, answer: res.json() as { acquirer_code: string } };
  }

  it('an approved card: the notice verifies, reads back the applied card, and is stored once with attempt 1', async () => {
    const { tx, merchant, answer } = await payWith('4405639704015096');
    expect(tx.status).toBe('success');
    const check = verifyBankNotice(tx.acquirer!.notice!, tx, merchant);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.result.response_code).toBe(answer.acquirer_code);
    expect(check.result.card).toEqual(tx.card);
    expect(check.result.reference).toMatch(/^\d{12}$/);
    expect(check.result.approval_code).toMatch(/^\d{6}$/);
    expect(tx.acquirer!.attempts).toBe(1);
  });

  it('a declined card: the notice verifies, carries the decline code and no approval code', async () => {
    const { tx, merchant, answer } = await payWith('4000000000000002');
    expect(tx.status).toBe('error');
    const check = verifyBankNotice(tx.acquirer!.notice!, tx, merchant);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.result.response_code).toBe(answer.acquirer_code);
    expect(answer.acquirer_code).toBe('05');
    expect(check.result.card).toEqual(tx.card);
    expect(check.result.approval_code).toBe('');
    expect(tx.acquirer!.attempts).toBe(1);
  });
});
