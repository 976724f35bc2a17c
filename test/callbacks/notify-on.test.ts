import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../mock-server/shared/clock.js';
import { buildTestApp, createPayment } from '../helpers/sandbox.js';
import { answers, completePayment, failPayment, startReceiver, type Receiver } from './receiver.js';

describe('which statuses produce a callback, and where it goes', () => {
  let app: FastifyInstance | undefined;
  let receiver: Receiver | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  const statusesSent = () =>
    receiver!.received.map((r) => (JSON.parse(r.body) as { status: { status: string } }).status.status);

  async function build(notifyOn: Array<'cancelled' | 'refunded'>, withMerchantUrl = false) {
    receiver = await startReceiver(answers.ok);
    app = await buildTestApp(
      {
        clearing_delay_ms: 'manual',
        default_merchant: {
          notify_on: notifyOn,
          ...(withMerchantUrl ? { callback_post_url: receiver.url } : {}),
        },
      },
      { clock: createManualClock() },
    );
    return app;
  }

  async function cancel(app: FastifyInstance, hash: string) {
    return await app.sandbox.payments.apply(hash, {
      type: 'cancel',
      at: app.sandbox.clock.now(),
      reason: 'shopper left',
    });
  }
  async function refund(app: FastifyInstance, hash: string, amount: number) {
    return await app.sandbox.payments.apply(hash, {
      type: 'refund',
      at: app.sandbox.clock.now(),
      amount,
      reason: null,
    });
  }

  it('by default: completed, error and denied are sent; authorized, success, cancelled and refunds are not', async () => {
    const app = await build([]);
    const url = receiver!.url;
    const paid = await createPayment(app, { callback_post_url: url, amount: 100 });
    await completePayment(app, paid); // authorized, success: no callback; completed: one
    await refund(app, paid, 40); // partially_refunded: none
    await refund(app, paid, 60); // refunded: none without notify_on
    const failed = await createPayment(app, { callback_post_url: url });
    await failPayment(app, failed);
    const denied = await createPayment(app, { callback_post_url: url });
    await app.sandbox.payments.apply(denied, {
      type: 'fail',
      at: app.sandbox.clock.now(),
      status: 'denied',
      error: { error_type: 'ERROR_SYSTEM', error_message: 'Service gateway refused' },
    });
    const cancelled = await createPayment(app, { callback_post_url: url });
    await cancel(app, cancelled);
    await app.sandbox.callbacks.whenIdle();

    expect(statusesSent().sort()).toEqual(['completed', 'denied', 'error']);
    expect((await app.sandbox.callbacks.list()).map((d) => d.status).sort()).toEqual([
      'completed',
      'denied',
      'error',
    ]);
    expect(await app.sandbox.callbacks.list({ transaction_hash: cancelled })).toEqual([]);
    const deniedBody = receiver!.received
      .map((r) => JSON.parse(r.body))
      .find((b) => b.status.status === 'denied');
    expect(deniedBody.status.error).toEqual({
      error_type: 'ERROR_SYSTEM',
      error_message: 'Service gateway refused',
    });
  });

  it("notify_on: ['cancelled', 'refunded'] adds those two (and still not partially_refunded)", async () => {
    const app = await build(['cancelled', 'refunded']);
    const url = receiver!.url;
    const cancelled = await createPayment(app, { callback_post_url: url });
    await cancel(app, cancelled);
    const refunded = await createPayment(app, { callback_post_url: url, amount: 100 });
    await completePayment(app, refunded);
    await refund(app, refunded, 30);
    await refund(app, refunded, 70);
    await app.sandbox.callbacks.whenIdle();

    expect(statusesSent().sort()).toEqual(['cancelled', 'completed', 'refunded']);
    expect(
      (await app.sandbox.callbacks.list({ transaction_hash: refunded })).map((d) => d.status).sort(),
    ).toEqual(['completed', 'refunded']);
    const refundedBody = receiver!.received
      .map((r) => JSON.parse(r.body))
      .find((b) => b.status.status === 'refunded');
    expect(refundedBody.status.error).toBeNull();
    expect(app.sandbox.schemas.validator('callbackBody')(refundedBody)).toBe(true);
  });

  it("notify_on: ['refunded'] alone does not send cancelled", async () => {
    const app = await build(['refunded']);
    const hash = await createPayment(app, { callback_post_url: receiver!.url });
    await cancel(app, hash);
    await app.sandbox.callbacks.whenIdle();
    expect(receiver!.received).toHaveLength(0);
    expect(await app.sandbox.callbacks.list()).toEqual([]);
  });

  it("the transaction's callback_post_url wins; the merchant's is the fallback", async () => {
    const app = await build([], true);
    const other = await startReceiver(answers.ok);
    try {
      const own = await createPayment(app, { callback_post_url: other.url });
      await failPayment(app, own);
      const fallback = await createPayment(app);
      await failPayment(app, fallback);
      await app.sandbox.callbacks.whenIdle();

      expect(other.received.map((r) => JSON.parse(r.body).transaction_hash)).toEqual([own]);
      expect(receiver!.received.map((r) => JSON.parse(r.body).transaction_hash)).toEqual([fallback]);
      const [d1] = await app.sandbox.callbacks.list({ transaction_hash: own });
      const [d2] = await app.sandbox.callbacks.list({ transaction_hash: fallback });
      expect(d1!.note).toBe("status error; URL from the transaction's callback_post_url");
      expect(d2!.note).toBe("status error; URL from the merchant's callback_post_url");
    } finally {
      await other.close();
    }
  });

  it('no URL anywhere: no delivery, and the journal and the transaction callbacks view say so', async () => {
    const app = await build([]);
    const hash = await createPayment(app);
    await failPayment(app, hash);
    await app.sandbox.callbacks.whenIdle();

    expect(await app.sandbox.callbacks.list()).toEqual([]);
    const expected = `no callback_post_url: transaction ${hash} reached error, but neither the transaction nor merchant e2d3d70d53c67bcd377266f74e98587c has a callback_post_url, so no callback was sent`;
    const journal = (
      await app.inject({ method: 'GET', url: `/__admin/journal?transaction_hash=${hash}` })
    ).json() as {
      entries: Array<{
        method: string;
        path: string;
        verdict: { explanation: string; contract_warnings: string[] };
      }>;
    };
    const note = journal.entries.find((e) => e.method === 'CALLBACK');
    expect(note).toBeDefined();
    expect(note!.path).toBe('(no callback_post_url)');
    expect(note!.verdict.explanation).toBe(expected);
    expect(note!.verdict.contract_warnings).toEqual([expected]);

    const view = (
      await app.inject({ method: 'GET', url: `/__admin/transactions/${hash}/callbacks` })
    ).json() as {
      deliveries: unknown[];
      notes: Array<{ note: string }>;
    };
    expect(view.deliveries).toEqual([]);
    expect(view.notes.map((n) => n.note)).toEqual([expected]);
  });
});
