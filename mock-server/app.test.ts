import { describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { loadConfig } from './config/load-config.js';

describe('buildApp', () => {
  it('refuses a Fastify route schema: shapes are checked with contracts only', async () => {
    const app = await buildApp(loadConfig({ env: {} }));
    app.get('/with-schema', { schema: { querystring: { type: 'object' } } }, async () => ({ ok: true }));
    await expect(app.ready()).rejects.toThrow(
      /take no Fastify validator schema: check the shape with a contract/,
    );
    await app.close().catch(() => undefined);
  });

  it('checks the callback list query with its contract (4220122 names the field)', async () => {
    const app = await buildApp(loadConfig({ env: {} }));
    const res = await app.inject({ method: 'GET', url: '/__admin/callbacks?state=lost' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ success: false, error: { code: 4220122 } });
    expect(res.json().error.validation).toHaveProperty('state');
    await app.close();
  });
});
