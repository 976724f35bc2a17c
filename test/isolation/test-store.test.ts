import { expect, it } from 'vitest';
import { buildTestApp } from '../helpers/sandbox.js';
import { testStoreKind } from '../helpers/test-store.js';

/**
 * The suites of the `postgres` project really run on PostgreSQL: a sandbox the shared helper
 * builds reports the store KTPAY_TEST_STORE names, and two of them share no rows.
 */
it('a test sandbox runs on the test store, and each one starts empty', async () => {
  const [a, b] = await Promise.all([buildTestApp(), buildTestApp()]);
  try {
    const health = (await a.inject({ url: '/__admin/health' })).json() as { store: string };
    expect(health.store).toBe(testStoreKind());
    const made = await a.inject({
      method: 'POST',
      url: '/__admin/merchants',
      payload: {
        name: 'Only in A',
        domains: ['a.kz'],
        public_key: '0X/Tkqu9KnZDgKEJb7LUgoIFOrZgvk2Z4XPYoLvVC3Y=',
      },
    });
    expect(made.statusCode).toBe(201);
    const inB = (await b.inject({ url: '/__admin/merchants' })).json() as { merchants: { name: string }[] };
    expect(inB.merchants.map((m) => m.name)).not.toContain('Only in A');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
