import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { SandboxContext } from '../sandbox-context.js';
import type { Clock } from '../shared/clock.js';
import '../request-state.js';

/** Distinct keys the limiter remembers at most; the oldest window is dropped first. */
const MAX_KEYS = 10_000;

interface Window {
  current: number;
  startedAt: number;
}

/**
 * A store for `@fastify/rate-limit` on the sandbox's injected clock (DESIGN.md house style 10), so a
 * manual clock moves the windows in tests. One instance per app: every merchant-API route shares
 * its counters (`child` returns the same store), so the limit is per merchant, not per route.
 */
export function createClockRateStore(clock: Clock): FastifyRateLimitStoreCtor {
  const windows = new Map<string, Window>();
  const store: FastifyRateLimitStore & { read: FastifyRateLimitStore['incr'] } = {
    incr(key, callback, timeWindow) {
      const now = clock.now();
      let w = windows.get(key);
      if (!w || w.startedAt + timeWindow <= now) {
        windows.delete(key);
        w = { current: 0, startedAt: now };
        if (windows.size >= MAX_KEYS) windows.delete(windows.keys().next().value!);
        windows.set(key, w);
      }
      w.current++;
      callback(null, { current: w.current, ttl: w.startedAt + timeWindow - now });
    },
    read(key, callback, timeWindow) {
      const now = clock.now();
      const w = windows.get(key);
      if (!w || w.startedAt + timeWindow <= now) callback(null, { current: 0, ttl: 0 });
      else callback(null, { current: w.current, ttl: w.startedAt + timeWindow - now });
    },
    child: () => store,
  };
  // The plugin constructs its store with `new`; returning an object from a constructor hands back that object.
  return function ClockRateStore() {
    return store;
  } as unknown as FastifyRateLimitStoreCtor;
}

/**
 * The key a request is counted under: the merchant its `Auth-Identifier` names, or, when the header
 * is missing or names no merchant, the client address (so random identifiers cannot dodge it).
 */
export async function rateLimitKey(request: FastifyRequest, ctx: SandboxContext): Promise<string> {
  const raw = request.headers['auth-identifier'];
  const appId = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).trim();
  const merchant = appId ? await ctx.merchants.get(appId) : undefined;
  // Noted for the error builder (synchronous in the plugin), so a 429 answers in this merchant's dialect.
  if (merchant && request.ktpay) {
    request.ktpay.merchant = merchant;
    request.ktpay.app_id = merchant.app_id;
  }
  return merchant ? `merchant:${appId}` : `ip:${request.ip}`;
}

/**
 * The per-merchant rate limit [mock] on every route under `prefix` (the merchant API), built on
 * `@fastify/rate-limit`. Off unless `rate_limit.max` is set (`RATE_LIMIT_MAX`). Over the limit the
 * request is answered `4290118` (HTTP 429) in that merchant's dialect, with `Retry-After` and the
 * `X-RateLimit-*` headers; admin routes and the hosted pages are never limited.
 *
 * @example
 * await app.register(merchantRateLimit, { ctx, prefix: '/api/v1/merchant-widget' });
 */
export const merchantRateLimit = fp(
  async function merchantRateLimit(app: FastifyInstance, opts: { ctx: SandboxContext; prefix: string }) {
    const { ctx } = opts;
    const limit = ctx.config.rate_limit;
    if (!limit) return;
    const underPrefix = (url: string) => url === opts.prefix || url.startsWith(`${opts.prefix}/`);
    // Runs before the plugin's own onRoute hook (registered below), so it sees the route config.
    app.addHook('onRoute', (route) => {
      if (underPrefix(route.url) && route.config?.rateLimit === undefined) {
        route.config = { ...route.config, rateLimit: {} };
      }
    });
    // Loaded only when a limit is configured: most sandboxes run without one (issue 10, startup).
    const { default: rateLimit } = await import('@fastify/rate-limit');
    await app.register(rateLimit, {
      global: false,
      max: limit.max,
      timeWindow: limit.window_ms,
      hook: 'onRequest',
      store: createClockRateStore(ctx.clock),
      keyGenerator: (request) => rateLimitKey(request, ctx),
      // The merchant (for the dialect) was noted on the request by the key generator.
      errorResponseBuilder: (request, context) => {
        const merchant = request.ktpay?.merchant;
        const key = merchant ? `merchant:${merchant.app_id}` : `ip:${request.ip}`;
        return new KtpayError(ErrorCode.RATE_LIMITED_4290118, {
          diagnostic: `more than ${context.max} merchant-API requests in ${limit.window_ms} ms for ${key} (RATE_LIMIT_MAX / RATE_LIMIT_WINDOW_MS); retry in ${context.after}`,
        });
      },
    });
  },
  { name: 'merchant-rate-limit' },
);
