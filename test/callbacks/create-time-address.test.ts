import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { fieldMessage } from '../../mock-server/envelope/field-errors.js';
import { buildTestApp, orderPayload, postCreate, seal } from '../helpers/sandbox.js';

/**
 * Regression: the create-time check of `order.callback_post_url` used its own address test, which
 * missed the form the URL parser gives `[::ffff:169.254.169.254]` (`::ffff:a9fe:a9fe`). It now uses
 * the delivery-time classification (callbacks/destination-guard.ts), so both agree.
 */
describe('create refuses every spelling of a link-local callback_post_url', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  // The merchant's domains contain the mapped address, so only the address rule can refuse it.
  const mappedDomain = { DEFAULT_MERCHANT_DOMAINS: '::ffff:a9fe:a9fe,fe80::1' };

  it.each(['http://[::ffff:169.254.169.254]/cb', 'http://[::ffff:a9fe:a9fe]/cb', 'http://[fe80::1]/cb'])(
    '%s is 4220002 on order.callback_post_url with the blocked-address message',
    async (url) => {
      app = await buildTestApp({}, { env: mappedDomain });
      const res = await postCreate(app, await seal(orderPayload({ callback_post_url: url })));
      expect(res.statusCode).toBe(422);
      const body = res.json() as { error: { code: number; validation: Record<string, string[]> } };
      expect(body.error.code).toBe(4220002);
      expect(body.error.validation).toEqual({
        'order.callback_post_url': [fieldMessage('blocked_address', 'ru')],
      });
      expect(await app.sandbox.store.countTransactions()).toBe(0);
    },
  );

  it('CALLBACK_ALLOW_HOSTS exempts the mapped address at create, as it does at delivery', async () => {
    app = await buildTestApp({}, { env: { ...mappedDomain, CALLBACK_ALLOW_HOSTS: '::ffff:a9fe:a9fe' } });
    const res = await postCreate(
      app,
      await seal(orderPayload({ callback_post_url: 'http://[::ffff:169.254.169.254]/cb' })),
    );
    expect(res.statusCode, res.body).toBe(200);
  });

  it('a mapped ordinary address is not refused by the address rule', async () => {
    app = await buildTestApp({}, { env: { DEFAULT_MERCHANT_DOMAINS: '::ffff:a00:1' } });
    const res = await postCreate(
      app,
      await seal(orderPayload({ callback_post_url: 'http://[::ffff:10.0.0.1]/cb' })),
    );
    expect(res.statusCode, res.body).toBe(200);
  });
});
