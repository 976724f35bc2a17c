import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { PayPipeline } from '../acquirer/pay-pipeline.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import { DEFAULT_MERCHANT } from '../merchants/default-merchant.js';
import { appKeyOf, type Merchant } from '../merchants/merchant.js';
import type { Transaction } from '../payments/transaction.js';
import type { SandboxContext } from '../sandbox-context.js';
import { assetTable } from '../views/assets.js';
import { staticAssets } from './static-assets.js';
import { demoPage, demoResultPage, DEMO_PRODUCT } from '../views/demo-page.js';
import { ASSET_BASE } from '../views/layout.js';
import { isHash, originOf, paths, resultTargets } from '../views/links.js';
import { usePageErrors } from '../views/page-errors.js';
import { donePage, receiptPage, redirectPage } from '../views/widget-views.js';

type Query = Record<string, string | string[] | undefined>;

/**
 * `show_close_button` from the widget URL. The public JS client writes it without `=`
 * (`&show_close_buttonfalse`), so both spellings count [doc quirk, spec §8].
 *
 * @example
 * closeButtonParam({ show_close_buttonfalse: '' }); // false
 * closeButtonParam({ show_close_button: 'true' });  // true
 */
export function closeButtonParam(query: Query): boolean | undefined {
  const v = query.show_close_button;
  if (typeof v === 'string') {
    if (/^(false|0|no)$/i.test(v.trim())) return false;
    if (/^(true|1|yes|)$/i.test(v.trim())) return true;
  }
  if (Object.hasOwn(query, 'show_close_buttonfalse')) return false;
  if (Object.hasOwn(query, 'show_close_buttontrue')) return true;
  return undefined;
}

/**
 * The widget host's pages (spec §8): `/payment-card` (sends a pending payment to the bank, a paid
 * one to its receipt), the receipt with "Продолжить", the default result page, the iframe exit
 * page, the no-JavaScript close link, the demo shop, and the static files they use.
 */
export async function widgetPages(
  app: FastifyInstance,
  opts: { ctx: SandboxContext; pipeline: PayPipeline },
) {
  const { ctx, pipeline } = opts;
  await app.register(formbody, { bodyLimit: ctx.config.body_limit });
  usePageErrors(app);
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, surface: 'page' };
  });

  async function txFromQuery(
    request: FastifyRequest,
  ): Promise<{ tx: Transaction; merchant: Merchant | undefined }> {
    const hash = (request.query as Query).hash;
    const tx = isHash(hash) ? await ctx.store.getTransaction(hash) : undefined;
    if (!tx) {
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: isHash(hash)
          ? `no transaction ${hash} in this sandbox`
          : 'the page needs ?hash=<40 hex transaction_hash>',
      });
    }
    request.ktpay.transaction_hash = tx.hash;
    return { tx, merchant: await ctx.store.getMerchant(tx.app_id) };
  }

  const closeOf = (tx: Transaction) =>
    tx.acquirer?.widget?.close_button ? { href: paths.close(tx.hash) } : undefined;

  app.get(
    `${ASSET_BASE}/:name`,
    staticAssets(assetTable, { what: 'static file', cacheControl: 'public, max-age=300' }),
  );

  app.get('/payment-card', async (request, reply) => {
    const { tx } = await txFromQuery(request);
    const close = closeButtonParam(request.query as Query) ?? tx.show_close_button;
    const origin = originOf(request, ctx.config);
    await pipeline.touchSession(
      tx.hash,
      { mode: 'v2', back_link: `${origin}${paths.backLink(tx.hash)}`, framed: false, attempts: 0 },
      { widget: { close_button: close } },
    );
    return reply.redirect(tx.status === 'pending' ? paths.payform(tx.hash) : paths.receipt(tx.hash), 303);
  });

  app.get('/payment-card/receipt', async (request, reply) => {
    const { tx, merchant } = await txFromQuery(request);
    if (tx.status === 'pending') return reply.redirect(paths.widget(tx.hash), 303);
    const targets = resultTargets(tx, merchant, originOf(request, ctx.config));
    return reply.type('text/html; charset=utf-8').send(
      receiptPage({
        merchantName: merchant?.name ?? '',
        tx,
        continueUrl: targets.continueUrl,
        close: closeOf(tx),
      }),
    );
  });

  app.get('/payment-card/done', async (request, reply) => {
    const { tx, merchant } = await txFromQuery(request);
    return reply.type('text/html; charset=utf-8').send(donePage({ merchantName: merchant?.name ?? '', tx }));
  });

  app.get('/payment-card/redirect', async (request, reply) => {
    const { tx, merchant } = await txFromQuery(request);
    const t = resultTargets(tx, merchant, originOf(request, ctx.config));
    const url = t.outcome === 'pending' ? t.backUrl : (t.forceUrl ?? t.continueUrl);
    return reply.type('text/html; charset=utf-8').send(redirectPage(url));
  });

  app.get('/payment-card/close', async (request, reply) => {
    const { tx, merchant } = await txFromQuery(request);
    return reply.redirect(resultTargets(tx, merchant, originOf(request, ctx.config)).backUrl, 303);
  });

  const demoMerchant = () => ctx.store.getMerchant(DEFAULT_MERCHANT.app_id);

  app.get('/demo', async (request, reply) => {
    const m = await demoMerchant();
    const cfg = m
      ? {
          app_id: m.app_id,
          app_key: appKeyOf(m, ctx.clock.now()),
          merchant_name: m.name,
          origin: originOf(request, ctx.config),
        }
      : undefined;
    return reply.type('text/html; charset=utf-8').send(demoPage(cfg));
  });

  // Without JavaScript the demo form lands here: the server seals nothing, it creates the payment
  // directly through the payments service and sends the shopper to the widget page.
  app.post<{ Body: Record<string, unknown> | undefined }>('/demo/checkout', async (request, reply) => {
    const m = await demoMerchant();
    if (!m)
      throw new KtpayError(ErrorCode.MERCHANT_NOT_FOUND_4040123, {
        diagnostic: 'the built-in merchant is disabled',
      });
    const body = request.body ?? {};
    const origin = originOf(request, ctx.config);
    const orderId = `demo-${ctx.clock.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const amountText = typeof body.amount === 'string' ? body.amount.replace(',', '.').trim() : '';
    const amount = amountText === '' ? DEMO_PRODUCT.amount : Number(amountText);
    const showClose = body.show_close_button === 'true';
    const result = (outcome: string) =>
      `${origin}/demo/result?outcome=${outcome}&order_id=${encodeURIComponent(orderId)}`;
    const { tx } = await ctx.payments.create(m, {
      order: {
        order_id: orderId,
        amount,
        description: typeof body.description === 'string' ? body.description : DEMO_PRODUCT.name,
        type: 'ecom',
        show_close_button: showClose,
        callback_success_url: result('success'),
        callback_failed_url: result('failed'),
        callback_back_url: `${origin}/demo`,
      },
    });
    return reply.redirect(`${paths.widget(tx.hash)}&show_close_button=${showClose}`, 303);
  });

  app.get('/demo/result', async (request, reply) => {
    const q = request.query as Query;
    const orderId = typeof q.order_id === 'string' ? q.order_id : '';
    const outcome = q.outcome === 'success' ? 'success' : 'failed';
    const m = await demoMerchant();
    const tx = m && orderId ? await ctx.store.findTransactionByOrder(m.app_id, orderId) : undefined;
    return reply.type('text/html; charset=utf-8').send(demoResultPage({ outcome, orderId, tx }));
  });
}
