import type { FastifyInstance } from 'fastify';
import { buildSuccessBody } from '../envelope/ktpay-error.js';
import { openRequestBody } from '../envelope/request-codec.js';
import type { SandboxContext } from '../sandbox-context.js';
import { resolveMerchant } from './merchant-auth.js';
import { useSealedBodyParser } from './sealed-body-parser.js';
import { applyRouteEffect } from '../scenarios/route-effects.js';
import { requestedScenario } from '../scenarios/requested-scenario.js';

export const MERCHANT_API_PREFIX = '/api/v1/merchant-widget';

/**
 * The merchant API (spec §3). Registered with prefix `/api/v1/merchant-widget`. Bodies are sealed
 * base64 text whatever the Content-Type says (text/plain, application/json, octet-stream, none).
 */
export async function merchantApi(app: FastifyInstance, opts: { ctx: SandboxContext }) {
  const { ctx } = opts;
  useSealedBodyParser(app, ctx.config.body_limit);

  app.post('/payment', { config: { journal: true, surface: 'api' } }, async (request, reply) => {
    const merchant = await resolveMerchant(request, ctx);
    const raw = typeof request.body === 'string' ? request.body : '';
    request.ktpay.raw_body_size = Buffer.byteLength(raw);
    await ctx.sealedBox.ready();
    const { payload } = await openRequestBody(
      raw,
      merchant,
      ctx.clock.now(),
      ctx.sealedBox,
      request.ktpay.warnings,
    );
    request.ktpay.decrypted = payload;
    const order = payload.order as { order_id?: unknown; amount?: unknown } | undefined;
    const orderId = typeof order?.order_id === 'string' ? order.order_id : undefined;
    if (orderId) request.ktpay.order_id = orderId;
    const header = await requestedScenario(request, ctx, orderId);
    const hit = await ctx.scenarios.resolve({
      endpoint: 'create',
      app_id: merchant.app_id,
      order_id: orderId,
      amount: typeof order?.amount === 'number' ? order.amount : undefined,
      header,
      merchant_scenario: merchant.scenario,
    });
    if (await applyRouteEffect(hit, request, reply, ctx.clock)) return reply;
    const { tx, warnings } = await ctx.payments.create(merchant, payload, {
      scenario: await ctx.scenarios.activeFor({ header, order_id: orderId }),
    });
    request.ktpay.warnings.push(...warnings);
    request.ktpay.transaction_hash = tx.hash;
    return reply
      .code(200)
      .send(
        buildSuccessBody(
          { transaction_hash: tx.hash, show_close_button: tx.show_close_button },
          merchant.envelope,
        ),
      );
  });
}
