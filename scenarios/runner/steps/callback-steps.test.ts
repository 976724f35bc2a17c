import { describe, expect, it } from 'vitest';
import type { RunContext, ScenarioState } from '../context.js';
import { CheckFailure } from '../outcome.js';
import type { DeliveryView } from '../sandbox-client.js';
import { classifyAttempt, expectCallbackStep } from './callback-steps.js';

const attempt = (over: Partial<DeliveryView['attempts'][number]>): DeliveryView['attempts'][number] => ({
  attempt: 1,
  trigger: 'schedule',
  sent: true,
  response_status: 200,
  response_headers: {},
  response_body: '{"status":"ok"}',
  latency_ms: 4,
  verdict: 'acknowledged',
  reason: 'acknowledged: 200 application/json {"status":"ok"}',
  ...over,
});
const delivery = (attempts: DeliveryView['attempts'], state: DeliveryView['state']): DeliveryView => ({
  id: 'dlv_1',
  transaction_hash: 'a'.repeat(40),
  url: 'http://shop.test/cb',
  body: '{}',
  status: 'completed',
  state,
  created_at: 1,
  next_attempt_at: null,
  note: null,
  attempts,
});

/** A run whose sandbox shows these deliveries (nothing else is called). */
function fakeRun(deliveries: DeliveryView[]): RunContext {
  return {
    config: { timeouts: { callback_ms: 200, trigger_ms: 1000, create_ms: 1000 } },
    sandbox: {
      deliveries: async () => deliveries,
      transaction: async () => ({ status: 'completed' }),
      redeliver: async () => deliveries[0],
    },
  } as unknown as RunContext;
}
const state = () => ({ hash: 'a'.repeat(40), notes: [] }) as unknown as ScenarioState;

async function failureOf(
  deliveries: DeliveryView[],
  step: Parameters<typeof expectCallbackStep.run>[0] = { type: 'expect_callback', status: 'completed' },
) {
  try {
    await expectCallbackStep.run(step, state(), fakeRun(deliveries));
  } catch (err) {
    if (err instanceof CheckFailure) return err.report;
    throw err;
  }
  return undefined;
}

describe('expect_callback verdicts', () => {
  it('passes an acknowledged first attempt', async () => {
    expect(await failureOf([delivery([attempt({})], 'acknowledged')])).toBeUndefined();
  });

  it('names the defect of a failed first attempt, with the delivery and attempt as evidence', async () => {
    const f = await failureOf([
      delivery(
        [
          attempt({
            verdict: 'failed',
            response_body: 'OK',
            reason:
              'answered 200 with Content-Type text/plain; the ack must be application/json {"status":"ok"}',
          }),
        ],
        'retrying',
      ),
    ]);
    expect(f).toMatchObject({ check: 'ack_body', evidence: { delivery: 'dlv_1', attempt: 1 } });
  });

  it('a delivery the sandbox refused to send (blocked destination) is a failure, not a pass', async () => {
    const f = await failureOf([
      delivery(
        [
          attempt({
            sent: false,
            response_status: null,
            response_body: null,
            verdict: 'failed',
            reason: 'blocked: shop.test is not in the merchant domains; nothing was sent',
          }),
        ],
        'failed',
      ),
    ]);
    expect(f?.check).toBe('callback_unreachable');
    expect(f?.message).toMatch(/never reached the shop/);
    expect(f?.actual).toMatch(/blocked: shop\.test is not in the merchant domains/);
  });

  it("fail_first: the sabotaged attempts must be the sandbox's (sent: false), then the retry is judged", async () => {
    const sabotaged = attempt({
      sent: false,
      response_status: null,
      verdict: 'failed',
      reason: 'failed on purpose by scenario',
    });
    expect(
      await failureOf([delivery([sabotaged, attempt({ attempt: 2 })], 'acknowledged')], {
        type: 'expect_callback',
        status: 'completed',
        sandbox_failed_attempts: 1,
      }),
    ).toBeUndefined();
    const f = await failureOf([delivery([attempt({})], 'acknowledged')], {
      type: 'expect_callback',
      status: 'completed',
      sandbox_failed_attempts: 1,
    });
    expect(f).toMatchObject({
      check: 'sandbox',
      message: expect.stringMatching(/did not fail the first 1 attempt/),
    });
  });

  it('no delivery at all within the time is callback_missing', async () => {
    expect((await failureOf([]))?.check).toBe('callback_missing');
  });

  it('classifies attempts by what the receiver did', () => {
    expect(
      classifyAttempt({ response_status: 204, reason: 'answered 204 but the body is not JSON' }).check,
    ).toBe('ack_body');
    expect(
      classifyAttempt({ response_status: null, reason: 'no complete answer from x within 3000 ms (timeout)' })
        .check,
    ).toBe('callback_timeout');
    expect(classifyAttempt({ response_status: 503, reason: 'answered HTTP 503' }).check).toBe(
      'callback_status',
    );
    expect(
      classifyAttempt({ response_status: null, reason: 'connection refused by 127.0.0.1:9' }).check,
    ).toBe('callback_unreachable');
  });
});
