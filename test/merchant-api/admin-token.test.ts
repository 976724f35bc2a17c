import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/sandbox.js';

describe('ADMIN_TOKEN', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp({ admin_token: 'let-me-in' });
  });
  afterAll(() => app.close());

  for (const [method, url] of [
    ['GET', '/__admin/health'],
    ['GET', '/__admin/merchants'],
    ['GET', '/__admin/journal'],
    ['POST', '/__admin/reset'],
  ] as const) {
    it(`${method} ${url} needs the bearer token`, async () => {
      const none = await app.inject({ method, url });
      expect(none.statusCode).toBe(401);
      expect(none.json().error.code).toBe(4010121);
      const wrong = await app.inject({ method, url, headers: { authorization: 'Bearer let-me-out' } });
      expect(wrong.statusCode).toBe(401);
      const ok = await app.inject({ method, url, headers: { authorization: 'Bearer let-me-in' } });
      expect(ok.statusCode).toBe(200);
    });
  }

  it('leaves the merchant API alone', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/merchant-widget/payment', payload: '' });
    expect(res.json().error.code).toBe(4220103);
  });
});

describe('POST /__admin/reset', () => {
  it('drops runtime state but keeps the built-in merchant', async () => {
    const app = await buildTestApp();
    try {
      await app.inject({
        method: 'POST',
        url: '/__admin/merchants',
        payload: { name: 'x', domains: ['x.kz'], public_key: 'oy8UXMILwFoN7RoZ+pVNMTEjkVPkvwuQoolX9wjJGjs=' },
      });
      expect((await app.inject({ url: '/__admin/merchants' })).json().merchants).toHaveLength(2);
      expect((await app.inject({ method: 'POST', url: '/__admin/reset' })).statusCode).toBe(200);
      const merchants = (await app.inject({ url: '/__admin/merchants' })).json().merchants;
      expect(merchants.map((m: { app_id: string }) => m.app_id)).toEqual([
        'e2d3d70d53c67bcd377266f74e98587c',
      ]);
    } finally {
      await app.close();
    }
  });
});
