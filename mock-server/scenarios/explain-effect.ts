import type { ScenarioEffect, ScenarioStep } from '../../contracts/types.js';
import { catalogEntry } from '../envelope/ktpay-error.js';

/**
 * One sentence per effect, for reports, the journal and GET /__admin/scenarios
 * (DESIGN.md house style 6: every variant can explain itself).
 *
 * @example
 * explainEffect({ type: 'respond_error', code: 5000105 })
 * // 'answer with 5000105 («Непредвиденная ошибка во время создания транзакции мерчанта.»)'
 */
export function explainEffect(effect: ScenarioEffect): string {
  switch (effect.type) {
    case 'respond_error': {
      let text = '';
      try {
        text = ` («${catalogEntry(effect.code).message}»)`;
      } catch {
        text = ' (not in the catalog)';
      }
      return `answer with ${effect.code}${text}`;
    }
    case 'delay':
      return effect.ms !== undefined
        ? `delay the answer by ${effect.ms} ms`
        : `delay the answer by a random ${effect.min_ms ?? 0}–${effect.max_ms ?? effect.min_ms ?? 0} ms`;
    case 'http_fault':
      return {
        connection_reset: 'reset the TCP connection without answering',
        empty_reply: 'close the connection without sending a byte',
        malformed_json: 'answer 200 with a truncated, unparsable JSON body',
        html_502: 'answer 502 with an HTML error page, as a proxy in front of the gateway would',
        unavailable_503: 'answer 503 Service Unavailable with a Retry-After header',
      }[effect.fault];
    case 'acquirer_outcome':
      if (effect.shopper === 'timeout')
        return 'the shopper never finishes the bank page: the payment stays pending';
      if (effect.shopper === 'abandon') return 'the shopper abandons 3-D Secure: the bank answers 191';
      if (effect.code) return `the bank answers acquirer code ${effect.code}`;
      return effect.three_ds === 'challenge'
        ? 'the bank asks for a 3-D Secure challenge (OTP 1111 passes)'
        : 'the bank approves without a 3-D Secure challenge';
    case 'service_outcome':
      return effect.result === 'refuse'
        ? 'the service gateway refuses to credit the payment: it ends denied / ERROR_SYSTEM'
        : 'the service gateway credits the payment';
    case 'callback':
      return {
        drop: 'never send the callback',
        duplicate: 'send the callback twice with an identical body',
        delay: `hold the callback back for ${effect.delay_ms ?? 0} ms`,
        out_of_order: 'after the final callback, send a stale earlier status for the same transaction',
        extra_fields: 'add unknown fields to the callback body (a lenient merchant must ignore them)',
        slow_cadence: `stretch the retry schedule ×${effect.factor ?? 10}`,
        fail_first: `fail the first ${effect.attempts ?? 1} delivery attempt(s) on the sandbox side, then send normally`,
      }[effect.action];
  }
}

export function explainStep(step: ScenarioStep): string {
  const m = step.match;
  const where = [
    `on ${m.endpoint}`,
    m.app_id ? `for app_id ${m.app_id}` : '',
    m.order_id ? `for order_id /${m.order_id}/` : '',
    m.amount !== undefined ? `for amount ${m.amount}` : '',
    m.card ? `for card …${m.card.replace(/\D/g, '').slice(-4)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const times =
    step.times === 'always' ? 'every time' : step.times && step.times > 1 ? `${step.times} times` : 'once';
  return `${where}, ${times}: ${explainEffect(step.effect)}`;
}
