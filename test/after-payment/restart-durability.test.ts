import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxConfigInput } from '../../contracts/types.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { createManualClock } from '../../mock-server/shared/clock.js';
import { API, buildTestApp, createPayment, seal, settle } from '../helpers/sandbox.js';
import { startCallbackReceiver, type CallbackReceiver } from './callback-receiver.js';
import { driveTo, postOperation } from './drive.js';

const START = Date.parse('2026-03-01T06:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'ktpay-restart-'));
const dbPath = join(dir, 'state', 'ktpay.db'); // the state/ directory does not exist yet
let receiver: CallbackReceiver;
let flags: SandboxConfigInput;

beforeAll(async () => {
  receiver = await startCallbackReceiver();
  flags = {
    store: `sqlite:${dbPath}`,
    clearing_delay_ms: 'manual',
    journal_size: 50,
    default_merchant: { callback_post_url: receiver.url, notify_on: ['cancelled', 'refunded'] },
  };
});
afterAll(async () => {
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('STORE=sqlite: create, pay, stop, start — everything is still there', () => {
  it('keeps transactions with history and refunds, runtime merchants, the journal and open callbacks, and resumes them on schedule', async () => {
    // ── first run ──────────────────────────────────────────────────────────────────────────
    const clock1 = createManualClock(START);
    const app1 = await buildTestApp(flags, { clock: clock1 });
    expect(app1.sandbox.store.kind).toBe('sqlite');

    const created = await app1.inject({
      method: 'POST',
      url: '/__admin/merchants',
      payload: {
        name: 'Рантайм-магазин',
        domains: ['runtime.example.kz'],
        public_key: DEFAULT_MERCHANT.merchant_public_key,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const runtime = created.json() as { app_id: string; app_key: string };

    const paid = await createPayment(app1, { amount: 1000, order_id: 'PAID-1' });
    await driveTo(app1, paid, 'completed'); // a completed callback, refused by the receiver → retrying
    clock1.advance(1000);
    await settle();
    expect((await postOperation(app1, 'refund', paid, { amount: 300, reason: 'частично' })).statusCode).toBe(
      200,
    );

    const cancelled = await createPayment(app1, { amount: 50, order_id: 'CANCEL-1' });
    await driveTo(app1, cancelled, 'authorized');
    expect((await postOperation(app1, 'cancel', cancelled, { reason: 'передумал' })).statusCode).toBe(200);

    const pendingRes = await app1.inject({
      method: 'POST',
      url: `${API}/payment`,
      headers: { 'auth-identifier': runtime.app_id },
      payload: await seal({ order: { amount: 77.7, order_id: 'RT-1', type: 'ecom' } }, runtime.app_key),
    });
    expect(pendingRes.statusCode, pendingRes.body).toBe(200);
    const pending = (pendingRes.json() as { payload: { transaction_hash: string } }).payload.transaction_hash;

    await app1.sandbox.callbacks.whenIdle();
    const store1 = app1.sandbox.store;
    const snapshot = {
      txs: structuredClone(
        await Promise.all([paid, cancelled, pending].map((h) => store1.getTransaction(h))),
      ),
      merchants: structuredClone(await store1.listMerchants()),
      journal: structuredClone(await store1.listJournal({ limit: 1000 })),
      deliveries: structuredClone(await store1.listDeliveries({})),
    };
    expect(snapshot.deliveries.map((d) => [d.transaction_hash, d.status, d.state])).toEqual([
      [paid, 'completed', 'retrying'],
      [cancelled, 'cancelled', 'retrying'],
    ]);
    expect(receiver.received.map((r) => r.mode)).toEqual(['fail', 'fail']);
    const dueAt = Math.min(...snapshot.deliveries.map((d) => d.next_attempt_at!));
    expect(dueAt).toBe(START + 1000 + 15_000); // the documented first retry, 15 s after the failed attempt
    await app1.close();

    // ── second run, 5 s later, on the same file ───────────────────────────────────────────
    receiver.mode = 'ok';
    const clock2 = createManualClock(START + 6000);
    const app2 = await buildTestApp(flags, { clock: clock2 });
    await app2.ready();
    const store2 = app2.sandbox.store;
    try {
      expect(await Promise.all([paid, cancelled, pending].map((h) => store2.getTransaction(h)))).toEqual(
        snapshot.txs,
      );
      expect(await store2.getTransaction(paid)).toMatchObject({
        status: 'partially_refunded',
        refunds: [{ amount: 300, reason: 'частично' }],
        card: { masked: '440563******5096' },
      });
      // Runtime merchants come back as they were; the built-in one is re-installed from the config.
      expect((await store2.listMerchants()).map((m) => m.app_id)).toEqual(
        snapshot.merchants.map((m) => m.app_id),
      );
      expect((await store2.listMerchants()).filter((m) => !m.builtin)).toEqual(
        snapshot.merchants.filter((m) => !m.builtin),
      );
      expect(snapshot.merchants.filter((m) => !m.builtin).map((m) => m.name)).toEqual(['Рантайм-магазин']);
      expect(await store2.listJournal({ limit: 1000 })).toEqual(snapshot.journal);
      expect(await store2.listDeliveries({})).toEqual(snapshot.deliveries);

      // Both open callbacks are re-armed for their original due time, not fired early...
      expect(app2.sandbox.callbacks.stats().armed).toBe(2);
      clock2.advance(dueAt - 1 - clock2.now());
      await settle();
      await app2.sandbox.callbacks.whenIdle();
      expect(receiver.acknowledged.size).toBe(0);
      // ...and delivered once each when due.
      clock2.advance(1);
      await settle();
      await app2.sandbox.callbacks.whenIdle();
      expect(Object.fromEntries(receiver.acknowledged)).toEqual({ [paid]: 1, [cancelled]: 1 });
      expect(await store2.listOpenDeliveries()).toEqual([]);
      const acked = receiver.received.filter((r) => r.mode === 'ok');
      expect(acked.map((r) => r.attempt)).toEqual(['2', '2']);

      // The restored transactions keep working: refund the remainder, print the receipt.
      const refund = await postOperation(app2, 'refund', paid);
      expect(refund.json()).toMatchObject({
        payload: { status: { status: 'refunded' }, refunded_amount: 1000 },
      });
      const pdf = await app2.inject({ method: 'GET', url: `${API}/payment/${paid}/pdf` });
      expect(pdf.statusCode).toBe(200);

      // Keys of the runtime merchant, per-merchant order_id uniqueness and ids all carried over.
      const again = await app2.inject({
        method: 'POST',
        url: `${API}/payment`,
        headers: { 'auth-identifier': runtime.app_id },
        payload: await seal({ order: { amount: 1, order_id: 'RT-1', type: 'ecom' } }, runtime.app_key),
      });
      expect(again.statusCode).toBe(422);
      expect(again.json().error.validation).toHaveProperty(['order.order_id']);
      const fresh = await createPayment(app2, { order_id: 'AFTER-RESTART' });
      // Ids 1-3 were the first run's; the refused duplicate drew 4 (a refused create may leave a
      // gap: the store's unique constraint refuses it at insert, after the id was drawn).
      expect((await store2.getTransaction(fresh))!.id).toBe(5);
    } finally {
      await app2.close();
    }
  });
});
