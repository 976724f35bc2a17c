import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../mock-server/shared/clock.js';
import { buildTestApp, createPayment } from '../helpers/sandbox.js';
import {
  answers,
  completePayment,
  failPayment,
  freePort,
  onlyDelivery,
  startReceiver,
  type Answer,
  type Receiver,
} from './receiver.js';

/**
 * One real receiver per case (issue 4 §5). A manual clock holds the retries back, so each case
 * looks at exactly one attempt and the retry it schedules.
 */
describe('callback delivery against real local receivers', () => {
  let app: FastifyInstance | undefined;
  let receiver: Receiver | undefined;
  let clock: ManualClock;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  async function setup(answer: Answer, env: Record<string, string> = {}) {
    receiver = await startReceiver(answer);
    clock = createManualClock(Date.parse('2026-03-01T10:00:00Z'));
    app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock, env });
    return { app, receiver };
  }

  it('an ok ack: one POST with the documented body and headers, delivery acknowledged', async () => {
    const { app, receiver } = await setup(answers.ok);
    const hash = await createPayment(app, {
      callback_post_url: receiver.url,
      amount: 1500.5,
      description: 'Заказ',
    });
    const tx = await completePayment(app, hash);
    await app.sandbox.callbacks.whenIdle();

    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    const d = await onlyDelivery(app, hash);
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/ktpay/callback');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-ktpay-delivery-id']).toBe(d.id);
    expect(got.headers['x-ktpay-attempt']).toBe('1');
    const body = JSON.parse(got.body) as Record<string, unknown>;
    expect(body).toEqual({
      merchant_id: 1,
      order_id: tx.order_id,
      description: 'Заказ',
      amount: 1500.5,
      transaction_hash: hash,
      created_at: '2026-03-01T16:00:00+06:00',
      updated_at: '2026-03-01T16:00:00+06:00',
      status: { status: 'completed', created_at: '2026-03-01T16:00:00+06:00', updated_at: null, error: null },
    });
    expect(app.sandbox.schemas.validator('callbackBody')(body)).toBe(true);
    expect(got.body).toBe(d.body);

    expect(d.state).toBe('acknowledged');
    expect(d.next_attempt_at).toBeNull();
    expect(d.attempts).toHaveLength(1);
    const a = d.attempts[0]!;
    expect(a).toMatchObject({
      attempt: 1,
      trigger: 'schedule',
      sent: true,
      response_status: 200,
      verdict: 'acknowledged',
    });
    expect(a.response_body).toBe('{"status":"ok"}');
    expect(a.response_headers?.['content-type']).toBe('application/json');
    expect(a.request_headers['x-ktpay-attempt']).toBe('1');
    expect(a.request_body).toBe(got.body);
    expect(a.latency_ms).toBeGreaterThan(0);
    expect(a.reason).toMatch(/acknowledged/);
  });

  it('a 200 with the wrong body is a failed attempt, retried 15 s later', async () => {
    const { app, receiver } = await setup(answers.wrongBody);
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    await app.sandbox.callbacks.whenIdle();

    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({
      status: {
        status: 'error',
        error: { error_type: 'ERROR_PAYMENT', error_message: 'KKB rejected payment' },
      },
    });
    const d = await onlyDelivery(app, hash);
    expect(d.state).toBe('retrying');
    const a = d.attempts[0]!;
    expect(a).toMatchObject({
      verdict: 'failed',
      response_status: 200,
      response_body: '{"status":"received"}',
    });
    expect(a.reason).toBe(
      'answered 200 but "status" is "received", not "ok": "{\\"status\\":\\"received\\"}"',
    );
    expect(d.next_attempt_at).toBe(clock.now() + 15_000);
  });

  it('a 500 is a failed attempt', async () => {
    const { app, receiver } = await setup(answers.serverError);
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    await app.sandbox.callbacks.whenIdle();

    const d = await onlyDelivery(app, hash);
    expect(receiver.received).toHaveLength(1);
    expect(d.state).toBe('retrying');
    expect(d.attempts[0]).toMatchObject({ verdict: 'failed', response_status: 500, response_body: 'boom' });
    expect(d.attempts[0]!.reason).toBe('answered HTTP 500; only a 2xx answer can acknowledge a callback');
  });

  it('a slow receiver hits the configured timeout', async () => {
    const { app, receiver } = await setup(answers.hang, { CALLBACK_TIMEOUT_MS: '300' });
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    const started = performance.now();
    await app.sandbox.callbacks.whenIdle();
    const waited = performance.now() - started;

    const d = await onlyDelivery(app, hash);
    expect(receiver.received).toHaveLength(1); // it did arrive; the answer never came
    expect(d.state).toBe('retrying');
    const a = d.attempts[0]!;
    expect(a).toMatchObject({ verdict: 'failed', sent: true, response_status: null });
    expect(a.reason).toBe(`no complete answer from 127.0.0.1:${receiver.port} within 300 ms (timeout)`);
    expect(a.latency_ms).toBeGreaterThanOrEqual(295);
    expect(waited).toBeGreaterThanOrEqual(295);
    expect(waited).toBeLessThan(5_000);
  });

  it('a refused connection is a failed attempt', async () => {
    const port = await freePort();
    clock = createManualClock();
    app = await buildTestApp({ clearing_delay_ms: 'manual' }, { clock });
    const hash = await createPayment(app, { callback_post_url: `http://127.0.0.1:${port}/cb` });
    await failPayment(app, hash);
    await app.sandbox.callbacks.whenIdle();

    const d = await onlyDelivery(app, hash);
    expect(d.state).toBe('retrying');
    expect(d.attempts[0]).toMatchObject({ verdict: 'failed', sent: true, response_status: null });
    expect(d.attempts[0]!.reason).toBe(`connection refused by 127.0.0.1:${port}: nothing is listening there`);
  });

  it('a reset connection is a failed attempt', async () => {
    const { app, receiver } = await setup(answers.reset);
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    await app.sandbox.callbacks.whenIdle();

    const d = await onlyDelivery(app, hash);
    expect(receiver.received).toHaveLength(1);
    expect(d.state).toBe('retrying');
    expect(d.attempts[0]).toMatchObject({ verdict: 'failed', response_status: null });
    expect(d.attempts[0]!.reason).toMatch(
      new RegExp(
        `^connection reset by 127\\.0\\.0\\.1:${receiver.port} before a complete answer \\((ECONNRESET|UND_ERR_SOCKET|EPIPE)\\)$`,
      ),
    );
  });

  it('an answer that is not application/json, or has extra fields, does not acknowledge', async () => {
    const variants: Answer[] = [
      (_q, r) => void r.writeHead(200, { 'content-type': 'text/plain' }).end('{"status":"ok"}'),
      (_q, r) => void r.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","id":7}'),
      (_q, r) => void r.writeHead(204).end(),
      (_q, r) => void r.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end(),
    ];
    const reasons: string[] = [];
    for (const v of variants) {
      const s = await setup(v);
      const hash = await createPayment(s.app, { callback_post_url: s.receiver.url });
      await failPayment(s.app, hash);
      await s.app.sandbox.callbacks.whenIdle();
      expect(s.receiver.received).toHaveLength(1);
      const d = await onlyDelivery(s.app, hash);
      expect(d.state).toBe('retrying');
      reasons.push(d.attempts[0]!.reason);
      await s.app.close();
      await s.receiver.close();
      app = undefined;
      receiver = undefined;
    }
    expect(reasons).toEqual([
      'answered 200 with Content-Type text/plain; the ack must be application/json {"status":"ok"}',
      'answered 200 with extra fields (id); the ack must be exactly {"status":"ok"}',
      'answered 204 with Content-Type (none); the ack must be application/json {"status":"ok"}',
      'answered 302 (a redirect); redirects are not followed, the callback URL must answer itself',
    ]);
  });

  it('a JSON ack with a charset and whitespace still acknowledges', async () => {
    const { app, receiver } = await setup(
      (_q, r) =>
        void r
          .writeHead(201, { 'content-type': 'application/json; charset=utf-8' })
          .end(' { "status" : "ok" }\n'),
    );
    const hash = await createPayment(app, { callback_post_url: receiver.url });
    await failPayment(app, hash);
    await app.sandbox.callbacks.whenIdle();
    expect((await onlyDelivery(app, hash)).state).toBe('acknowledged');
  });
});
