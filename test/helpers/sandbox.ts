import type { FastifyInstance } from 'fastify';
import type { SandboxConfigInput } from '../../contracts/types.js';
import { buildApp, type BuildOptions } from '../../mock-server/app.js';
import { loadConfig, type SandboxConfig } from '../../mock-server/config/load-config.js';
import { cryptoReady, generateKeypair, sealToBase64 } from '../../mock-server/crypto/sealed-box.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { openStore } from '../../mock-server/store/open-store.js';
import type { Store } from '../../mock-server/store/store.js';
import { testStoreEnv, testStoreKind } from './test-store.js';

export const API = '/api/v1/merchant-widget';
export const APP_ID = DEFAULT_MERCHANT.app_id;
export const APP_KEY = DEFAULT_MERCHANT.app_key;

/**
 * A config as `npm start` would build it from an empty environment, plus overrides. Its store is
 * the test store (test-store.ts: memory, or a fresh PostgreSQL schema with KTPAY_TEST_STORE=postgres)
 * unless the test names one.
 */
export function testConfig(flags: SandboxConfigInput = {}, env: Record<string, string> = {}): SandboxConfig {
  const store = flags.store === undefined && env.STORE === undefined ? testStoreEnv() : {};
  return loadConfig({ env: { LOG_LEVEL: 'silent', ...store, ...env }, flags });
}

/** Store calls in flight, per sandbox built on a shared (PostgreSQL) test store: settle() waits for them. */
const meters = new Set<{ inflight: number }>();

/** The store, counting its calls in flight (every Store method answers with a promise). */
function metered(store: Store): { store: Store; meter: { inflight: number } } {
  const meter = { inflight: 0 };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      // `sql` is the pool itself (a function with properties), not a Store method.
      if (typeof value !== 'function' || prop === 'sql' || prop === 'close') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        meter.inflight++;
        return result.finally(() => meter.inflight--);
      };
    },
  });
  return { store: proxy, meter };
}

/** A sandbox app for `inject()` tests. Close it in afterEach/afterAll. */
export async function buildTestApp(
  flags: SandboxConfigInput = {},
  opts: BuildOptions & { env?: Record<string, string> } = {},
): Promise<FastifyInstance> {
  const { env, ...rest } = opts;
  const config = testConfig(flags, env);
  if (rest.store || testStoreKind() !== 'postgres' || !config.store.startsWith('postgres')) {
    return buildApp(config, rest);
  }
  // The shared test store answers over a socket: settle() waits for its calls to end.
  const { store, meter } = metered(await openStore(config));
  const app = await buildApp(config, { ...rest, store });
  meters.add(meter);
  app.addHook('onClose', async () => void meters.delete(meter));
  return app;
}

let orderSeq = 0;
/** A fresh order id per call, so tests never collide on the per-merchant uniqueness rule. */
export function nextOrderId(prefix = 'T'): string {
  return `${prefix}-${process.pid}-${Date.now()}-${++orderSeq}`;
}

/** A valid create-payment payload; `order` fields override. */
export function orderPayload(order: Record<string, unknown> = {}, rest: Record<string, unknown> = {}) {
  return {
    order: { amount: 1000, order_id: nextOrderId(), description: 'Тестовый заказ', type: 'ecom', ...order },
    ...rest,
  };
}

/** Seals any JSON-able value (or a raw string) to an app_key, as a merchant does. */
export async function seal(value: unknown, appKey: string = APP_KEY): Promise<string> {
  await cryptoReady();
  return sealToBase64(typeof value === 'string' ? value : JSON.stringify(value), appKey);
}

/** POSTs a sealed create-payment request through inject(). */
export async function postCreate(
  app: FastifyInstance,
  body: string,
  headers: Record<string, string | undefined> = {},
) {
  const h: Record<string, string> = {};
  const merged = { 'auth-identifier': APP_ID, 'content-type': 'text/plain', ...headers };
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) h[k] = v;
  return app.inject({ method: 'POST', url: `${API}/payment`, headers: h, payload: body });
}

/** Creates a payment for the default merchant and returns its transaction hash. */
export async function createPayment(
  app: FastifyInstance,
  order: Record<string, unknown> = {},
): Promise<string> {
  const res = await postCreate(app, await seal(orderPayload(order)));
  if (res.statusCode !== 200) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  const body = res.json() as {
    payload?: { transaction_hash: string };
    response?: { data: { transaction_hash: string } };
  };
  return (body.payload ?? body.response!.data).transaction_hash;
}

/**
 * Lets work the sandbox started on the current tick finish (a clearing a manual clock's
 * `advance()` fired, an outbox write): the memory and SQLite stores answer within the same
 * macrotask, so one turn of the event loop is enough. A PostgreSQL test store answers over a
 * socket: then it waits until no store call of any open test sandbox has been in flight for a few
 * turns in a row (at most 5 s).
 */
export async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  if (meters.size === 0) return;
  const until = Date.now() + 5_000;
  for (let quiet = 0; quiet < 3 && Date.now() < until;) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    quiet = [...meters].every((m) => m.inflight === 0) ? quiet + 1 : 0;
  }
}

/**
 * Adds a merchant through the admin API (a fresh own public key; `input` overrides the rest) and
 * returns the admin API's view of it, with its credentials.
 *
 * @example
 * const widget = await addMerchant(app, { envelope: 'widget', locale: 'en' });
 */
export async function addMerchant(
  app: FastifyInstance,
  input: Record<string, unknown> = {},
): Promise<{ app_id: string; app_key: string } & Record<string, unknown>> {
  const res = await app.inject({
    method: 'POST',
    url: '/__admin/merchants',
    payload: {
      name: 'Widget shop',
      domains: ['widget.kz'],
      public_key: generateKeypair().publicKey,
      ...input,
    },
  });
  if (res.statusCode !== 201) throw new Error(`merchant not created: ${res.statusCode} ${res.body}`);
  return res.json() as { app_id: string; app_key: string } & Record<string, unknown>;
}
