import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { MerchantCreate } from '../../contracts/types.js';
import { toFieldErrors } from '../envelope/field-errors.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import { merchantView } from '../merchants/merchant.js';
import { MerchantConflictError } from '../merchants/merchant-registry.js';
import type { SandboxContext } from '../sandbox-context.js';
import type { MerchantPurge } from '../store/store.js';
import { createProcessDiagnostics } from '../shared/process-diagnostics.js';
import { setOwn } from '../shared/own-property.js';
import { tlsFiles } from '../tls/tls-dir.js';
import { adminAuthHook } from './admin-auth.js';

/** The `purged` part of a delete or per-merchant reset answer (contracts: merchant-purge.json). */
function purgedView(p: MerchantPurge) {
  return {
    transactions: p.transactions,
    callback_deliveries: p.deliveries,
    journal_entries: p.journal_entries,
    scenarios: p.scenarios,
    scenario_uses: p.scenario_uses,
  };
}

function parseSince(v: string | undefined): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) {
    throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
      validation: { since: ['expected epoch milliseconds or an ISO-8601 date'] },
    });
  }
  return t;
}

function parseLimit(v: string | undefined, max = 1000): number | undefined {
  if (!v) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
      validation: { limit: [`an integer from 1 to ${max}`] },
    });
  }
  return n;
}

/**
 * The sandbox's own control API under /__admin: health, reset, merchants and the journal.
 * Other issues add their admin routes in their own plugins, behind the same auth hook.
 */
export async function adminApi(app: FastifyInstance, opts: { ctx: SandboxContext; startedAt: number }) {
  const { ctx } = opts;
  app.addHook('onRequest', adminAuthHook(ctx.config));
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, surface: 'admin' };
  });

  const diagnostics = createProcessDiagnostics();
  app.addHook('onClose', async () => diagnostics.stop());

  app.get('/health', async () => ({
    status: 'ok',
    uptime_ms: ctx.clock.now() - opts.startedAt,
    store: ctx.store.kind,
    merchants: (await ctx.merchants.list()).length,
    transactions: await ctx.store.countTransactions(),
    // [mock] memory and event-loop delay since start, for the soak test and for operators.
    process: diagnostics.snapshot(),
  }));

  app.post('/reset', async () => {
    await ctx.store.reset();
    await ctx.merchants.installBuiltins();
    await ctx.scenarios.resetCounts();
    return { reset: true };
  });

  app.get('/merchants', async () => ({
    merchants: (await ctx.merchants.list()).map((m) => merchantView(m, ctx.clock.now())),
  }));

  app.get<{ Params: { app_id: string } }>('/merchants/:app_id', async (request) => {
    const m = await ctx.merchants.get(request.params.app_id);
    if (!m) throw new KtpayError(ErrorCode.MERCHANT_NOT_FOUND_4040123);
    return merchantView(m, ctx.clock.now());
  });

  app.post('/merchants', async (request, reply) => {
    // Compiled on first use (the registry caches it): runtime merchants are rare, startup is measured.
    const validateMerchant = ctx.schemas.validator('merchantCreate');
    if (!validateMerchant(request.body)) {
      const { fields, warnings } = toFieldErrors(validateMerchant.errors, 'en');
      for (const w of warnings)
        setOwn(fields, w.split(':')[0]!.replace('unknown field ', ''), ['Unknown field.']);
      throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, { validation: fields });
    }
    try {
      const m = await ctx.merchants.create(request.body as MerchantCreate);
      if (m.expires_at !== undefined) ctx.expiry.watch();
      return reply.code(201).send(merchantView(m, ctx.clock.now()));
    } catch (err) {
      if (err instanceof MerchantConflictError) {
        throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
          validation: { [err.field]: [err.message] },
        });
      }
      throw err;
    }
  });

  // [mock] A delete purges: the merchant goes with its transactions, callback deliveries, journal
  // entries, scenario use counts and the user scenarios it owns, so a shared sandbox does not
  // collect what finished pipelines left. Other merchants are not touched.
  app.delete<{ Params: { app_id: string } }>('/merchants/:app_id', async (request) => {
    const purged = await ctx.merchants.purge(request.params.app_id);
    if (!purged) throw new KtpayError(ErrorCode.MERCHANT_NOT_FOUND_4040123);
    return { deleted: request.params.app_id, purged: purgedView(purged) };
  });

  // [mock] The reset of one merchant: its data goes, the merchant (settings, keys, active scenario,
  // its user scenarios) stays. POST /__admin/reset is the same for every merchant at once.
  app.post<{ Params: { app_id: string } }>('/merchants/:app_id/reset', async (request) => {
    const purged = await ctx.merchants.reset(request.params.app_id);
    if (!purged) throw new KtpayError(ErrorCode.MERCHANT_NOT_FOUND_4040123);
    return { reset: request.params.app_id, purged: purgedView(purged) };
  });

  // [mock] The local CA's certificate (public: its key never leaves TLS_DIR), so a CI job or a
  // shop's container can trust the HTTPS listener without sharing a volume with the sandbox.
  app.get('/tls/ca.pem', async (_request, reply) => {
    const tls = ctx.config.tls;
    if (!tls) {
      throw new KtpayError(ErrorCode.ROUTE_NOT_FOUND_4040119, {
        diagnostic: 'HTTPS is off, so there is no local CA: start the sandbox with TLS_PORT (or serve --tls)',
      });
    }
    let pem: string;
    try {
      pem = await readFile(tlsFiles(tls.dir).ca, 'utf8');
    } catch {
      throw new KtpayError(ErrorCode.ROUTE_NOT_FOUND_4040119, {
        diagnostic: `${tlsFiles(tls.dir).ca} is gone: restart the sandbox, or run ktpay-mock tls init`,
      });
    }
    return reply.type('application/x-pem-file').send(pem);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/journal', async (request) => {
    const q = request.query;
    const since = parseSince(q.since);
    const limit = parseLimit(q.limit);
    return {
      entries: await ctx.store.listJournal({
        ...(q.app_id ? { app_id: q.app_id } : {}),
        ...(q.order_id ? { order_id: q.order_id } : {}),
        ...(q.transaction_hash ? { transaction_hash: q.transaction_hash } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(limit !== undefined ? { limit } : {}),
      }),
    };
  });
}
