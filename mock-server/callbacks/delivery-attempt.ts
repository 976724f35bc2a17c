import type { Store } from '../store/store.js';
import type { CallbackDispatcher, SendOutcome } from './callback-dispatcher.js';
import type { DeliveryScenario } from './callback-scenario.js';
import type { Delivery } from './delivery.js';

/** fail_first: the sandbox fails this attempt itself; nothing leaves it, and the schedule goes on. */
function sabotaged(scenario: DeliveryScenario, n: number, of: number): SendOutcome {
  return {
    sent: false,
    blocked: false,
    aborted: false,
    request_headers: {},
    response_status: null,
    response_headers: null,
    response_body: null,
    latency_ms: 0,
    acknowledged: false,
    reason: `sabotaged by scenario ${scenario.name}: attempt ${n} of the first ${of} fails on the sandbox side on purpose; nothing was sent`,
  };
}

/**
 * The outbox's *attempt* (DESIGN.md house style 15): attempt `n` of a delivery over HTTP, through
 * the dispatcher (SSRF guard, timeout, the acknowledgement rule), or failed on purpose by a
 * fail_first scenario. It writes nothing: the verdict is the *record*'s.
 *
 * @example
 * const attempt = createDeliveryAttempt({ store, dispatcher });
 * const outcome = await attempt(delivery, 1);
 */
export function createDeliveryAttempt(deps: {
  store: Pick<Store, 'getMerchant'>;
  dispatcher: CallbackDispatcher;
}) {
  return async (d: Delivery, n: number): Promise<SendOutcome> => {
    const failFirst = d.scenario?.fail_first ?? 0;
    if (n <= failFirst) return sabotaged(d.scenario!, n, failFirst);
    return deps.dispatcher.send(d, await deps.store.getMerchant(d.app_id), n);
  };
}
