import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../mock-server/app.js';
import { adminAuthHook } from '../../mock-server/routes/admin-auth.js';
import { answers, failPayment, startReceiver, type Receiver } from '../callbacks/receiver.js';
import { registeredRoutes } from '../helpers/registered-routes.js';
import { APP_ID, createPayment, testConfig } from '../helpers/sandbox.js';

/**
 * Issue 11 §4: every route Fastify has under `/__admin` — the admin API, the dashboard, its
 * server-sent event stream and every automatic HEAD twin — answers 401 without the token and
 * 200/4xx with it. The list comes from an onRoute hook that sees each route as it is registered
 * (before any plugin), so a route added later is checked without editing this file. Requests go
 * over a real socket, so a stream is judged by its status line and then dropped.
 */

const TOKEN = 'reliability-admin-token-42';

/**
 * Reachable without credentials by design, each for a reason: the sign-in form must be shown to
 * someone who has no session yet, and the dashboard's static CSS/JS hold no data. Everything else
 * under /__admin must refuse.
 */
const PUBLIC_BY_DESIGN: Record<string, string> = {
  'GET /__admin/ui/login': 'the sign-in form',
  'HEAD /__admin/ui/login': 'the sign-in form',
  'POST /__admin/ui/login': 'checks the token sent in the form (401 and the form again when it is wrong)',
  'POST /__admin/ui/logout': 'only clears the session cookie',
  'GET /__admin/ui/assets/:name': 'static dashboard CSS/JS',
  'HEAD /__admin/ui/assets/:name': 'static dashboard CSS/JS',
};

interface Endpoint {
  method: string;
  url: string;
}

/** Every (method, url) under /__admin, as Fastify registered it; a HEAD on a path also checks GET there. */
function adminEndpoints(seen: Endpoint[]): Endpoint[] {
  const keys = new Set<string>();
  for (const r of seen) {
    if (!r.url.startsWith('/__admin')) continue;
    keys.add(`${r.method} ${r.url}`);
    if (r.method === 'HEAD') keys.add(`GET ${r.url}`);
  }
  return [...keys].sort().map((k) => {
    const [method, url] = k.split(' ') as [string, string];
    return { method, url };
  });
}

interface Fixtures {
  hash: string;
  appId: string;
  deliveryId: string;
  /** Text that only an authorised caller may see (the fixture payment's order_id). */
  secret: string;
}

function concrete(url: string, f: Fixtures): string {
  return url
    .replace(':hash', f.hash)
    .replace(':app_id', f.appId)
    .replace(':id', f.deliveryId)
    .replace(':name', 'dashboard.css')
    .replace('*', 'x');
}

/** Destructive calls go last, so the others see the fixtures. */
const isDestructive = (e: Endpoint) => e.method === 'DELETE' || e.url.endsWith('/reset');

/** The status line's code (0 when none came within 5 s), and the body when asked for. */
async function call(
  base: string,
  e: Endpoint,
  f: Fixtures,
  headers: Record<string, string>,
  readBody = false,
): Promise<{ status: number; body: string }> {
  const aborter = new AbortController();
  const timer = setTimeout(() => aborter.abort(), 5000);
  const hasBody = e.method === 'POST' || e.method === 'PUT' || e.method === 'PATCH';
  try {
    const res = await fetch(`${base}${concrete(e.url, f)}`, {
      method: e.method,
      headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
      redirect: 'manual',
      signal: aborter.signal,
      ...(hasBody ? { body: '{}' } : {}),
    });
    return { status: res.status, body: readBody ? await res.text() : '' };
  } catch (err) {
    if (aborter.signal.aborted) return { status: 0, body: '' };
    throw err;
  } finally {
    // Only the status matters; a server-sent event stream never ends, so drop the body.
    clearTimeout(timer);
    aborter.abort();
  }
}

interface Verdict {
  checked: number;
  failures: string[];
}

/** Runs every admin endpoint without a token, with a wrong one, and with the right one. */
async function checkAdminAuth(base: string, endpoints: Endpoint[], f: Fixtures): Promise<Verdict> {
  const failures: string[] = [];
  const ordered = [...endpoints.filter((e) => !isDestructive(e)), ...endpoints.filter(isDestructive)];
  for (const e of ordered) {
    const key = `${e.method} ${e.url}`;
    const isPublic = PUBLIC_BY_DESIGN[key] !== undefined;
    const { status: none, body } = await call(base, e, f, {}, isPublic);
    const { status: wrong } = await call(base, e, f, { authorization: 'Bearer not-the-token' });
    if (isPublic) {
      // Reachable on purpose, but it must work and show nothing an admin would see.
      if (none === 0 || none >= 500)
        failures.push(`${key}: public by design, but answered ${none || 'nothing'}`);
      if (body.includes(f.secret)) failures.push(`${key}: public by design, but its body shows admin data`);
      continue;
    }
    if (none !== 401) failures.push(`${key}: ${none} without a token (expected 401)`);
    if (wrong !== 401) failures.push(`${key}: ${wrong} with a wrong token (expected 401)`);
  }
  for (const e of ordered) {
    const key = `${e.method} ${e.url}`;
    if (PUBLIC_BY_DESIGN[key]) continue;
    const { status: ok } = await call(base, e, f, { authorization: `Bearer ${TOKEN}` });
    if (ok === 401 || ok < 200 || ok >= 500)
      failures.push(`${key}: ${ok || 'no answer'} with the token (expected 200-499, not 401)`);
  }
  return { checked: ordered.length, failures };
}

describe('every /__admin route needs ADMIN_TOKEN (route table enumeration, real socket)', () => {
  let app: FastifyInstance;
  let base: string;
  let receiver: Receiver;
  const seen: Endpoint[] = [];
  let fixtures: Fixtures;

  beforeAll(async () => {
    receiver = await startReceiver(answers.serverError);
    app = await buildApp(testConfig({ admin_token: TOKEN, clearing_delay_ms: 'manual' }), {
      logger: false,
      onRoute: (route: RouteOptions) => {
        for (const method of [route.method].flat()) seen.push({ method, url: route.url });
      },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const secret = `ADMIN-ONLY-${Date.now()}`;
    const hash = await createPayment(app, { callback_post_url: receiver.url, order_id: secret });
    await failPayment(app, hash);
    await app.sandbox.callbacks.whenIdle();
    const deliveryId = (await app.sandbox.callbacks.list({ transaction_hash: hash }))[0]!.id;
    // A throwaway merchant, so DELETE /merchants/:app_id has something real to delete.
    const extra = await app.inject({
      method: 'POST',
      url: '/__admin/merchants',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: {
        name: 'Throwaway',
        domains: ['throwaway.kz'],
        public_key: 'oy8UXMILwFoN7RoZ+pVNMTEjkVPkvwuQoolX9wjJGjs=',
      },
    });
    fixtures = { hash, appId: (extra.json() as { app_id: string }).app_id, deliveryId, secret };
  });
  afterAll(async () => {
    await app.close();
    await receiver.close();
  });

  it('sees every route Fastify reports, HEAD twins, the dashboard and its event stream included', () => {
    const endpoints = adminEndpoints(seen);
    const keys = new Set(endpoints.map((e) => `${e.method} ${e.url}`));
    // Cross-check with the route tree Fastify prints: nothing there is missing from the hook's list.
    const printed = registeredRoutes(app).filter((r) => r.path.startsWith('/__admin'));
    expect(printed.length).toBeGreaterThan(0);
    for (const r of printed) expect(keys, `${r.method} ${r.path}`).toContain(`${r.method} ${r.path}`);
    for (const k of [
      'GET /__admin/health',
      'HEAD /__admin/health',
      'POST /__admin/reset',
      'GET /__admin/ui/events',
      'HEAD /__admin/ui/events',
    ]) {
      expect(keys).toContain(k);
    }
    for (const e of endpoints)
      if (e.method === 'GET') expect(keys, `HEAD twin of ${e.url}`).toContain(`HEAD ${e.url}`);
  });

  it('401 without the token (and with a wrong one), 200/4xx with it, on every one of them', async () => {
    const endpoints = adminEndpoints(seen);
    const verdict = await checkAdminAuth(base, endpoints, fixtures);
    expect(verdict.failures).toEqual([]);
    const publicCount = endpoints.filter((e) => PUBLIC_BY_DESIGN[`${e.method} ${e.url}`]).length;
    console.info(
      `admin auth: ${verdict.checked} /__admin endpoints (method × path, HEAD included) checked; ` +
        `${verdict.checked - publicCount} refuse without the token, ${publicCount} public by design (sign-in form, sign-out, static files)`,
    );
    expect(verdict.checked).toBeGreaterThanOrEqual(50);
  });
});

describe('the enumeration catches a route added later without the guard', () => {
  it('flags an unguarded /__admin route registered after buildApp, and passes it once guarded', async () => {
    const config = testConfig({ admin_token: TOKEN });
    for (const guarded of [false, true]) {
      const seen: Endpoint[] = [];
      const app = await buildApp(config, {
        logger: false,
        onRoute: (route: RouteOptions) => {
          for (const method of [route.method].flat()) seen.push({ method, url: route.url });
        },
      });
      await app.register(
        async (late) => {
          if (guarded) late.addHook('onRequest', adminAuthHook(config));
          late.get('/late-addition', async () => ({ secret: true }));
        },
        { prefix: '/__admin' },
      );
      await app.listen({ port: 0, host: '127.0.0.1' });
      try {
        const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
        const late = adminEndpoints(seen).filter((e) => e.url === '/__admin/late-addition');
        expect(late.map((e) => e.method)).toEqual(['GET', 'HEAD']);
        const verdict = await checkAdminAuth(base, late, {
          hash: '0'.repeat(40),
          appId: APP_ID,
          deliveryId: 'dlv_x',
          secret: 'x',
        });
        expect(verdict.failures).toEqual(
          guarded
            ? []
            : [
                'GET /__admin/late-addition: 200 without a token (expected 401)',
                'GET /__admin/late-addition: 200 with a wrong token (expected 401)',
                'HEAD /__admin/late-addition: 200 without a token (expected 401)',
                'HEAD /__admin/late-addition: 200 with a wrong token (expected 401)',
              ],
        );
      } finally {
        await app.close();
      }
    }
  });
});
