import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { ConfigError } from '../config/load-config.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import { merchantView } from '../merchants/merchant.js';
import type { SandboxContext } from '../sandbox-context.js';
import { adminAuthHook } from './admin-auth.js';

/**
 * Scenario control under /__admin (issue 6): the library with use counts, user-defined
 * scenarios, per-merchant activation and resetting the counts.
 */
export async function adminScenarios(app: FastifyInstance, opts: { ctx: SandboxContext }) {
  const { ctx } = opts;
  app.addHook('onRequest', adminAuthHook(ctx.config));
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, surface: 'admin' };
  });

  const define = async (body: unknown, appId?: string) => {
    try {
      return await ctx.scenarios.define(body, 'admin API', appId);
    } catch (err) {
      if (err instanceof ConfigError) {
        throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, { validation: { scenario: [err.message] } });
      }
      throw err;
    }
  };

  app.get('/scenarios', async () => ({
    ...(await ctx.scenarios.describe()),
    merchants: Object.fromEntries((await ctx.merchants.list()).map((m) => [m.app_id, m.scenario ?? null])),
  }));

  /** Defines a user scenario (same format as the files in scenarios/library). */
  app.post('/scenarios', async (request, reply) => reply.code(201).send(await define(request.body)));

  app.post('/scenarios/reset', async () => {
    await ctx.scenarios.resetCounts();
    return { reset: true };
  });

  /** Activates a scenario for a merchant: `{"name": "flaky-create"}` or `{"scenario": {…definition}}`. */
  app.put<{ Params: { app_id: string }; Body: { name?: unknown; scenario?: unknown } }>(
    '/merchants/:app_id/scenario',
    async (request) => {
      const { app_id: appId } = request.params;
      if (!(await ctx.merchants.get(appId))) throw new KtpayError(ErrorCode.MERCHANT_NOT_FOUND_4040123);
      const body = request.body ?? {};
      let name: string;
      if (body.scenario !== undefined) {
        // A definition given for a merchant is that merchant's: it goes when the merchant is deleted.
        name = (await define(body.scenario, appId)).name;
      } else if (typeof body.name === 'string') {
        if (!(await ctx.scenarios.has(body.name))) {
          throw new KtpayError(ErrorCode.SCENARIO_NOT_FOUND_4040124, {
            diagnostic: `no scenario "${body.name}"; GET /__admin/scenarios lists them`,
          });
        }
        name = body.name;
      } else {
        throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
          validation: { name: ['give "name" (a library scenario) or "scenario" (a definition)'] },
        });
      }
      const updated = await ctx.merchants.update(appId, (m) => ({ ...m, scenario: name }));
      if (!updated) throw new KtpayError(ErrorCode.MERCHANT_NOT_FOUND_4040123);
      return merchantView(updated, ctx.clock.now());
    },
  );

  app.delete<{ Params: { app_id: string } }>('/merchants/:app_id/scenario', async (request) => {
    const updated = await ctx.merchants.update(request.params.app_id, (m) => {
      const rest = { ...m };
      delete rest.scenario;
      return rest;
    });
    if (!updated) throw new KtpayError(ErrorCode.MERCHANT_NOT_FOUND_4040123);
    return merchantView(updated, ctx.clock.now());
  });
}
