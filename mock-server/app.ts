import Fastify, { type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';
import type { SandboxConfig } from './config/load-config.js';
import { clientErrorHandler, frameworkErrorHandler } from './envelope/client-error.js';
import { errorHandler } from './envelope/error-handler.js';
import { requestJournal } from './journal/request-journal.js';
import { adminApi } from './routes/admin-api.js';
import { cors } from './routes/cors.js';
import { adminCallbacks } from './routes/admin-callbacks.js';
import { adminDashboard } from './routes/admin-dashboard.js';
import { apiDocs } from './routes/api-docs.js';
import { adminScenarios } from './routes/admin-scenarios.js';
import { MERCHANT_API_PREFIX, merchantApi } from './routes/merchant-api.js';
import { merchantRateLimit } from './routes/merchant-rate-limit.js';
import { paymentOperations } from './routes/payment-operations.js';
import { shopperJourney } from './routes/shopper-journey.js';
import { scenarioAcquirerOverride } from './scenarios/acquirer-override.js';
import { createSandboxContext, type ContextOverrides, type SandboxContext } from './sandbox-context.js';
import { useJsonBodyParser } from './routes/json-body-parser.js';
import { safeJsonStringify } from './shared/json-depth.js';
import { createAtRest } from './shared/at-rest.js';

declare module 'fastify' {
  interface FastifyInstance {
    sandbox: SandboxContext;
  }
}

/**
 * Route schemas are not used: every request and response shape is a contract, checked with
 * `ctx.schemas.validator(name)`, so one JSON Schema serves routes, tests, OpenAPI and the runner.
 * Giving Fastify these factories also keeps it from loading its own ajv and fast-json-stringify at
 * startup (issue 10). A route that declares a schema fails at `ready()` with this message.
 */
function contractsOnly(kind: 'validator' | 'serializer'): () => never {
  return () => {
    throw new Error(
      `ktpay-mock routes take no Fastify ${kind} schema: check the shape with a contract (ctx.schemas.validator(name)) instead`,
    );
  };
}

export interface BuildOptions extends ContextOverrides {
  /** Fastify's logger option; the server passes pino settings, tests usually leave it off. */
  logger?: FastifyServerOptions['logger'];
  /** Sees every route as it is registered, before any plugin (the admin-auth test lists routes with it). */
  onRoute?: (route: RouteOptions) => void;
}

/**
 * Builds the sandbox as a Fastify app. It never listens: tests use `app.inject()`, and
 * `server.ts` listens (DESIGN.md house style 1).
 *
 * @example
 * const app = await buildApp(loadConfig({ env: {} }));
 * const res = await app.inject({ method: 'GET', url: '/__admin/health' });
 */
export async function buildApp(config: SandboxConfig, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const ctx = await createSandboxContext(config, opts);
  // Errors raised before a route resolves the merchant still answer in its dialect.
  const lookup = (appId: string) => ctx.merchants.get(appId);
  const app = Fastify({
    logger: opts.logger ?? false,
    trustProxy: true,
    bodyLimit: config.body_limit,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // A request head over max_header_size gets 431 / 4310126 from the client-error handler.
    http: { maxHeaderSize: config.max_header_size },
    clientErrorHandler: clientErrorHandler(config),
    // An undecodable path or an over-long path parameter matches no route: 4040119, not Fastify's own body.
    frameworkErrors: frameworkErrorHandler(config, lookup),
    schemaController: {
      compilersFactory: {
        buildValidator: contractsOnly('validator'),
        buildSerializer: contractsOnly('serializer'),
      },
    },
  });
  if (opts.onRoute) app.addHook('onRoute', opts.onRoute);
  // A JSON reply of stored data is never a 500, whatever an older version stored (issue 22): a
  // value too deep for JSON.stringify is cut with a placeholder. Costs nothing on the normal path.
  app.setReplySerializer((payload) => safeJsonStringify(payload));
  // Admin and page JSON bodies: Fastify's parser plus the nesting-depth limit and clearer reasons.
  useJsonBodyParser(app);
  app.decorate('sandbox', ctx);
  const startedAt = ctx.clock.now();

  await app.register(errorHandler, { config, lookup });
  await app.register(requestJournal, { store: ctx.store, clock: ctx.clock });
  await app.register(cors, { ctx });
  await app.register(merchantRateLimit, { ctx, prefix: MERCHANT_API_PREFIX });
  await app.register(merchantApi, { prefix: MERCHANT_API_PREFIX, ctx });
  await app.register(paymentOperations, { prefix: MERCHANT_API_PREFIX, ctx });
  await app.register(adminApi, { prefix: '/__admin', ctx, startedAt });
  await app.register(shopperJourney, { ctx, acquirerOverride: scenarioAcquirerOverride(ctx) });
  await app.register(adminScenarios, { prefix: '/__admin', ctx });

  await app.register(adminCallbacks, { prefix: '/__admin', ctx });
  await app.register(adminDashboard, { prefix: '/__admin/ui', ctx });
  await app.register(apiDocs, { ctx });

  // Open callback deliveries left by a previous run (persistent store) are due again.
  app.addHook('onReady', async () => {
    await ctx.callbacks.resume();
  });
  // After a burst of traffic, idle crypto workers stop and one full GC gives the memory back.
  const atRest = createAtRest({ release: () => ctx.sealedBox.release() });
  app.addHook('onRequest', (_request, _reply, done) => {
    atRest.touch();
    done();
  });
  app.addHook('onClose', async () => {
    await atRest.stop();
    // Before the store closes: wait briefly for callbacks in flight, leave the rest pending.
    await ctx.callbacks.stop();
    await ctx.expiry.stop();
    await ctx.relay?.stop();
    await ctx.store.close();
    await ctx.sealedBox.close();
  });
  return app;
}
