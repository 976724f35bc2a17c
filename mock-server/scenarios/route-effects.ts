import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ScenarioEffect } from '../../contracts/types.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { Merchant } from '../merchants/merchant.js';
import type { Transaction } from '../payments/transaction.js';
import type { SandboxContext } from '../sandbox-context.js';
import type { Clock } from '../shared/clock.js';
import { requestedScenario } from './requested-scenario.js';
import type { ScenarioEndpoint, ScenarioHit } from './scenario-engine.js';
import '../request-state.js';

const HTML_502 = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`;

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** The milliseconds a `delay` effect waits: `ms`, or a uniformly random value in `min_ms`–`max_ms`. */
export function delayMsOf(e: Extract<ScenarioEffect, { type: 'delay' }>): number {
  if (e.ms !== undefined) return e.ms;
  const min = e.min_ms ?? 0;
  return Math.round(min + Math.random() * Math.max(0, (e.max_ms ?? min) - min));
}

/**
 * Applies the HTTP-level part of a scenario hit on a merchant-API route: an error code, a delay or
 * a transport fault. Returns true when the reply has been taken over (the route must stop).
 * Other effect types (acquirer, service, callback) act elsewhere and are ignored here.
 */
export async function applyRouteEffect(
  hit: ScenarioHit | undefined,
  request: FastifyRequest,
  reply: FastifyReply,
  clock: Clock,
): Promise<boolean> {
  if (!hit) return false;
  request.ktpay.scenario = hit.explanation;
  const e = hit.effect;
  switch (e.type) {
    case 'respond_error':
      throw new KtpayError(e.code, { diagnostic: hit.explanation });
    case 'delay':
      await sleep(clock, delayMsOf(e));
      return false;
    case 'http_fault':
      request.ktpay.error_code = null;
      request.ktpay.explanation = hit.explanation;
      switch (e.fault) {
        case 'connection_reset':
          reply.hijack();
          if (typeof request.raw.socket.resetAndDestroy === 'function') request.raw.socket.resetAndDestroy();
          else request.raw.socket.destroy();
          return true;
        case 'empty_reply':
          reply.hijack();
          request.raw.socket.destroy();
          return true;
        case 'malformed_json':
          reply.code(200).type('application/json').send('{"success":true,"payload":{"transaction_hash":"');
          return true;
        case 'html_502':
          reply.code(502).type('text/html').send(HTML_502);
          return true;
        case 'unavailable_503':
          reply.code(503).header('retry-after', '1').type('text/plain').send('Service Unavailable');
          return true;
      }
      return true;
    default:
      return false;
  }
}

/**
 * The scenario hook of a merchant-API route that acts on an existing payment (status,
 * acquirer-options, pdf, cancel, refund): the `X-Ktpay-Mock-Scenario` header, the scenario the
 * payment was created under, and the merchant's scenario are resolved for `endpoint`, and the
 * HTTP-level effect is applied. Use counts are scoped to the transaction for the first two.
 * Returns true when the reply has been taken over (the route must stop and return `reply`).
 *
 * @example
 * const tx = await ctx.payments.getOwned(hash, merchant);
 * if (await applyTransactionScenario('status', ctx, request, reply, tx, merchant)) return reply;
 */
export async function applyTransactionScenario(
  endpoint: ScenarioEndpoint,
  ctx: SandboxContext,
  request: FastifyRequest,
  reply: FastifyReply,
  tx: Transaction,
  merchant: Pick<Merchant, 'scenario'> | undefined,
): Promise<boolean> {
  const header = await requestedScenario(request, ctx);
  const hit = await ctx.scenarios.resolve({
    endpoint,
    app_id: tx.app_id,
    order_id: tx.order_id,
    amount: tx.amount,
    card: tx.card?.masked,
    header,
    transaction: { hash: tx.hash, scenario: tx.scenario },
    merchant_scenario: merchant?.scenario,
  });
  return applyRouteEffect(hit, request, reply, ctx.clock);
}
