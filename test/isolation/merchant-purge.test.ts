import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { MERCHANT_SWEEP_MS } from '../../mock-server/merchants/merchant-expiry.js';
import { createManualClock, type ManualClock } from '../../mock-server/shared/clock.js';
import { completePayment, startReceiver, type Receiver } from '../callbacks/receiver.js';
import { addMerchant, buildTestApp, orderPayload, postCreate, seal, settle } from '../helpers/sandbox.js';

/**
 * Issue 17 §5, isolation on a shared sandbox: ephemeral merchants (`ttl`), the purge that comes
 * with `DELETE /__admin/merchants/{app_id}`, and `POST /__admin/merchants/{app_id}/reset`, which
 * touches one merchant and no other. Memory store, manual clock, through the admin API.
 */

const { validator } = createSchemaRegistry();
const START = Date.parse('2026-03-01T10:00:00Z');

type Merchant = { app_id: string; app_key: string } & Record<string, unknown>;

let app: FastifyInstance | undefined;
let receiver: Receiver | undefined;
let clock: ManualClock;
afterEach(async () => {
  await app?.close();
  await receiver?.close();
  app = receiver = undefined;
});

async function sandbox() {
  clock = createManualClock(START);
  receiver = await startReceiver();
  app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock });
  return app;
}

const admin = (method: 'GET' | 'POST' | 'DELETE' | 'PUT', url: string, payload?: unknown) =>
  app!.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });

function expectContract(name: Parameters<typeof validator>[0], body: unknown) {
  const v = validator(name);
  expect(v(body), JSON.stringify(v.errors)).toBe(true);
}

/** A paid, cleared payment of `m` (so it has a callback delivery) plus a journal entry for its create. */
async function paidPayment(m: Merchant, orderId?: string): Promise<string> {
  const res = await postCreate(
    app!,
    await seal(orderPayload(orderId ? { order_id: orderId } : {}), m.app_key),
    { 'auth-identifier': m.app_id },
  );
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json() as { payload?: { transaction_hash: string } };
  const hash = body.payload!.transaction_hash;
  await completePayment(app!, hash);
  await settle();
  return hash;
}

/** Waits (a few event-loop turns) for the expiry sweep the clock just fired to purge `appId`. */
async function sweptAway(appId: string) {
  for (let i = 0; i < 100 && (await app!.sandbox.store.getMerchant(appId)); i++) await settle();
  expect(await app!.sandbox.store.getMerchant(appId)).toBeUndefined();
}

/** What the admin API shows of one merchant's data. */
async function dataOf(appId: string) {
  const [txs, callbacks, journal, scenarios] = await Promise.all([
    admin('GET', `/__admin/transactions?app_id=${appId}`),
    admin('GET', `/__admin/callbacks?app_id=${appId}`),
    admin('GET', `/__admin/journal?app_id=${appId}`),
    admin('GET', '/__admin/scenarios'),
  ]);
  const catalog = scenarios.json() as {
    custom: { name: string; app_id: string | null }[];
    counts: { scope: string; scenario: string }[];
  };
  return {
    transactions: (txs.json() as { transactions: { transaction_hash: string }[] }).transactions.map(
      (t) => t.transaction_hash,
    ),
    callbacks: (callbacks.json() as { deliveries: { transaction_hash: string }[] }).deliveries.map(
      (d) => d.transaction_hash,
    ),
    journal: (journal.json() as { entries: unknown[] }).entries.length,
    scenarios: catalog.custom.filter((s) => s.app_id === appId).map((s) => s.name),
    counts: catalog.counts.filter((c) => c.scope.endsWith(appId)).map((c) => c.scenario),
  };
}

/** Two merchants with a paid payment each, and each with a scenario of its own that has been used. */
async function twoMerchantsWithData() {
  await sandbox();
  const a = await addMerchant(app!, { name: 'Shop A', callback_post_url: receiver!.url });
  const b = await addMerchant(app!, { name: 'Shop B', callback_post_url: receiver!.url });
  for (const m of [a, b]) {
    const put = await admin('PUT', `/__admin/merchants/${m.app_id}/scenario`, {
      scenario: {
        name: `own-${m.app_id.slice(0, 8)}`,
        description: 'refuse one create of 999',
        steps: [
          { match: { endpoint: 'create', amount: 999 }, effect: { type: 'respond_error', code: 5000001 } },
        ],
      },
    });
    expect(put.statusCode, put.body).toBe(200);
    // Uses one step of it: a create of 999 answers 5000001.
    const refused = await postCreate(app!, await seal(orderPayload({ amount: 999 }), m.app_key), {
      'auth-identifier': m.app_id,
    });
    expect(refused.json()).toMatchObject({ error: { code: 5000001 } });
  }
  const hashA = await paidPayment(a);
  const hashB = await paidPayment(b);
  const before = { a: await dataOf(a.app_id), b: await dataOf(b.app_id) };
  expect(before.a).toMatchObject({
    transactions: [hashA],
    callbacks: [hashA],
    scenarios: [expect.any(String)],
  });
  expect(before.a.journal).toBeGreaterThanOrEqual(2);
  expect(before.a.counts).toHaveLength(1);
  return { a, b, hashA, hashB, before };
}

describe('POST /__admin/merchants with ttl: an ephemeral merchant', () => {
  it('answers expires_at = now + ttl, and refuses a bad ttl with 4220122 naming the field', async () => {
    await sandbox();
    const m = await addMerchant(app!, { ttl: 3600 });
    expectContract('merchantView', m);
    expect(m.expires_at).toBe(new Date(START + 3_600_000).toISOString());
    expect((await addMerchant(app!, {})).expires_at).toBeUndefined();
    // The dashboard says so too (in Almaty time, +06:00).
    const page = await admin('GET', '/__admin/ui/merchants');
    expect(page.body).toContain('01.03.2026 17:00:00');
    expect(page.body).toContain('ephemeral: purged with its data');
    for (const ttl of [0, -5, 1.5, '60', null, 30 * 24 * 3600 + 1]) {
      const res = await admin('POST', '/__admin/merchants', {
        name: 'Bad ttl',
        domains: ['shop.kz'],
        public_key: m.public_key,
        ttl,
      });
      expect(res.statusCode, JSON.stringify(ttl)).toBe(422);
      expect(res.json(), JSON.stringify(ttl)).toMatchObject({
        success: false,
        error: { code: 4220122, validation: { ttl: [expect.any(String)] } },
      });
    }
  });

  it('is unknown once its time is up, and the sweep purges it with all its data, leaving others alone', async () => {
    await sandbox();
    const keep = await addMerchant(app!, { name: 'Permanent', callback_post_url: receiver!.url });
    const eph = await addMerchant(app!, { name: 'Ephemeral', ttl: 60, callback_post_url: receiver!.url });
    const hashKeep = await paidPayment(keep);
    const hashEph = await paidPayment(eph);
    expect((await dataOf(eph.app_id)).transactions).toEqual([hashEph]);

    clock.advance(59_999);
    await settle();
    expect((await admin('GET', `/__admin/merchants/${eph.app_id}`)).statusCode).toBe(200);
    clock.advance(1);
    // Expired: unknown to the admin API and to the merchant API at once, swept or not.
    const gone = await admin('GET', `/__admin/merchants/${eph.app_id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ error: { code: 4040123 } });
    const list = (await admin('GET', '/__admin/merchants')).json() as { merchants: { app_id: string }[] };
    expect(list.merchants.map((m) => m.app_id)).not.toContain(eph.app_id);
    const refused = await postCreate(app!, await seal(orderPayload(), eph.app_key), {
      'auth-identifier': eph.app_id,
    });
    expect(refused.json()).toMatchObject({ error: { code: 4220103 } });
    // Its rows are still there until the sweep …
    expect(await app!.sandbox.store.getTransaction(hashEph)).toBeDefined();
    expect(await app!.sandbox.store.getMerchant(eph.app_id)).toBeDefined();
    clock.advance(MERCHANT_SWEEP_MS);
    await sweptAway(eph.app_id);
    // … which purges the merchant and everything it had.
    expect(await app!.sandbox.store.getMerchant(eph.app_id)).toBeUndefined();
    expect(await app!.sandbox.store.getTransaction(hashEph)).toBeUndefined();
    expect(await dataOf(eph.app_id)).toEqual({
      transactions: [],
      callbacks: [],
      journal: 0,
      scenarios: [],
      counts: [],
    });
    // The permanent merchant and its payment are untouched.
    expect((await admin('GET', `/__admin/merchants/${keep.app_id}`)).statusCode).toBe(200);
    expect(await dataOf(keep.app_id)).toMatchObject({ transactions: [hashKeep], callbacks: [hashKeep] });
  });

  it('keeps no sweep timer while no ephemeral merchant exists, and stops sweeping once the last one is gone', async () => {
    await sandbox();
    if (app!.sandbox.store.kind === 'postgres') {
      // A shared store: another replica may make ephemeral merchants, so every replica sweeps always.
      expect(app!.sandbox.expiry.armed()).toBe(true);
      return;
    }
    expect(app!.sandbox.expiry.armed()).toBe(false);
    await addMerchant(app!, {});
    expect(app!.sandbox.expiry.armed()).toBe(false);
    const eph = await addMerchant(app!, { ttl: 10 });
    expect(app!.sandbox.expiry.armed()).toBe(true);
    clock.advance(MERCHANT_SWEEP_MS);
    await sweptAway(eph.app_id);
    await settle();
    expect(app!.sandbox.expiry.armed()).toBe(false);
  });
});

describe('DELETE /__admin/merchants/{app_id}: the merchant goes with all its data', () => {
  it("purges its transactions, callbacks, journal entries, own scenarios and use counts; the other merchant's stay", async () => {
    const { a, b, hashA, before } = await twoMerchantsWithData();
    const res = await admin('DELETE', `/__admin/merchants/${a.app_id}`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { deleted: string; purged: Record<string, number> };
    expectContract('merchantPurge', body);
    expect(body.deleted).toBe(a.app_id);
    expect(body.purged).toMatchObject({
      transactions: 1,
      callback_deliveries: 1,
      journal_entries: before.a.journal,
      scenarios: 1,
      scenario_uses: 1,
    });
    expect(await dataOf(a.app_id)).toEqual({
      transactions: [],
      callbacks: [],
      journal: 0,
      scenarios: [],
      counts: [],
    });
    expect((await admin('GET', `/__admin/transactions/${hashA}`)).statusCode).toBe(404);
    expect(await dataOf(b.app_id)).toEqual(before.b);
    // A second delete finds nothing.
    const again = await admin('DELETE', `/__admin/merchants/${a.app_id}`);
    expect(again.statusCode).toBe(404);
    expect(again.json()).toMatchObject({ error: { code: 4040123 } });
  });

  it('leaves shared scenarios (POST /__admin/scenarios) in place', async () => {
    await sandbox();
    const a = await addMerchant(app!, {});
    const shared = await admin('POST', '/__admin/scenarios', {
      name: 'team-shared',
      description: 'defined for everyone',
      steps: [{ match: { endpoint: 'create' }, effect: { type: 'respond_error', code: 5000001 } }],
    });
    expect(shared.statusCode).toBe(201);
    expect(
      (await admin('PUT', `/__admin/merchants/${a.app_id}/scenario`, { name: 'team-shared' })).statusCode,
    ).toBe(200);
    const res = await admin('DELETE', `/__admin/merchants/${a.app_id}`);
    expect((res.json() as { purged: { scenarios: number } }).purged.scenarios).toBe(0);
    const catalog = (await admin('GET', '/__admin/scenarios')).json() as {
      custom: { name: string; app_id: string | null }[];
    };
    expect(catalog.custom).toEqual([expect.objectContaining({ name: 'team-shared', app_id: null })]);
  });
});

describe('POST /__admin/merchants/{app_id}/reset: one merchant, and no other', () => {
  it('drops its data and use counts, keeps the merchant with its keys, settings and scenarios', async () => {
    const { a, b, hashA, before } = await twoMerchantsWithData();
    const orderId = (await app!.sandbox.store.getTransaction(hashA))!.order_id;
    const viewBefore = (await admin('GET', `/__admin/merchants/${a.app_id}`)).json() as Record<
      string,
      unknown
    >;
    const res = await admin('POST', `/__admin/merchants/${a.app_id}/reset`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { reset: string; purged: Record<string, number> };
    expectContract('merchantPurge', body);
    expect(body).toEqual({
      reset: a.app_id,
      purged: {
        transactions: 1,
        callback_deliveries: 1,
        journal_entries: before.a.journal,
        scenarios: 0,
        scenario_uses: 1,
      },
    });
    expect(await dataOf(a.app_id)).toEqual({
      transactions: [],
      callbacks: [],
      journal: 0,
      scenarios: before.a.scenarios,
      counts: [],
    });
    expect((await admin('GET', `/__admin/merchants/${a.app_id}`)).json()).toEqual(viewBefore);
    expect(await dataOf(b.app_id)).toEqual(before.b);
    // The same credentials work, the order_id is free again, and the scenario's counts start from zero.
    await paidPayment(a, orderId);
    const refused = await postCreate(app!, await seal(orderPayload({ amount: 999 }), a.app_key), {
      'auth-identifier': a.app_id,
    });
    expect(refused.json()).toMatchObject({ error: { code: 5000001 } });
  });

  it('answers 4040123 for an unknown merchant, and for an ephemeral one whose time is up', async () => {
    await sandbox();
    const unknown = await admin('POST', `/__admin/merchants/${'0'.repeat(32)}/reset`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ success: false, error: { code: 4040123 } });
    const eph = await addMerchant(app!, { ttl: 5 });
    clock.advance(5000);
    const expired = await admin('POST', `/__admin/merchants/${eph.app_id}/reset`);
    expect(expired.statusCode).toBe(404);
    expect(expired.json()).toMatchObject({ error: { code: 4040123 } });
  });
});
