import type { FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { SandboxContext } from '../sandbox-context.js';
import { SCENARIO_HEADER, scenarioFromOrderId } from './scenario-engine.js';

/**
 * The scenario a request asks for by the `X-Ktpay-Mock-Scenario` header (returned) or by an
 * `order_id` of the form `scenario:<name>:…`. Naming a scenario that does not exist is an error
 * (4040124), not a silent no-op: a typo would otherwise make a test pass for the wrong reason.
 */
export async function requestedScenario(
  request: FastifyRequest,
  ctx: SandboxContext,
  orderId?: string,
): Promise<string | undefined> {
  const raw = request.headers[SCENARIO_HEADER];
  const header = (Array.isArray(raw) ? raw[0] : raw)?.trim() || undefined;
  for (const [name, how] of [
    [header, `the ${SCENARIO_HEADER} header`],
    [scenarioFromOrderId(orderId), 'the order_id prefix'],
  ] as const) {
    if (name && !(await ctx.scenarios.has(name))) {
      throw new KtpayError(ErrorCode.SCENARIO_NOT_FOUND_4040124, {
        diagnostic: `${how} names scenario "${name}", which does not exist; GET /__admin/scenarios lists them`,
      });
    }
  }
  return header;
}
