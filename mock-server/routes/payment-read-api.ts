import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { signedOrderOf } from '../acquirer/bank-documents.js';
import type { PayPipeline } from '../acquirer/pay-pipeline.js';
import { buildSuccessBody, KtpayError } from '../envelope/ktpay-error.js';
import type { Merchant } from '../merchants/merchant.js';
import { paymentStatusOf } from '../payments/status-object.js';
import type { Transaction } from '../payments/transaction.js';
import type { SandboxContext } from '../sandbox-context.js';
import { configuredUrls, isHash, originOf, paths, resultTargets } from '../views/links.js';
import { resolveMerchant } from './merchant-auth.js';
import { applyTransactionScenario } from '../scenarios/route-effects.js';

type Params = { hash: string };
const API_ROUTE = { journal: true, surface: 'api' } as const;

/** Unexpected failures on an endpoint become its documented 500 code instead of the generic one. */
async function orCode<T>(code: number, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KtpayError) throw err;
    throw new KtpayError(code, {
      diagnostic: `unexpected: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
}

/**
 * Reading a payment and the bank's side of the API (spec §3, §6), under `/api/v1/merchant-widget`:
 * the status object, acquirer-options (v2 and legacy v1), and the bank's post-link and back-link.
 */
export async function paymentReadApi(
  app: FastifyInstance,
  opts: { ctx: SandboxContext; pipeline: PayPipeline },
) {
  const { ctx, pipeline } = opts;
  await app.register(formbody, { bodyLimit: ctx.config.body_limit });
  for (const type of ['text/xml', 'application/xml', 'text/plain']) {
    app.addContentTypeParser(
      type,
      { parseAs: 'string', bodyLimit: ctx.config.body_limit },
      (_req, body, done) => done(null, body),
    );
  }

  async function load(request: FastifyRequest<{ Params: Params }>): Promise<Transaction> {
    const { hash } = request.params;
    const tx = isHash(hash) ? await ctx.store.getTransaction(hash) : undefined;
    if (!tx)
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: `no transaction ${hash.slice(0, 64)} in this sandbox`,
      });
    request.ktpay.transaction_hash = tx.hash;
    request.ktpay.order_id = tx.order_id;
    return tx;
  }

  /** The transaction's merchant; with Auth-Identifier sent, it must be that merchant's transaction. */
  async function ownerOf(request: FastifyRequest<{ Params: Params }>, tx: Transaction): Promise<Merchant> {
    if (request.headers['auth-identifier'] !== undefined) {
      const claimed = await resolveMerchant(request, ctx);
      await ctx.payments.getOwned(tx.hash, claimed);
      return claimed;
    }
    const m = await ctx.store.getMerchant(tx.app_id);
    if (!m)
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: `the merchant of ${tx.hash} no longer exists`,
      });
    request.ktpay.merchant = m;
    request.ktpay.app_id = m.app_id;
    return m;
  }

  // Status [mock path; spec §10 shape]: only for the owning merchant's Auth-Identifier.
  app.get<{ Params: Params }>('/payment/:hash', { config: API_ROUTE }, async (request, reply) => {
    const merchant = await resolveMerchant(request, ctx);
    request.ktpay.transaction_hash = isHash(request.params.hash) ? request.params.hash : null;
    const tx = await ctx.payments.getOwned(request.params.hash, merchant);
    request.ktpay.order_id = tx.order_id;
    if (await applyTransactionScenario('status', ctx, request, reply, tx, merchant)) return reply;
    return orCode(ErrorCode.STATUS_FAILED_5000107, () =>
      buildSuccessBody(paymentStatusOf(tx), merchant.envelope),
    );
  });

  // acquirer-options [doc]: v2 `payment_page`, or the v1 form fields for merchants on version 1.
  app.get<{ Params: Params }>(
    '/payment/:hash/acquirer-options',
    { config: API_ROUTE },
    async (request, reply) => {
      const tx = await load(request);
      const merchant = await ownerOf(request, tx);
      if (await applyTransactionScenario('acquirer_options', ctx, request, reply, tx, merchant)) return reply;
      return orCode(ErrorCode.ACQUIRER_OPTIONS_FAILED_5000106, () => {
        const origin = originOf(request, ctx.config);
        if (merchant.acquirer_options_version === 1) {
          return buildSuccessBody(
            {
              ...configuredUrls(tx, merchant, origin),
              signed_order: signedOrderOf(tx, merchant),
              action: `${origin}${paths.v1Action()}`,
              language: 'rus',
              post_link: `${origin}${paths.postLink(tx.hash)}`,
              back_link: `${origin}${paths.backLink(tx.hash)}`,
              template: 'ktwidget_pay_kt.xsl',
            },
            merchant.envelope,
          );
        }
        return buildSuccessBody({ payment_page: `${origin}${paths.payform(tx.hash)}` }, merchant.envelope);
      });
    },
  );

  // post-link [doc path]: the bank's signed result notice (form field `response`, or the XML as the body).
  app.post<{ Params: Params; Body: unknown }>(
    '/payment/:hash/post-link',
    { config: API_ROUTE },
    async (request, reply) => {
      const tx = await load(request);
      await ownerOf(request, tx);
      const body = request.body;
      const xml =
        typeof body === 'string'
          ? body
          : body && typeof body === 'object' && typeof (body as Record<string, unknown>).response === 'string'
            ? ((body as Record<string, unknown>).response as string)
            : '';
      if (!xml.trim()) {
        throw new KtpayError(ErrorCode.BAD_DATA_4220101, {
          diagnostic: 'post-link expects the bank notice XML, as the form field `response` or as the body',
        });
      }
      await pipeline.acceptNotice(tx.hash, xml);
      return reply.type('text/plain; charset=utf-8').send('0');
    },
  );

  // back-link [doc path]: where the bank returns the shopper. A force URL skips the receipt page.
  app.get<{ Params: Params }>('/payment/:hash/back-link', { config: API_ROUTE }, async (request, reply) => {
    const tx = await load(request);
    const merchant = await ownerOf(request, tx);
    const t = resultTargets(tx, merchant, originOf(request, ctx.config));
    const exit = (url: string, r: FastifyReply) =>
      r.redirect(tx.acquirer?.framed ? paths.redirect(tx.hash) : url, 303);
    if (t.outcome === 'pending') return exit(t.backUrl, reply);
    if (t.forceUrl) return exit(t.forceUrl, reply);
    return reply.redirect(paths.receipt(tx.hash), 303);
  });
}
