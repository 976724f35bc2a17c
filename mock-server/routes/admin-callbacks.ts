import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { Delivery, DeliveryState } from '../callbacks/delivery.js';
import { adminValidationFields } from '../envelope/error-handler.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { SandboxContext } from '../sandbox-context.js';
import { adminAuthHook } from './admin-auth.js';

/**
 * A delivery as the admin API shows it: the stored row, plus each attempt's offset from the first
 * one, so a retry schedule can be read at a glance.
 */
export function deliveryView(d: Delivery) {
  const first = d.attempts[0]?.at;
  return {
    ...d,
    attempt_count: d.attempts.length,
    attempts: d.attempts.map((a) => ({ ...a, offset_ms: first === undefined ? 0 : a.at - first })),
  };
}

/**
 * The callback outbox's admin routes (issue 4), registered under `/__admin`: list and inspect
 * deliveries with their attempt logs, redeliver one, flush every pending retry now.
 */
export async function adminCallbacks(app: FastifyInstance, opts: { ctx: SandboxContext }) {
  const { ctx } = opts;
  const validateListQuery = ctx.schemas.validator('callbackListQuery');
  app.addHook('onRequest', adminAuthHook(ctx.config));
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, surface: 'admin' };
  });

  app.get<{
    Querystring: { transaction_hash?: string; state?: DeliveryState; app_id?: string; limit?: string };
  }>('/callbacks', async (request) => {
    // Checked with the contract here rather than a Fastify route schema: a route schema makes
    // Fastify build its own ajv and compile the draft-07 meta-schema at startup (issue 10).
    if (!validateListQuery(request.query)) {
      throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
        validation: adminValidationFields(validateListQuery.errors ?? []),
        diagnostic: 'invalid query for GET /__admin/callbacks',
      });
    }
    const q = request.query;
    const limit = q.limit ? Number(q.limit) : 100;
    const all = await ctx.callbacks.list({
      ...(q.transaction_hash ? { transaction_hash: q.transaction_hash } : {}),
      ...(q.state ? { state: q.state } : {}),
      ...(q.app_id ? { app_id: q.app_id } : {}),
    });
    return { total: all.length, deliveries: all.slice(0, limit).map(deliveryView) };
  });

  app.get<{ Params: { id: string } }>('/callbacks/:id', async (request) => {
    const d = await ctx.callbacks.get(request.params.id);
    if (!d)
      throw new KtpayError(ErrorCode.CALLBACK_NOT_FOUND_4040125, {
        diagnostic: `no callback delivery ${request.params.id}`,
      });
    return deliveryView(d);
  });

  app.get<{ Params: { hash: string } }>('/transactions/:hash/callbacks', async (request) => {
    const { hash } = request.params;
    if (!(await ctx.store.getTransaction(hash))) {
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: `no transaction ${hash} in this sandbox`,
      });
    }
    return {
      transaction_hash: hash,
      deliveries: (await ctx.callbacks.list({ transaction_hash: hash })).map(deliveryView),
      notes: await ctx.callbacks.notesFor(hash),
    };
  });

  app.post<{ Params: { id: string } }>('/callbacks/:id/redeliver', async (request) => {
    return deliveryView(await ctx.callbacks.redeliver(request.params.id));
  });

  app.post('/callbacks/flush', async () => {
    const deliveries = await ctx.callbacks.flush();
    return { flushed: deliveries.length, deliveries: deliveries.map(deliveryView) };
  });
}
