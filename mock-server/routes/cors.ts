import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hostInDomains } from '../merchants/domain-check.js';
import type { Merchant } from '../merchants/merchant.js';
import type { SandboxContext } from '../sandbox-context.js';
import { isHash } from '../views/links.js';
import '../request-state.js';

const ALLOWED_HEADERS = ['Auth-Identifier', 'Content-Type', 'X-Ktpay-Mock-Scenario'];
const ALLOWED_METHODS = 'GET, POST, OPTIONS';

/** The host of an Origin header (`http://localhost:3000` → `localhost`); undefined for `null` or junk. */
export function originHost(origin: string | undefined): string | undefined {
  if (!origin || origin === 'null') return undefined;
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

function addVary(reply: FastifyReply, value: string) {
  const current = reply.getHeader('vary');
  const list = new Set(
    String(current ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const v of value.split(',')) list.add(v.trim());
  reply.header('vary', [...list].join(', '));
}

/**
 * CORS for browsers calling the sandbox from a merchant's site [mock, spec §1 "trusted domains"]:
 * an Origin whose host is one of the merchant's registered `domains` (subdomains count, ports
 * do not) gets `Access-Control-Allow-Origin` for the API and the widget page alike.
 *
 * A preflight carries no Auth-Identifier value, so it is answered for any origin some merchant has
 * registered; the real request is then checked against its own merchant (the Auth-Identifier's, or
 * the owner of the transaction in the path or `?hash=`). Other origins get no CORS headers.
 */
export const cors = fp(
  async function cors(app: FastifyInstance, opts: { ctx: SandboxContext }) {
    const { ctx } = opts;
    const registeredAnywhere = async (host: string) =>
      (await ctx.merchants.list()).some((m) => hostInDomains(host, m.domains));

    async function merchantOf(request: FastifyRequest): Promise<Merchant | undefined> {
      if (request.ktpay?.merchant) return request.ktpay.merchant;
      const id = request.headers['auth-identifier'];
      if (typeof id === 'string' && id.trim()) return ctx.merchants.get(id.trim());
      const params = (request.params ?? {}) as Record<string, unknown>;
      const query = (request.query ?? {}) as Record<string, unknown>;
      const hash = isHash(params.hash) ? params.hash : isHash(query.hash) ? query.hash : undefined;
      const tx = hash ? await ctx.store.getTransaction(hash) : undefined;
      return tx ? ctx.store.getMerchant(tx.app_id) : undefined;
    }

    // A reply sent from a callback-style hook ends the request there (no done()).
    app.addHook('onRequest', (request, reply, done) => {
      if (request.method !== 'OPTIONS') return done();
      const origin = request.headers.origin;
      if (!origin || !request.headers['access-control-request-method']) return done();
      addVary(reply, 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      const host = originHost(origin);
      void (host ? registeredAnywhere(host) : Promise.resolve(false)).then(
        (allowed) => {
          if (allowed) {
            reply.header('access-control-allow-origin', origin);
            reply.header('access-control-allow-credentials', 'true');
            reply.header('access-control-allow-methods', ALLOWED_METHODS);
            reply.header('access-control-allow-headers', ALLOWED_HEADERS.join(', '));
            reply.header('access-control-max-age', '600');
          }
          reply.code(204).send();
        },
        (err: unknown) => done(err as Error),
      );
    });

    // Callback-style: most requests carry no Origin, and they should not pay for a promise (issue 10).
    app.addHook('onSend', (request, reply, payload, done) => {
      const origin = request.headers.origin;
      if (!origin || request.method === 'OPTIONS') return done(null, payload);
      addVary(reply, 'Origin');
      const host = originHost(origin);
      if (!host) return done(null, payload);
      merchantOf(request)
        .then((merchant) => (merchant ? hostInDomains(host, merchant.domains) : registeredAnywhere(host)))
        .then(
          (allowed) => {
            if (allowed) {
              reply.header('access-control-allow-origin', origin);
              reply.header('access-control-allow-credentials', 'true');
              reply.header('access-control-expose-headers', 'Content-Disposition');
            }
            done(null, payload);
          },
          (err: unknown) => done(err as Error),
        );
    });
  },
  { name: 'ktpay-cors' },
);
