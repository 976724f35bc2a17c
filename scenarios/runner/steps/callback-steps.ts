import { request } from 'undici';
import { judgeAnswer } from '../../../mock-server/callbacks/ack-rule.js';
import { sleep, waitFor, type ScenarioState } from '../context.js';
import { CheckFailure, clip, StepNotApplicable, type CheckId, type FailureReport } from '../outcome.js';
import type { DeliveryView } from '../sandbox-client.js';
import { needPayment } from './need-payment.js';
import type { StepImpl } from './step.js';

type Attempt = DeliveryView['attempts'][number];

/** What kind of miss a failed attempt is, and how to fix it. */
export function classifyAttempt(a: Pick<Attempt, 'response_status' | 'reason'>): {
  check: CheckId;
  hint: string;
} {
  const s = a.response_status;
  if (s !== null && s >= 200 && s < 300) {
    return {
      check: 'ack_body',
      hint: 'answer every callback with HTTP 200, Content-Type: application/json and exactly {"status":"ok"}',
    };
  }
  if (/timeout/i.test(a.reason)) {
    return {
      check: 'callback_timeout',
      hint: 'acknowledge first and do slow work (mail, ERP, shipping) after answering, or in a queue: the gateway gives up after its timeout and sends the callback again',
    };
  }
  if (s !== null) {
    return {
      check: 'callback_status',
      hint: 'the callback handler must answer 2xx for every well-formed callback it accepted, including ones it has seen before; look at the shop log for the error',
    };
  }
  return {
    check: 'callback_unreachable',
    hint: 'check the callback_post_url (order or merchant) and that the shop listens there, reachable from the sandbox',
  };
}

function attemptFailure(d: DeliveryView, a: Attempt, message: string): FailureReport {
  const { check, hint } = classifyAttempt(a);
  return {
    check,
    message,
    expected: '2xx, Content-Type: application/json, body {"status":"ok"}',
    actual: `${a.response_status === null ? 'no answer' : `HTTP ${a.response_status}`}${a.response_body ? ` ${clip(a.response_body, 120)}` : ''} — ${a.reason} (${Math.round(a.latency_ms)} ms)`,
    evidence: { delivery: d.id, attempt: a.attempt },
    hint,
  };
}

const settled = (d: DeliveryView, skip: number) =>
  d.state === 'failed' || d.state === 'acknowledged' || d.attempts.some((a) => a.sent && a.attempt > skip);

export const expectCallbackStep: StepImpl<'expect_callback'> = {
  explain: (step, run) =>
    `${step.stale ? 'after the final callback, the stale' : 'the'} "${step.status}" callback${step.count && step.count > 1 ? ` (${step.count} deliveries)` : ''} is acknowledged with {"status":"ok"}${step.sandbox_failed_attempts ? ` on the retry after ${step.sandbox_failed_attempts} attempt(s) the sandbox fails on purpose` : ' on the first attempt'}, within ${(step.within_ms ?? run.config.timeouts.callback_ms) / 1000} s`,
  async run(step, state, run) {
    const hash = needPayment(state, run, 'call back about');
    const skip = step.sandbox_failed_attempts ?? 0;
    const want = step.count ?? 1;
    const within = step.within_ms ?? run.config.timeouts.callback_ms;
    const hurried = new Set<string>();
    const started = Date.now();
    let seen: DeliveryView[] = [];
    const ready = await waitFor(
      within,
      async () => {
        seen = (await run.sandbox.deliveries(hash))
          .filter((d) => d.status === step.status)
          .sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
        // A retry far in the future (an external sandbox at full time scale): run it now.
        for (const d of seen) {
          if (
            d.state === 'retrying' &&
            !settled(d, skip) &&
            !hurried.has(d.id) &&
            Date.now() - started > 1000
          ) {
            hurried.add(d.id);
            await run.sandbox.redeliver(d.id);
          }
        }
        const done = seen.filter((d) => settled(d, skip));
        // Each settled delivery with a failed first real attempt is already a verdict.
        const failedEarly = done.find(
          (d) => d.attempts.find((a) => a.sent && a.attempt > skip)?.verdict === 'failed',
        );
        if (failedEarly) return seen;
        return done.length >= want ? seen : undefined;
      },
      20,
    );
    if (!ready) {
      const all = await run.sandbox.deliveries(hash);
      const tx = await run.sandbox.transaction(hash);
      const pending = seen.find((d) => !settled(d, skip));
      if (pending) {
        const last = pending.attempts.at(-1);
        if (last)
          throw new CheckFailure(
            attemptFailure(
              pending,
              last,
              `the "${step.status}" callback was not acknowledged within ${within / 1000} s`,
            ),
          );
      }
      throw new CheckFailure({
        check: seen.length > 0 ? 'sandbox' : 'callback_missing',
        message:
          seen.length > 0
            ? `the sandbox made ${seen.length} "${step.status}" deliver${seen.length === 1 ? 'y' : 'ies'}, not ${want}`
            : `no "${step.status}" callback was sent within ${within / 1000} s`,
        expected: `${want} callback deliver${want === 1 ? 'y' : 'ies'} with status ${step.status}`,
        actual: `transaction ${tx.status}; deliveries: ${all.map((d) => `${d.id} ${d.status} ${d.state}`).join(', ') || 'none'}${all[0]?.note ? ` (${all[0].note})` : ''}`,
        evidence: { request: `GET /__admin/transactions/${hash}/callbacks` },
        hint:
          seen.length > 0
            ? 'this sandbox build does not apply the callback effect of the active scenario; use a sandbox of the same version as the runner'
            : state.trigger?.kind === 'runner'
              ? "the runner made this order: set callback_url in the check config (or the merchant's callback_post_url)"
              : 'send callback_post_url with the order (or set it on the merchant); the sandbox notes say why no callback was queued',
      });
    }
    for (const d of ready) {
      if (skip > 0) {
        const sabotaged = d.attempts.slice(0, skip);
        if (sabotaged.length < skip || sabotaged.some((a) => a.sent)) {
          throw new CheckFailure({
            check: 'sandbox',
            message: `the sandbox did not fail the first ${skip} attempt(s) on purpose`,
            expected: `attempts 1…${skip} failed by the scenario (sent: false)`,
            actual: d.attempts.map((a) => `#${a.attempt} sent=${a.sent} ${a.verdict}`).join(', '),
            evidence: { delivery: d.id },
            hint: 'this sandbox build does not apply fail_first; use a sandbox of the same version as the runner',
          });
        }
      }
      const real = d.attempts.find((a) => a.sent && a.attempt > skip);
      if (!real) {
        // Settled without a single real attempt: the sandbox refused the destination (or gave up).
        const last = d.attempts.at(-1);
        throw new CheckFailure(
          last
            ? attemptFailure(d, last, `the "${step.status}" callback never reached the shop`)
            : {
                check: 'callback_unreachable',
                message: `the "${step.status}" callback was not sent`,
                expected: 'a delivery attempt',
                actual: d.note ?? d.state,
                evidence: { delivery: d.id },
                hint: 'check callback_post_url and the merchant domains',
              },
        );
      }
      if (real.verdict !== 'acknowledged') {
        const what =
          skip > 0
            ? `the retry after the sandbox's failed attempt was not acknowledged`
            : step.stale
              ? 'the stale callback was not acknowledged'
              : `the "${step.status}" callback was not acknowledged on the first attempt`;
        const report = attemptFailure(d, real, what);
        throw new CheckFailure(
          skip > 0 && report.check === 'callback_unreachable'
            ? { ...report, check: 'callback_retry' }
            : report,
        );
      }
    }
    if (ready[0]) state.delivery = ready[0];
    state.notes.push(
      ready
        .map(
          (d) =>
            `${d.id}: ${d.attempts.map((a) => `#${a.attempt} ${a.sent ? a.verdict : 'failed by the sandbox'}`).join(', ')}`,
        )
        .join('; '),
    );
  },
};

function needDelivery(state: ScenarioState): DeliveryView {
  if (!state.delivery)
    throw new StepNotApplicable(
      'no acknowledged callback to repeat (an expect_callback step must come first)',
    );
  return state.delivery;
}

export const redeliverStep: StepImpl<'redeliver'> = {
  explain: (step) =>
    `the sandbox sends the same callback again${step.times && step.times > 1 ? ` ${step.times} times` : ''} (admin redeliver): it must be acknowledged again`,
  async run(step, state, run) {
    const d = needDelivery(state);
    for (let i = 0; i < (step.times ?? 1); i++) {
      const after = await run.sandbox.redeliver(d.id);
      const a = after.attempts.at(-1)!;
      state.notes.push(`${d.id} #${a.attempt}: ${a.verdict}`);
      if (a.verdict !== 'acknowledged')
        throw new CheckFailure(attemptFailure(after, a, 'a repeated callback was not acknowledged'));
    }
  },
};

export const duplicateStep: StepImpl<'duplicate'> = {
  explain: (step) =>
    `send the identical callback body ${step.copies ?? 2} times at once (as a gateway retrying in parallel would): each must be acknowledged`,
  async run(step, state, run) {
    const d = needDelivery(state);
    const copies = step.copies ?? 2;
    const send = async (i: number) => {
      const started = Date.now();
      try {
        const res = await request(d.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'ktpay-mock-runner',
            'x-ktpay-delivery-id': d.id,
            'x-ktpay-attempt': `dup-${i + 1}`,
          },
          body: d.body,
          headersTimeout: run.callbackTimeoutMs,
          bodyTimeout: run.callbackTimeoutMs,
        });
        const text = await res.body.text();
        const ct = res.headers['content-type'];
        const verdict = judgeAnswer(res.statusCode, Array.isArray(ct) ? ct[0] : ct, text);
        return {
          i,
          status: res.statusCode,
          text,
          verdict,
          ms: Date.now() - started,
          error: undefined as string | undefined,
        };
      } catch (err) {
        const e = err as Error & { code?: string };
        return {
          i,
          status: null,
          text: '',
          verdict: { acknowledged: false, reason: `${e.code ?? ''} ${e.message}`.trim() },
          ms: Date.now() - started,
          error: e.code ?? e.message,
        };
      }
    };
    const results = await Promise.all(Array.from({ length: copies }, (_v, i) => send(i)));
    if (results.every((r) => r.error && /ENOTFOUND|ECONNREFUSED|EAI_AGAIN/.test(r.error))) {
      // The runner cannot reach the callback URL from where it runs (e.g. a Docker-only host name): let the sandbox send it.
      state.notes.push(
        `the runner cannot reach ${d.url} (${results[0]!.error}); the sandbox redelivered instead`,
      );
      await sleep(0);
      const after = await run.sandbox.redeliver(d.id);
      const a = after.attempts.at(-1)!;
      if (a.verdict !== 'acknowledged')
        throw new CheckFailure(attemptFailure(after, a, 'a duplicate callback was not acknowledged'));
      return;
    }
    for (const r of results) {
      if (!r.verdict.acknowledged) {
        const { check, hint } = classifyAttempt({ response_status: r.status, reason: r.verdict.reason });
        throw new CheckFailure({
          check,
          message: `a duplicate callback (copy ${r.i + 1} of ${copies}, sent by the runner) was not acknowledged`,
          expected: '2xx, Content-Type: application/json, body {"status":"ok"}',
          actual: `${r.status ?? 'no answer'} ${clip(r.text, 120)} — ${r.verdict.reason} (${r.ms} ms)`,
          evidence: { request: `POST ${d.url} with the body of delivery ${d.id}`, delivery: d.id },
          hint,
        });
      }
    }
    state.notes.push(`${copies} copies of ${d.id}'s body, sent at once: all acknowledged`);
  },
};
