import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { API, APP_ID, buildTestApp, seal } from '../helpers/sandbox.js';

const codes = new Set(errorCatalog.ktpay.map((e) => e.code));
const registry = createSchemaRegistry();
const runs = Number(process.env.FUZZ_RUNS ?? 150);

const contentTypes = fc.constantFrom(
  undefined,
  'text/plain',
  'application/json',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'text/plain; charset=latin1',
  '*/*',
  '',
);
const appIds = fc.oneof(
  fc.constant(APP_ID),
  fc.constant(undefined),
  fc.string({ maxLength: 40 }).filter((s) => !/[\r\n\0]/.test(s)),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }),
);

describe('create payment never fails with a 5xx or a crash', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(() => app.close());

  async function check(body: string | Buffer, contentType: string | undefined, appId: string | undefined) {
    const headers: Record<string, string> = {};
    if (contentType !== undefined) headers['content-type'] = contentType;
    if (appId !== undefined) headers['auth-identifier'] = appId;
    const res = await app.inject({ method: 'POST', url: `${API}/payment`, headers, payload: body });
    expect(res.statusCode).toBeLessThan(500);
    const json = res.json();
    if (res.statusCode === 200) {
      expect(registry.validator('referenceSuccess')(json)).toBe(true);
    } else {
      expect(registry.validator('referenceError')(json)).toBe(true);
      expect(codes.has(json.error.code)).toBe(true);
    }
  }

  it('for random bytes, random text and odd headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)), fc.string({ maxLength: 512 })),
        contentTypes,
        appIds,
        check,
      ),
      { numRuns: runs, seed: 20261127 },
    );
  });

  it('for mutated valid sealed bodies', async () => {
    const sealed = await seal({ order: { amount: 1000, order_id: 'seed' } });
    await fc.assert(
      fc.asyncProperty(fc.nat(sealed.length - 1), fc.string({ minLength: 1, maxLength: 1 }), contentTypes, async (pos, ch, ct) => {
        await check(sealed.slice(0, pos) + ch + sealed.slice(pos + 1), ct, APP_ID);
      }),
      { numRuns: runs, seed: 7 },
    );
  });

  it('for validly sealed random JSON, including deep nesting and huge numbers', async () => {
    const json = fc.oneof(
      fc.jsonValue({ maxDepth: 6 }),
      fc.record({ order: fc.dictionary(fc.constantFrom('amount', 'order_id', 'type', 'service', 'callback_post_url', 'x'), fc.jsonValue({ maxDepth: 3 })) }),
      fc.record({
        order: fc.record({ amount: fc.oneof(fc.double(), fc.integer(), fc.constant(1e308)), order_id: fc.string({ maxLength: 300 }) }),
        user: fc.jsonValue({ maxDepth: 2 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(json, async (value) => {
        await check(await seal(JSON.stringify(value) ?? 'null'), 'text/plain', APP_ID);
      }),
      { numRuns: runs, seed: 11 },
    );
  });
});
