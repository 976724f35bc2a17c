import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../../mock-server/callbacks/delivery.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { createManualClock } from '../../mock-server/shared/clock.js';
import { createMemoryStore } from '../../mock-server/store/memory-store.js';
import { buildTestApp, createPayment } from '../helpers/sandbox.js';
import {
  answers,
  failPayment,
  onlyDelivery,
  startReceiver,
  waitForDelivery,
  type Answer,
  type Receiver,
} from './receiver.js';

describe('outbox lifecycle: resume at startup, graceful shutdown, concurrency limit', () => {
  const apps: FastifyInstance[] = [];
  const receivers: Receiver[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    for (const r of receivers.splice(0)) await r.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function receiverFor(answer: Answer) {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  }

  it('resume() at startup treats a delivery left `delivering` (and a due `retrying` one) as due', async () => {
    const receiver = await receiverFor(answers.ok);
    const store = createMemoryStore({ journalSize: 100 });
    const now = Date.now();
    const row = (id: string, state: Delivery['state'], attempts: number): Delivery => ({
      id,
      transaction_hash: 'a'.repeat(40),
      app_id: DEFAULT_MERCHANT.app_id,
      url: receiver.url,
      body: `{"marker":"${id}"}`,
      status: 'completed',
      state,
      created_at: now - 60_000,
      next_attempt_at: now - 1_000,
      attempts: Array.from({ length: attempts }, (_, i) => ({
        attempt: i + 1,
        trigger: 'schedule' as const,
        due_at: now - 60_000,
        at: now - 60_000,
        request_headers: {},
        request_body: `{"marker":"${id}"}`,
        sent: true,
        response_status: 500,
        response_headers: {},
        response_body: '',
        latency_ms: 1,
        verdict: 'failed' as const,
        reason: 'answered HTTP 500; only a 2xx answer can acknowledge a callback',
      })),
      note: null,
    });
    await store.insertDeliveries([
      row('dlv_aaaaaaaaaaaaaaaaaaaaaaaa', 'delivering', 0),
      row('dlv_bbbbbbbbbbbbbbbbbbbbbbbb', 'retrying', 2),
      { ...row('dlv_cccccccccccccccccccccccc', 'acknowledged', 0), next_attempt_at: null },
    ]);

    const app = await buildTestApp({}, { store });
    apps.push(app);
    await app.ready(); // onReady → resume()
    await receiver.waitFor(2);
    await app.sandbox.callbacks.whenIdle();

    const byMarker = Object.fromEntries(
      receiver.received.map((r) => [JSON.parse(r.body).marker, r.headers['x-ktpay-attempt']]),
    );
    expect(byMarker).toEqual({ dlv_aaaaaaaaaaaaaaaaaaaaaaaa: '1', dlv_bbbbbbbbbbbbbbbbbbbbbbbb: '3' });
    expect((await store.getDelivery('dlv_aaaaaaaaaaaaaaaaaaaaaaaa'))!.state).toBe('acknowledged');
    expect((await store.getDelivery('dlv_bbbbbbbbbbbbbbbbbbbbbbbb'))!.attempts).toHaveLength(3);
  });

  it('a due attempt whose claim just missed (the clock crossed its due time meanwhile) is made, not lost', async () => {
    const receiver = await receiverFor(answers.ok);
    const store = createMemoryStore({ journalSize: 100 });
    const now = Date.now();
    const id = 'dlv_dddddddddddddddddddddddd';
    await store.insertDeliveries([
      {
        id,
        transaction_hash: 'd'.repeat(40),
        app_id: DEFAULT_MERCHANT.app_id,
        url: receiver.url,
        body: '{"marker":"missed"}',
        status: 'completed',
        state: 'retrying',
        created_at: now - 60_000,
        next_attempt_at: now - 1,
        attempts: [],
        note: null,
      },
    ]);
    // The first scheduled claim answers "not due", as it does when a timer fires a millisecond
    // before the row's due time; by the time the outbox reads the row back, it is due.
    const claimDelivery = store.claimDelivery.bind(store);
    let missed = 0;
    store.claimDelivery = async (...args) => {
      if (args[2]?.due && missed === 0) {
        missed++;
        return undefined;
      }
      return claimDelivery(...args);
    };

    const app = await buildTestApp({}, { store });
    apps.push(app);
    await app.ready(); // onReady → resume()
    await receiver.waitFor(1);
    expect(missed).toBe(1);
    const after = await waitForDelivery(app, id, (d) => d.state === 'acknowledged');
    expect(after.attempts).toHaveLength(1);
  });

  it('pending retries survive a restart with the SQLite store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktpay-cb-'));
    dirs.push(dir);
    const env = { STORE: `sqlite:${join(dir, 'sandbox.db')}` };
    let answer: Answer = answers.serverError;
    const receiver = await receiverFor((req, res, n) => answer(req, res, n));
    // The first run happened an hour ago, so its 15 s retry is long due by the second start.
    const first = await buildTestApp(
      { clearing_delay_ms: 'manual' },
      { env, clock: createManualClock(Date.now() - 3_600_000) },
    );
    const hash = await createPayment(first, { callback_post_url: receiver.url });
    await failPayment(first, hash);
    await first.sandbox.callbacks.whenIdle();
    const before = await onlyDelivery(first, hash);
    expect(before.state).toBe('retrying');
    await first.close();

    // The restarted sandbox (real clock) finds the retry due and delivers it.
    answer = answers.ok;
    const second = await buildTestApp({ clearing_delay_ms: 'manual' }, { env });
    apps.push(second);
    expect(second.sandbox.store.kind).toBe('sqlite');
    expect((await second.sandbox.callbacks.get(before.id))!.state).toBe('retrying');
    await second.ready();
    const after = await waitForDelivery(second, before.id, (d) => d.state === 'acknowledged');
    expect(after.attempts.map((a) => a.verdict)).toEqual(['failed', 'acknowledged']);
    expect(receiver.received.map((r) => r.headers['x-ktpay-attempt'])).toEqual(['1', '2']);
    expect(receiver.received[1]!.body).toBe(before.body);
  });

  it('graceful shutdown waits briefly for an attempt in flight that finishes', async () => {
    const receiver = await receiverFor((req, res, n) => setTimeout(() => answers.ok(req, res, n), 200));
    const store = createMemoryStore({ journalSize: 100 });
    const app = await buildTestApp({ clearing_delay_ms: 'manual' }, { store, clock: createManualClock() });
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    await receiver.waitFor(1);
    const started = performance.now();
    await app.close();
    const took = performance.now() - started;
    const d = (await store.listDeliveries({ transaction_hash: hash }))[0]!;
    expect(d.state).toBe('acknowledged');
    expect(took).toBeLessThan(1_000);
  });

  it('graceful shutdown gives up after about 1 s and leaves the delivery pending for the next start', async () => {
    const receiver = await receiverFor(answers.hang);
    const store = createMemoryStore({ journalSize: 100 });
    const app = await buildTestApp({ clearing_delay_ms: 'manual' }, { store, clock: createManualClock() });
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    await receiver.waitFor(1);
    expect((await store.listDeliveries({ transaction_hash: hash }))[0]!.state).toBe('delivering');
    const started = performance.now();
    await app.close();
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(990);
    expect(took).toBeLessThan(2_500);
    const d = (await store.listDeliveries({ transaction_hash: hash }))[0]!;
    expect(d.state).toBe('pending');
    expect(d.attempts).toEqual([]); // the cut-short attempt is not a verdict on the receiver
    expect((await store.listOpenDeliveries()).map((x) => x.id)).toEqual([d.id]);
  });

  it('beyond callbacks.max_pending open deliveries, a new one is recorded failed with a note and not sent', async () => {
    const receiver = await receiverFor(answers.hang);
    const app = await buildTestApp(
      { clearing_delay_ms: 'manual', callbacks: { max_pending: 1, timeout_ms: 5_000 } },
      { clock: createManualClock() },
    );
    apps.push(app);
    const first = await createPayment(app, { callback_post_url: receiver.url });
    const second = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, first);
    await receiver.waitFor(1);
    await failPayment(app, second);
    const d = await onlyDelivery(app, second);
    expect(d.state).toBe('failed');
    expect(d.attempts).toEqual([]);
    expect(d.note).toBe('not sent: the outbox already holds 1 open deliveries (callbacks.max_pending)');
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received).toHaveLength(1);
    expect((await onlyDelivery(app, first)).state).toBe('delivering');
  });

  it('never runs more attempts at once than callbacks.concurrency', async () => {
    let open = 0;
    let peak = 0;
    const receiver = await receiverFor((req, res, n) => {
      open++;
      peak = Math.max(peak, open);
      setTimeout(() => {
        open--;
        answers.ok(req, res, n);
      }, 100);
    });
    const app = await buildTestApp(
      { clearing_delay_ms: 'manual', callbacks: { concurrency: 2 } },
      { clock: createManualClock() },
    );
    apps.push(app);
    const hashes: string[] = [];
    for (let i = 0; i < 6; i++) hashes.push(await createPayment(app, { callback_post_url: receiver.url }));
    for (const h of hashes) await failPayment(app, h);
    await receiver.waitFor(6);
    await app.sandbox.callbacks.whenIdle();
    expect(peak).toBe(2);
    expect(await app.sandbox.callbacks.list({ state: 'acknowledged' })).toHaveLength(6);
  });
});
