import type { JournalEntry } from '../../../mock-server/journal/journal-entry.js';
import type { HttpAction } from '../check-config.js';
import { pathOf, scopeOf, waitFor, type RunContext, type ScenarioState } from '../context.js';
import { judgeHandled } from '../handled-failure.js';
import { mismatches, type Expectation } from '../json-path.js';
import { CheckFailure, clip, StepNotApplicable, type CheckId } from '../outcome.js';
import { renderString, renderValue } from '../template.js';
import { needPayment } from './need-payment.js';
import type { StepImpl } from './step.js';

function statusMatches(want: number | string, got: number): boolean {
  if (typeof want === 'number') return got === want;
  const below = /^<(\d)00$/.exec(want);
  if (below) return got < Number(below[1]) * 100;
  return Math.floor(got / 100) === Number(want[0]);
}

const CRASH_HINT =
  'catch the gateway error (its code and message are in the answer), keep the order retryable, and answer the shopper with a clear message (a 502/503/504 with a body is fine) instead of crashing';

function describeWant(status: number | string, accepted: readonly number[]): string {
  if (typeof status === 'number') return `HTTP ${status}`;
  if (status === 'handled')
    return `an answer below 500, or ${accepted.join('/')} with a body that leaks no stack trace`;
  return status.startsWith('<') ? `an HTTP status below ${status.slice(1)}` : `an HTTP ${status} status`;
}

export const expectTriggerResponseStep: StepImpl<'expect_trigger_response'> = {
  explain: (step, run) =>
    `the shop answers the trigger with ${
      step.status === 'handled'
        ? `a handled failure, not a crash (below 500, or ${run.config.gatewayErrorStatuses.join('/')} with a body; never a 500, a dropped connection, an empty 5xx or a stack trace)`
        : typeof step.status === 'number'
          ? step.status
          : step.status === '<500'
            ? 'no 5xx (a gateway failure is not a crash of the shop)'
            : step.status
    }${step.within_ms ? ` within ${step.within_ms / 1000} s` : ''}`,
  async run(step, state, run) {
    const t = state.trigger;
    if (!t || t.kind === 'runner')
      throw new StepNotApplicable('no trigger configured: the shop was not asked anything');
    const gateway = state.create
      ? ` The gateway answered its create-payment with ${state.create.response.status}${state.create.verdict.error_code ? ` ${state.create.verdict.error_code}` : ''} (journal entry ${state.create.id}).`
      : '';
    const evidence = {
      request: t.request,
      ...(t.text ? { response: clip(t.text, 300) } : {}),
      ...(state.create ? { journal_entry: state.create.id } : {}),
    };
    if (t.timed_out || (step.within_ms !== undefined && t.duration_ms > step.within_ms)) {
      throw new CheckFailure({
        check: 'trigger_timeout',
        message: `the shop took ${t.timed_out ? `over ${run.config.timeouts.trigger_ms / 1000} s` : `${t.duration_ms} ms`} to answer`,
        expected: `an answer within ${(step.within_ms ?? run.config.timeouts.trigger_ms) / 1000} s`,
        actual: t.timed_out ? 'no answer' : `${t.status ?? t.exit_code} after ${t.duration_ms} ms`,
        evidence,
        hint: 'give the HTTP client that calls the gateway a timeout (a few seconds), then answer the shopper with a retryable error',
      });
    }
    if (t.kind === 'command') {
      if (t.exit_code !== 0) {
        throw new CheckFailure({
          check: 'trigger_response',
          message: `the trigger command exited ${t.exit_code}`,
          expected: 'exit 0',
          actual: clip(t.text ?? '', 300),
          evidence,
          hint: 'run the command by hand to see why',
        });
      }
      return;
    }
    const accepted = run.config.gatewayErrorStatuses;
    if (step.status === 'handled' || t.dropped !== undefined) {
      const v = judgeHandled({ status: t.status, text: t.text, dropped: t.dropped }, accepted);
      if (!v.ok) {
        throw new CheckFailure({
          check: v.check,
          message: `${v.why}.${gateway}`,
          expected: step.status === 'handled' ? v.expected : describeWant(step.status, accepted),
          actual:
            t.dropped !== undefined
              ? `connection dropped: ${t.dropped}`
              : `${t.status} ${clip(t.text ?? '', 200)}`,
          evidence,
          hint: CRASH_HINT,
        });
      }
      if (step.status === 'handled') {
        state.notes.push(`the shop ${v.note} in ${t.duration_ms} ms`);
        return;
      }
    }
    const got = t.status!;
    if (!statusMatches(step.status, got)) {
      const check: CheckId = got >= 500 ? 'merchant_5xx' : 'trigger_response';
      throw new CheckFailure({
        check,
        message: `the shop answered ${got}${got >= 500 ? ' (5xx)' : ''} to the trigger.${gateway}`,
        expected: describeWant(step.status, accepted),
        actual: `${got} ${clip(t.text ?? '', 200)}`,
        evidence,
        hint: got >= 500 ? CRASH_HINT : 'see the shop log for why it answered this way',
      });
    }
    state.notes.push(`the shop answered ${got} in ${t.duration_ms} ms`);
  },
};

/** Sends one of the trigger's order actions (cancel/refund/status) to the shop and finds the gateway call it made. */
async function orderAction(
  kind: 'cancel' | 'refund' | 'status',
  state: ScenarioState,
  run: RunContext,
  extraVars: Record<string, unknown> = {},
): Promise<{ entry: JournalEntry; answer: string }> {
  const action: HttpAction | undefined = run.config.trigger?.[kind];
  if (!action) throw new StepNotApplicable(`the check config has no trigger.${kind}`);
  const hash = needPayment(state, run, kind);
  const scope = { ...scopeOf(state), vars: { ...state.vars, ...extraVars } };
  const method = action.method ?? 'POST';
  const url = renderString(action.url, scope);
  const body =
    action.body !== undefined && method !== 'GET'
      ? JSON.stringify(renderValue(action.body, scope))
      : undefined;
  const headers: Record<string, string> = { ...(body ? { 'content-type': 'application/json' } : {}) };
  for (const [k, v] of Object.entries(action.headers ?? {})) headers[k] = renderString(v, scope);
  const mark = await run.sandbox.journalMark();
  const request = `${method} ${url}`;
  const check: CheckId = kind === 'status' ? 'status_call' : kind;
  let status: number;
  let text: string;
  try {
    const res = await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(run.config.timeouts.trigger_ms),
      ...(body ? { body } : {}),
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    throw new CheckFailure({
      check,
      message: `the shop's ${kind} endpoint could not be reached`,
      expected: `an answer to ${request}`,
      actual: (err as Error).message,
      evidence: { request },
      hint: `check trigger.${kind}.url`,
    });
  }
  const gatewayPath =
    kind === 'status'
      ? `/api/v1/merchant-widget/payment/${hash}`
      : `/api/v1/merchant-widget/payment/${hash}/${kind}`;
  const entry = await waitFor(run.config.timeouts.create_ms, async () =>
    (await run.sandbox.journal({ transaction_hash: hash, limit: 100 })).find(
      (e) => e.id > mark && pathOf(e) === gatewayPath && e.method === (kind === 'status' ? 'GET' : 'POST'),
    ),
  );
  if (!entry) {
    throw new CheckFailure({
      check,
      message: `the shop's ${kind} endpoint did not call the gateway`,
      expected: `${kind === 'status' ? 'GET' : 'POST'} ${gatewayPath} at the sandbox`,
      actual: `${request} → ${status} ${clip(text, 200)}; no such call in the journal`,
      evidence: { request, response: clip(text, 300) },
      hint: `the ${kind} must go to the gateway API (${run.sandbox.url}/api/v1/merchant-widget) with Auth-Identifier`,
    });
  }
  if (!entry.headers['auth-identifier']) {
    throw new CheckFailure({
      check: 'auth_identifier',
      message: `the ${kind} call to the gateway has no Auth-Identifier header`,
      expected: `Auth-Identifier: ${run.merchant.app_id}`,
      actual: `${entry.method} ${entry.path} → ${entry.response.status} ${entry.verdict.error_code ?? ''}`,
      evidence: { journal_entry: entry.id },
      hint: 'send Auth-Identifier: <app_id> with status, cancel and refund too',
    });
  }
  if (entry.response.status >= 400) {
    throw new CheckFailure({
      check,
      message: `the gateway refused the shop's ${kind} (${entry.verdict.error_code ?? entry.response.status})`,
      expected: `${kind} accepted`,
      actual: entry.verdict.explanation ?? JSON.stringify(entry.response.body).slice(0, 300),
      evidence: { journal_entry: entry.id },
      hint:
        kind === 'status'
          ? 'GET /payment/{transaction_hash} with Auth-Identifier, no body'
          : `seal the ${kind} body like the create-payment (or send none)`,
    });
  }
  if (status >= 400) {
    throw new CheckFailure({
      check,
      message: `the shop answered ${status} to its ${kind} endpoint although the gateway accepted the call`,
      expected: '2xx',
      actual: `${status} ${clip(text, 200)}`,
      evidence: { request, journal_entry: entry.id },
      hint: `read the ${kind} answer in both envelope dialects (payload / response.data)`,
    });
  }
  return { entry, answer: `${status}` };
}

export const cancelStep: StepImpl<'cancel'> = {
  explain: (_s, run) =>
    `ask the shop to cancel the payment (${run.config.trigger?.cancel?.url ?? 'trigger.cancel'}); it must call the gateway's cancel`,
  async run(_step, state, run) {
    const { entry, answer } = await orderAction('cancel', state, run);
    state.notes.push(
      `shop answered ${answer}; gateway cancel: journal entry ${entry.id} → ${entry.response.status}`,
    );
  },
};

export const refundStep: StepImpl<'refund'> = {
  explain: (step, run) =>
    `ask the shop to refund ${step.amount ?? 'the payment'} (${run.config.trigger?.refund?.url ?? 'trigger.refund'}); it must call the gateway's refund`,
  async run(step, state, run) {
    const { entry, answer } = await orderAction('refund', state, run, {
      refund_amount: step.amount ?? state.vars.amount,
    });
    state.notes.push(
      `shop answered ${answer}; gateway refund: journal entry ${entry.id} → ${entry.response.status}`,
    );
  },
};

export const statusStep: StepImpl<'status'> = {
  explain: (_s, run) =>
    `ask the shop to re-check the payment (${run.config.trigger?.status?.url ?? 'trigger.status'}); it must call the gateway's status endpoint`,
  async run(_step, state, run) {
    const { entry, answer } = await orderAction('status', state, run);
    state.notes.push(
      `shop answered ${answer}; gateway status: journal entry ${entry.id} → ${entry.response.status}`,
    );
  },
};

/** Reads the shop's order view. */
async function readOrder(
  state: ScenarioState,
  run: RunContext,
): Promise<{ request: string; status: number; text: string; json: unknown }> {
  const v = run.config.verify!;
  const url = renderString(v.url, scopeOf(state));
  const headers: Record<string, string> = {};
  for (const [k, val] of Object.entries(v.headers ?? {})) headers[k] = renderString(val, scopeOf(state));
  const request = `GET ${url}`;
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(run.config.timeouts.trigger_ms) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { request, status: res.status, text, json };
  } catch (err) {
    throw new CheckFailure({
      check: 'verify',
      message: 'the verify URL could not be reached',
      expected: `an answer to ${request}`,
      actual: (err as Error).message,
      evidence: { request },
      hint: 'check verify.url',
    });
  }
}

export const verifyStep: StepImpl<'verify'> = {
  explain: (step, run) => {
    const exp = run.config.verify?.expect?.[step.outcome];
    const what = exp
      ? Object.entries(exp)
          .map(
            ([p, e]) =>
              `${p} ${typeof e === 'object' && e !== null ? JSON.stringify(e) : `== ${JSON.stringify(e)}`}`,
          )
          .join(', ')
      : 'verify.expect not configured';
    return `${step.before_callback ? 'before any callback, ' : ''}the shop shows the order as ${step.outcome} (${what})`;
  },
  async run(step, state, run) {
    const expect = run.config.verify?.expect?.[step.outcome] as Record<string, Expectation> | undefined;
    if (!run.config.verify || !expect)
      throw new StepNotApplicable(`the check config has no verify.expect.${step.outcome}`);
    if (step.before_callback && state.hash) {
      const sent = (await run.sandbox.deliveries(state.hash)).filter((d) => d.attempts.length > 0);
      if (sent.length > 0) {
        throw new CheckFailure({
          check: 'sandbox',
          message:
            'inconclusive: the sandbox had already sent the callback, so "paid before the callback" cannot be told apart',
          expected: 'no callback yet (the payment is success, not cleared)',
          actual: `delivery ${sent[0]!.id} already made ${sent[0]!.attempts.length} attempt(s)`,
          evidence: { delivery: sent[0]!.id },
          hint: 'run the sandbox with CLEARING_DELAY_MS=manual (the runner clears each payment itself) or a clearing delay of several seconds',
        });
      }
    }
    const read = await readOrder(state, run);
    if (read.json === undefined) {
      throw new CheckFailure({
        check: step.check ?? 'verify',
        message: `the verify URL answered ${read.status} without JSON`,
        expected: 'a JSON order view',
        actual: `${read.status} ${clip(read.text, 200)}`,
        evidence: { request: read.request },
        hint: 'verify.url must return the order as JSON',
      });
    }
    const misses = mismatches(read.json, expect);
    if (misses.length === 0) {
      state.notes.push(`${read.request} → ${read.status}: ${step.outcome}`);
      return;
    }
    const paidExpect = run.config.verify.expect.paid as Record<string, Expectation> | undefined;
    const lookedPaid =
      step.before_callback && paidExpect !== undefined && mismatches(read.json, paidExpect).length === 0;
    if (lookedPaid && state.hash) {
      const statusCall = (await run.sandbox.journal({ transaction_hash: state.hash, limit: 100 })).find(
        (e) =>
          e.id > state.mark &&
          e.method === 'GET' &&
          pathOf(e) === `/api/v1/merchant-widget/payment/${state.hash}` &&
          e.response.status === 200,
      );
      if (statusCall) {
        state.notes.push(
          `the shop shows paid before the callback, after asking the status endpoint itself (journal entry ${statusCall.id})`,
        );
        return;
      }
    }
    const check: CheckId = lookedPaid ? 'paid_before_callback' : (step.check ?? 'verify');
    throw new CheckFailure({
      check,
      message: lookedPaid
        ? 'the shop marked the order paid when the shopper came back, before any callback'
        : step.check === 'double_effect'
          ? `a repeated callback or status check had an effect again (the order is not just ${step.outcome})`
          : step.check === 'stale_callback'
            ? `the stale callback changed the order (it is not just ${step.outcome} any more)`
            : `the shop does not show the order as ${step.outcome}`,
      expected: misses.map((m) => `${m.path} ${m.expected}`).join(', '),
      actual: misses.map((m) => `${m.path} = ${m.actual}`).join(', '),
      evidence: { request: read.request, response: clip(read.text, 300) },
      hint:
        step.hint ??
        (lookedPaid
          ? 'the return URL proves nothing (a shopper can open it by hand): mark the order paid only on the callback (or after GET /payment/{hash} says so)'
          : 'compare with the callback log (GET /__admin/callbacks?transaction_hash=…)'),
    });
  },
};
