import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { loadAcquirerData } from '../acquirer/acquirer-data.js';
import { sendKtpayError } from '../envelope/error-handler.js';
import { toFieldErrors } from '../envelope/field-errors.js';
import { catalogEntry, KtpayError } from '../envelope/ktpay-error.js';
import { appKeyOf, type Merchant } from '../merchants/merchant.js';
import { STATUSES, type PaymentStatus, type Transaction } from '../payments/transaction.js';
import type { SandboxContext } from '../sandbox-context.js';
import type { LocalChangeKind, StoreChange } from '../store/observed-store.js';
import { isHash } from '../views/links.js';
import { dashboardAssetTable } from '../views/dashboard/dashboard-assets.js';
import { staticAssets } from './static-assets.js';
import {
  journalLive,
  journalPage,
  type CodeText,
  type JournalData,
} from '../views/dashboard/journal-view.js';
import {
  DASHBOARD_ASSETS,
  DASHBOARD_BASE,
  dashboardErrorPage,
  loginPage,
  sodiumImportMap,
} from '../views/dashboard/layout.js';
import { merchantsLive, merchantsPage, type MerchantsData } from '../views/dashboard/merchants-view.js';
import {
  transactionLive,
  transactionPage,
  transactionsLive,
  transactionsPage,
  type TxDetailData,
  type TxListData,
} from '../views/dashboard/transactions-view.js';
import { dashboardSessionCookie, hasAdminCredentials, sameToken } from './admin-auth.js';

/** Sent by dashboard.js when it only wants the live region of a page. */
const PARTIAL_HEADER = 'x-dashboard-partial';
const LIST_LIMIT = 200;
/** Store writes are gathered this long before one SSE event goes out, so bursts cost one refresh. */
const COALESCE_MS = 60;
const HEARTBEAT_MS = 15_000;
const MAX_HASHES = 50;

type Query = Record<string, string | undefined>;

/** What one SSE event tells the browser: which kinds of thing changed, and which transactions. */
interface ChangeBatch {
  kinds: Set<LocalChangeKind>;
  hashes: Set<string>;
  /** A change named no transactions because it touched too many (another replica's burst). */
  many: boolean;
}

function hashOf(change: StoreChange): string | null {
  switch (change.kind) {
    case 'transaction':
      return change.hash;
    case 'delivery':
    case 'journal':
      return change.transaction_hash;
    default:
      return null;
  }
}

/**
 * Content-Security-Policy of the dashboard pages: scripts and styles from this origin only, plus
 * the one inline import map (allowed by its hash) and libsodium's WebAssembly. Escaping keeps payloads inert; this is the
 * second wall should a bug ever let one through.
 */
function contentSecurityPolicy(): string {
  const importMap = /<script type="importmap">([\s\S]*)<\/script>/.exec(sodiumImportMap().value)?.[1] ?? '';
  const digest = createHash('sha256').update(importMap).digest('base64');
  return [
    "default-src 'self'",
    // wasm-unsafe-eval: libsodium's WebAssembly, which seals cancel/refund bodies in the browser.
    `script-src 'self' 'sha256-${digest}' 'wasm-unsafe-eval'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** A local dashboard path to return to after signing in (never another origin). */
function safeNext(next: unknown): string {
  return typeof next === 'string' && next.startsWith(`${DASHBOARD_BASE}`) && !next.startsWith('//')
    ? next
    : `${DASHBOARD_BASE}/transactions`;
}

/** The request URL without its `token` query parameter. */
function withoutToken(url: string): string {
  const u = new URL(url, 'http://sandbox.invalid');
  u.searchParams.delete('token');
  return `${u.pathname}${u.search}`;
}

/**
 * The dashboard at `/__admin/ui` (issue 8): server-rendered pages for transactions, one
 * transaction, merchants and the journal, a small script that swaps in fresh HTML when the
 * server-sent event stream reports a change, and a sign-in form when ADMIN_TOKEN is set.
 * Registered with prefix `/__admin/ui`.
 *
 * @example
 * await app.register(adminDashboard, { prefix: '/__admin/ui', ctx });
 */
export async function adminDashboard(app: FastifyInstance, opts: { ctx: SandboxContext }) {
  const { ctx } = opts;
  const token = ctx.config.admin_token;
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, surface: 'admin' };
  });

  const acquirer = loadAcquirerData();
  const csp = contentSecurityPolicy();
  const validateCreate = ctx.schemas.validator('createPaymentRequest');
  const codeText: CodeText = (code) => {
    try {
      return catalogEntry(code);
    } catch {
      return undefined;
    }
  };
  const secure = (request: FastifyRequest) => request.protocol === 'https';

  // --- auth: nothing but the sign-in form and the static files without a session ---------------
  app.addHook('onRequest', async (request, reply) => {
    if (!token) return;
    const path = request.url.split('?')[0] ?? '';
    if (
      path.startsWith(`${DASHBOARD_ASSETS}/`) ||
      path === `${DASHBOARD_BASE}/login` ||
      path === `${DASHBOARD_BASE}/logout`
    )
      return;
    const given = (request.query as Query).token;
    if (request.method === 'GET' && typeof given === 'string') {
      if (sameToken(given, token)) {
        reply.header('set-cookie', dashboardSessionCookie(token, { secure: secure(request) }));
        return reply.redirect(withoutToken(request.url), 303);
      }
      return reply
        .code(401)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(loginPage({ next: safeNext(withoutToken(request.url)), failed: true }));
    }
    if (hasAdminCredentials(request, token)) return;
    if (
      request.method === 'GET' &&
      path !== `${DASHBOARD_BASE}/events` &&
      request.headers[PARTIAL_HEADER] === undefined
    ) {
      return reply
        .code(401)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(loginPage({ next: safeNext(request.url), failed: false }));
    }
    throw new KtpayError(ErrorCode.ADMIN_TOKEN_REQUIRED_4010121, {
      diagnostic: 'the dashboard session is missing or stale: sign in again at /__admin/ui/login',
    });
  });

  app.setErrorHandler((error: FastifyError | KtpayError, request, reply) => {
    const known =
      error instanceof KtpayError
        ? error
        : new KtpayError(ErrorCode.INTERNAL_5000001, {
            diagnostic: 'the dashboard hit an unexpected error; see the log',
          });
    if (!(error instanceof KtpayError)) request.log.error({ err: error }, 'dashboard error');
    const wantsHtml = request.method === 'GET' && !request.url.startsWith(`${DASHBOARD_BASE}/events`);
    if (!wantsHtml) return sendKtpayError(request, reply, known, ctx.config);
    const entry = catalogEntry(known.code);
    return reply
      .code(entry.http_status)
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .send(
        dashboardErrorPage({
          code: known.code,
          message: entry.message_en ?? entry.message,
          hint: known.diagnostic ? `${entry.hint} Sandbox: ${known.diagnostic}` : entry.hint,
          signedIn: Boolean(token),
        }),
      );
  });

  /** A full page, or only its live region when dashboard.js asks for a refresh. */
  function sendPage(
    request: FastifyRequest,
    reply: FastifyReply,
    full: () => string,
    live: () => { value: string },
  ) {
    const partial = request.headers[PARTIAL_HEADER] === '1';
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', csp)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .send(partial ? live().value : full());
  }

  const merchantMap = async (): Promise<Map<string, Merchant>> =>
    new Map((await ctx.merchants.list()).map((m) => [m.app_id, m]));

  // --- pages --------------------------------------------------------------------------------------
  // With the prefix, '/' answers both /__admin/ui and /__admin/ui/.
  app.get('/', async (_request, reply) => reply.redirect(`${DASHBOARD_BASE}/transactions`, 302));

  app.get<{ Querystring: Query }>('/transactions', async (request, reply) => {
    const q = request.query;
    const status =
      q.status && (STATUSES as readonly string[]).includes(q.status)
        ? (q.status as PaymentStatus)
        : undefined;
    const search = q.q?.trim().toLowerCase() || undefined;
    let rows = await ctx.store.listTransactions({
      ...(q.app_id ? { app_id: q.app_id } : {}),
      ...(status ? { status } : {}),
      limit: search ? 1000 : LIST_LIMIT,
    });
    if (search) {
      rows = rows
        .filter((tx) => [tx.order_id, tx.description, tx.hash].some((v) => v.toLowerCase().includes(search)))
        .slice(0, LIST_LIMIT);
    }
    const data: TxListData = {
      rows,
      merchants: await merchantMap(),
      filter: { app_id: q.app_id || undefined, status, q: q.q || undefined },
      total: await ctx.store.countTransactions(),
      limit: LIST_LIMIT,
    };
    return sendPage(
      request,
      reply,
      () => transactionsPage(data, Boolean(token)),
      () => transactionsLive(data),
    );
  });

  app.get<{ Params: { hash: string } }>('/transactions/:hash', async (request, reply) => {
    const { hash } = request.params;
    const tx = isHash(hash) ? await ctx.store.getTransaction(hash) : undefined;
    if (!tx) {
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: `no transaction ${hash.slice(0, 64)} in this sandbox`,
      });
    }
    const data = await detailData(tx);
    return sendPage(
      request,
      reply,
      () => transactionPage(data, Boolean(token)),
      () => transactionLive(data),
    );
  });

  async function detailData(tx: Transaction): Promise<TxDetailData> {
    const [merchant, journal, deliveries, notes] = await Promise.all([
      ctx.store.getMerchant(tx.app_id),
      ctx.store.listJournal({ transaction_hash: tx.hash, limit: 200 }),
      ctx.callbacks.list({ transaction_hash: tx.hash }),
      ctx.callbacks.notesFor(tx.hash),
    ]);
    const now = ctx.clock.now();
    const ok = validateCreate(tx.payload);
    return {
      tx,
      merchant,
      appKey: merchant ? appKeyOf(merchant, now) : undefined,
      warnings: ok ? [] : toFieldErrors(validateCreate.errors, 'en').warnings,
      journal,
      deliveries,
      notes,
      cards: acquirer.cards.cards,
      otp: acquirer.cards.three_ds.otp,
      expYear: String((new Date(now).getUTCFullYear() + 3) % 100).padStart(2, '0'),
      codeText,
    };
  }

  app.get('/merchants', async (request, reply) => {
    const now = ctx.clock.now();
    const described = await ctx.scenarios.describe();
    const data: MerchantsData = {
      rows: (await ctx.merchants.list()).map((merchant) => ({ merchant, appKey: appKeyOf(merchant, now) })),
      scenarios: [...described.library, ...described.custom].map((s) => ({
        name: s.name,
        description: s.description ?? '',
      })),
      globalScenario: described.global,
      suggestedPublicKey: randomBytes(32).toString('base64'),
    };
    return sendPage(
      request,
      reply,
      () => merchantsPage(data, Boolean(token)),
      () => merchantsLive(data),
    );
  });

  app.get<{ Querystring: Query }>('/journal', async (request, reply) => {
    const q = request.query;
    const failedOnly = q.show !== 'all';
    let entries = await ctx.store.listJournal({
      ...(q.app_id ? { app_id: q.app_id } : {}),
      limit: failedOnly ? 1000 : LIST_LIMIT,
    });
    if (failedOnly) entries = entries.filter((e) => !e.verdict.ok).slice(0, LIST_LIMIT);
    const data: JournalData = {
      entries,
      failedOnly,
      app_id: q.app_id || undefined,
      merchants: await merchantMap(),
      codeText,
    };
    return sendPage(
      request,
      reply,
      () => journalPage(data, Boolean(token)),
      () => journalLive(data),
    );
  });

  app.get(
    '/assets/:name',
    staticAssets(dashboardAssetTable, { what: 'dashboard file', cacheControl: 'no-cache' }),
  );

  // --- sign in / out ------------------------------------------------------------------------------
  app.get<{ Querystring: Query }>('/login', async (request, reply) => {
    if (!token || hasAdminCredentials(request, token))
      return reply.redirect(safeNext(request.query.next), 303);
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', csp)
      .send(loginPage({ next: safeNext(request.query.next), failed: false }));
  });

  app.post<{ Body: Record<string, unknown> | undefined }>('/login', async (request, reply) => {
    const body = request.body ?? {};
    const next = safeNext(body.next);
    if (!token) return reply.redirect(next, 303);
    if (typeof body.token === 'string' && sameToken(body.token.trim(), token)) {
      return reply
        .header('set-cookie', dashboardSessionCookie(token, { secure: secure(request) }))
        .redirect(next, 303);
    }
    return reply
      .code(401)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', csp)
      .send(loginPage({ next, failed: true }));
  });

  app.post('/logout', async (request, reply) => {
    if (token)
      reply.header('set-cookie', dashboardSessionCookie(token, { secure: secure(request), clear: true }));
    return reply.redirect(`${DASHBOARD_BASE}/login`, 303);
  });

  // --- live updates: one server-sent event per burst of store writes ------------------------------
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
    streams.clear();
  });

  app.get('/events', (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // HEAD (Fastify's automatic twin) has no body: Node would hold the headers back until end().
    if (request.method === 'HEAD') {
      res.end();
      return;
    }
    res.write('retry: 2000\n\nevent: ready\ndata: {}\n\n');
    streams.add(res);

    // Wall-clock timers on purpose: they pace a browser connection, not sandbox time (the
    // injected clock may be a manual one that never moves in tests).
    let batch: ChangeBatch | null = null;
    let timer: NodeJS.Timeout | null = null;
    const send = () => {
      timer = null;
      if (!batch) return;
      // A large burst names no transactions: every open page refreshes (null = "many").
      const data = {
        kinds: [...batch.kinds],
        hashes: batch.many || batch.hashes.size > MAX_HASHES ? null : [...batch.hashes],
      };
      batch = null;
      res.write(`event: change\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const off = ctx.activity.on((change) => {
      batch ??= { kinds: new Set(), hashes: new Set(), many: false };
      if (change.kind === 'replica') {
        // Another replica's writes (PostgreSQL LISTEN/NOTIFY): folded in like this replica's own.
        for (const k of change.kinds) batch.kinds.add(k);
        if (change.hashes === null) batch.many = true;
        else for (const h of change.hashes) batch.hashes.add(h);
      } else {
        batch.kinds.add(change.kind);
        const hash = hashOf(change);
        if (hash) batch.hashes.add(hash);
      }
      timer ??= setTimeout(send, COALESCE_MS);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const cleanup = () => {
      off();
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
      streams.delete(res);
    };
    request.raw.on('close', cleanup);
    res.on('close', cleanup);
  });
}
