import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { testConfig } from '../../test/helpers/sandbox.js';
import type { CheckConfig } from './check-config.js';
import { resolveRunMerchant } from './run-merchant.js';
import { createSandboxClient, RUN_MERCHANT_TTL_S } from './sandbox-client.js';

/** The parts of a check config resolveRunMerchant reads: a shop the run starts, so it may make a merchant. */
const config = (merchant: CheckConfig['merchant'] = {}) =>
  ({ merchant, app: { command: 'node shop.js', cwd: '.' }, trigger: undefined }) as unknown as CheckConfig;

describe('the merchant a run creates on a running sandbox is ephemeral (issue 17)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(testConfig({ port: 0 }), { logger: false });
  });
  afterAll(() => server.close());

  it('has a ttl of 6 h by default, merchant.ttl when set, and its release purges it', async () => {
    const sandbox = createSandboxClient(server.url);
    for (const [merchant, ttl] of [
      [{}, RUN_MERCHANT_TTL_S],
      [{ ttl: 600 }, 600],
    ] as const) {
      const before = Date.now();
      const run = await resolveRunMerchant(config(merchant), sandbox, {}, { external: true, tag: 't' });
      expect(run.source).toBe('created');
      const held = await server.app.sandbox.store.getMerchant(run.merchant.app_id);
      expect(held?.expires_at).toBeGreaterThanOrEqual(before + ttl * 1000);
      expect(held?.expires_at).toBeLessThanOrEqual(Date.now() + ttl * 1000);
      await run.release();
      expect(await server.app.sandbox.store.getMerchant(run.merchant.app_id)).toBeUndefined();
    }
  });
});

describe('against a sandbox from before ttl', () => {
  let old: Server;
  let url: string;
  const bodies: Record<string, unknown>[] = [];
  beforeAll(async () => {
    // Answers as an older sandbox does: an unknown field is a validation error naming it.
    old = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => {
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              app_id: 'e'.repeat(32),
              app_key: 'k',
              name: 'Built-in',
              domains: ['localhost'],
              envelope: 'reference',
            }),
          );
          return;
        }
        const body = JSON.parse(text) as Record<string, unknown>;
        bodies.push(body);
        if ('ttl' in body) {
          res.writeHead(422, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              success: false,
              error: {
                code: 4220122,
                message: 'Admin request validation failed.',
                validation: { ttl: ['Unknown field.'] },
              },
            }),
          );
          return;
        }
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ...body, app_id: 'a'.repeat(32), app_key: 'k' }));
      });
    });
    await new Promise<void>((ok) => old.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => old.close(() => ok())));

  it('creates a permanent merchant instead of failing the run', async () => {
    const run = await resolveRunMerchant(
      config(),
      createSandboxClient(url),
      {},
      { external: true, tag: 't' },
    );
    expect(run.merchant.app_id).toBe('a'.repeat(32));
    expect(bodies.map((b) => b.ttl)).toEqual([RUN_MERCHANT_TTL_S, undefined]);
  });
});
