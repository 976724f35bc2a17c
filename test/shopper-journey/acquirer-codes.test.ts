import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog, readContractData } from '../../contracts/error-catalog.js';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { buildTestApp, createPayment } from '../helpers/sandbox.js';
import { adminTx, card, followRedirects, postForm } from './journey.js';

type Mapping = { codes: Record<string, { status: string; error_type: string }> };
const mapping = readContractData<Mapping>('acquirer-outcomes.json');
const { validator } = createSchemaRegistry();

/** Every acquirer code in the catalog, read from the catalog itself, and its first group's text. */
const catalog = new Map<string, string>();
for (const group of errorCatalog.acquirer)
  for (const code of group.codes) if (!catalog.has(code)) catalog.set(code, group.message);

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp({ clearing_delay_ms: 'manual' });
});
afterAll(async () => {
  await app.close();
});

describe('cardholder CODE <c> reaches every acquirer code of the catalog', () => {
  it('the catalog has codes and the mapping covers each of them', () => {
    expect(catalog.size).toBeGreaterThan(50);
    for (const code of catalog.keys())
      expect(mapping.codes[code], `code ${code} missing from acquirer-outcomes.json`).toBeDefined();
  });

  for (const code of catalog.keys()) {
    it(`CODE ${code} ends in the status and error_type the mapping gives (admin pay)`, async () => {
      const hash = await createPayment(app);
      const res = await app.inject({
        method: 'POST',
        url: `/__admin/transactions/${hash}/pay`,
        payload: card({ pan: '4111 1111 1111 1111', cardholder: `CODE ${code}` }),
      });
      expect(res.statusCode).toBe(200);
      const body = res.json() as { outcome: string; acquirer_code: string; transaction: unknown };
      const v = validator('adminPayResult');
      expect(v(body), JSON.stringify(v.errors)).toBe(true);
      expect(body).toMatchObject({ outcome: 'declined', acquirer_code: code });
      const status = await app.inject({
        method: 'GET',
        url: `/api/v1/merchant-widget/payment/${hash}`,
        headers: { 'auth-identifier': 'e2d3d70d53c67bcd377266f74e98587c' },
      });
      const payload = (
        status.json() as {
          payload: { status: { status: string; error: { error_type: string; error_message: string } } };
        }
      ).payload;
      expect(payload.status.status).toBe(mapping.codes[code]!.status);
      expect(payload.status.error).toEqual({
        error_type: mapping.codes[code]!.error_type,
        error_message: catalog.get(code),
      });
    });
  }

  it('the same codes come out of the HTML card form (a sample from every family)', async () => {
    const sample = ['1A', '-19', '-22', '04', '58', '962'];
    for (const code of sample) {
      const hash = await createPayment(app);
      await app.inject({ method: 'GET', url: `/payment-card?hash=${hash}` });
      const { res } = await followRedirects(
        app,
        await postForm(app, '/acquirer/payform', { params: hash, ...card({ cardholder: `CODE ${code}` }) }),
      );
      expect(res.body).toContain(`(код ${code})`);
      const tx = await adminTx(app, hash);
      expect(tx.status, code).toBe(mapping.codes[code]!.status);
      expect(tx.error?.error_type, code).toBe(mapping.codes[code]!.error_type);
    }
  });
});
