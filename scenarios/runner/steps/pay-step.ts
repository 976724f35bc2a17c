import { payInWidget } from '../browser/widget-shopper.js';
import type { RunContext, ScenarioState } from '../context.js';
import { CheckFailure, clip } from '../outcome.js';
import { isSandboxPage, ShopperError, walkShopper, type CardInput, type ShopperResult } from '../shopper.js';
import { needPayment } from './need-payment.js';
import type { StepImpl, StepOf } from './step.js';

const APPROVED = new Set(['authorized', 'success', 'completed']);
const DECLINED = new Set(['error', 'denied']);

const digits = (pan: string) => pan.replace(/\D/g, '');

function cardOf(step: StepOf<'pay'>, state: ScenarioState): CardInput {
  const pan = digits(step.card.pan);
  const amex = /^3[47]/.test(pan);
  return {
    pan,
    exp_month: step.card.exp_month ?? '12',
    exp_year: step.card.exp_year ?? String(new Date().getFullYear() + 3),
    cvc: step.card.cvc ?? (amex ? '1234' : '123'),
    cardholder:
      step.card.cardholder ??
      state.faker.person
        .fullName()
        .toUpperCase()
        .replace(/[^A-Z ]/g, '') ??
      'IVAN IVANOV',
  };
}

/** The URL the shop asked for this outcome: the order's own, else the merchant's [doc precedence]. */
function expectedLanding(
  kind: 'success' | 'failed' | 'back',
  state: ScenarioState,
  run: RunContext,
): string | undefined {
  const order = (state.create?.decrypted as { order?: Record<string, unknown> } | null)?.order ?? {};
  const own = order[`callback_${kind}_url`];
  if (typeof own === 'string') return own;
  return run.merchant[`callback_${kind}_url`];
}

const sameUrl = (a: string, b: string) => {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname.replace(/\/+$/, '') === y.pathname.replace(/\/+$/, '');
  } catch {
    return a === b;
  }
};

export const payStep: StepImpl<'pay'> = {
  explain: (step, run) =>
    `pay as a shopper ${run.config.trigger?.browser ? "in Chromium, inside the shop page's widget iframe" : 'over plain HTTP'} (widget → bank → ${step.otp ? `3-D Secure ${step.otp === 'cancel' ? 'Cancel' : `OTP ${step.otp}`} → ` : ''}receipt) with card ${digits(step.card.pan).slice(0, 4)}…${digits(step.card.pan).slice(-4)}${step.card.cardholder ? ` (${step.card.cardholder})` : ''}: expect ${step.expect}${step.lands_on ? `, landing on the shop's ${step.lands_on} page with a 2xx` : ''}`,
  async run(step, state, run) {
    const hash = needPayment(state, run, 'pay');
    let walk: ShopperResult & { stuck?: string };
    try {
      walk = state.browser
        ? await payInWidget(state.browser, cardOf(step, state), {
            otp: step.otp,
            timeoutMs: run.config.timeouts.trigger_ms,
            isSandbox: isSandboxPage(run.sandbox.url),
          })
        : await walkShopper({
            sandboxUrl: run.sandbox.url,
            hash,
            card: cardOf(step, state),
            ...(step.otp ? { otp: step.otp } : {}),
          });
    } catch (err) {
      if (!(err instanceof ShopperError)) throw err;
      throw new CheckFailure({
        check: 'payment_outcome',
        message: `the shopper could not finish the payment: ${err.message}`,
        expected: 'widget → bank → receipt',
        actual: err.message,
        evidence: { path: err.hops },
        hint: 'open the widget URL in a browser to see the page; a payment must be pending to be paid',
      });
    }
    const tx = await run.sandbox.transaction(hash);
    state.notes.push(
      `shopper: ${walk.hops.length} hops${walk.challenged ? ', 3-D Secure shown' : step.otp ? ', no 3-D Secure was asked for (the OTP was not used)' : ''}; transaction ${tx.status}`,
    );
    const ok = step.expect === 'approved' ? APPROVED.has(tx.status) : DECLINED.has(tx.status);
    if (!ok) {
      throw new CheckFailure({
        check: 'payment_outcome',
        message: `the payment ended ${tx.status}, not ${step.expect}`,
        expected: step.expect === 'approved' ? 'authorized, success or completed' : 'error or denied',
        actual: tx.status,
        evidence: { path: walk.hops },
        hint: 'this is the sandbox side: check the card and the scenario active for the merchant (GET /__admin/scenarios)',
      });
    }
    if (walk.stuck) {
      throw new CheckFailure({
        check: 'landing',
        message: "the shop's page did not follow the widget to the shop's result page",
        expected: `the page navigates to the URL the widget posts (location.href = e.data for a string containing "http")${step.lands_on ? `: the shop's ${step.lands_on} page` : ''}`,
        actual: walk.stuck,
        evidence: { path: walk.hops },
        hint: 'in your message listener, navigate to any string message that contains "http" (the widget posts the success, failed or back URL there)',
      });
    }
    if (walk.sandbox_result_page) {
      state.notes.push(
        `the shopper ends on the sandbox's own result page (${walk.sandbox_result_page}): the shop set no ${step.lands_on ?? 'result'} URL`,
      );
      if (step.lands_on && state.trigger?.kind !== 'runner') {
        throw new CheckFailure({
          check: 'landing',
          message: `the shopper does not come back to the shop's ${step.lands_on} page`,
          expected: `callback_${step.lands_on}_url in the order or the merchant settings`,
          actual: `the shopper ends on ${walk.sandbox_result_page}`,
          evidence: { path: walk.hops, ...(state.create ? { journal_entry: state.create.id } : {}) },
          hint: `send callback_${step.lands_on}_url with the order so the shopper returns to your shop`,
        });
      }
      return;
    }
    const landing = walk.landing!;
    state.vars.landing = { url: landing.url, status: landing.status };
    state.notes.push(`landed on ${landing.url} → ${landing.status}`);
    if (step.lands_on) {
      const want = expectedLanding(step.lands_on, state, run);
      if (want && !sameUrl(want, landing.url)) {
        throw new CheckFailure({
          check: 'landing',
          message: `the shopper landed on ${landing.url}, not the shop's ${step.lands_on} URL`,
          expected: want,
          actual: landing.url,
          evidence: { path: walk.hops },
          hint: 'check callback_success_url / callback_failed_url / callback_back_url in the order',
        });
      }
    }
    if (landing.status < 200 || landing.status >= 300) {
      throw new CheckFailure({
        check: 'landing',
        message: `the shop's ${step.lands_on ?? 'return'} page answered ${landing.status}`,
        expected: '2xx when the shopper comes back from the payment',
        actual: `${landing.status}${landing.redirects.length ? ` after ${landing.redirects.join(' → ')}` : ''}: ${clip(landing.body, 200)}`,
        evidence: { path: walk.hops, response: clip(landing.body, 300) },
        hint: 'the return page must render for any order state (the callback may not have arrived yet); never fail it on a missing payment',
      });
    }
  },
};

export const clearStep: StepImpl<'clear'> = {
  explain: () => 'clear the payment in the sandbox (success → completed), which sends the final callback',
  async run(_step, state, run) {
    const hash = needPayment(state, run, 'clear');
    const tx = await run.sandbox.transaction(hash);
    if (tx.status === 'success') {
      const after = await run.sandbox.clear(hash);
      state.notes.push(`cleared: ${tx.status} → ${after.status}`);
    } else {
      state.notes.push(`nothing to clear: the payment is ${tx.status}`);
    }
  },
};
