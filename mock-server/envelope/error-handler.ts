import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { SandboxConfig } from '../config/load-config.js';
import type { Merchant } from '../merchants/merchant.js';
import { buildErrorReply, KtpayError, type Dialect, type FieldMessages } from './ktpay-error.js';
import '../request-state.js';

/** The merchant with this app_id, if any (the merchant registry's `get`). */
export type MerchantLookup = (appId: string) => Promise<Merchant | undefined>;

const isAdmin = (request: FastifyRequest) => request.routeOptions.config?.surface === 'admin';

/**
 * The merchant a request is for: the one a route resolved, else the one its `Auth-Identifier`
 * names. So an error raised before any route code runs (body parsing, 413, an unusable path, an
 * unknown route under the API) still answers in that merchant's dialect and locale. A merchant
 * found this way is noted for the journal. A store that fails here leaves the default dialect: the
 * error being answered matters more.
 */
async function merchantOf(
  request: FastifyRequest,
  lookup: MerchantLookup | undefined,
): Promise<Merchant | undefined> {
  const known = request.ktpay?.merchant;
  if (known || !lookup || isAdmin(request)) return known;
  const header = request.headers['auth-identifier'];
  const appId = typeof header === 'string' ? header.trim() : '';
  const merchant = appId ? await lookup(appId).catch(() => undefined) : undefined;
  if (merchant && request.ktpay) {
    request.ktpay.merchant = merchant;
    request.ktpay.app_id = merchant.app_id;
  }
  return merchant;
}

/** The dialect a reply uses: the admin API's, else the merchant's when known, else the configured default. */
function dialectOf(request: FastifyRequest, config: SandboxConfig, merchant: Merchant | undefined): Dialect {
  if (isAdmin(request)) return 'reference';
  return merchant?.envelope ?? config.envelope;
}

/**
 * Sends a catalog error in the request's dialect and notes it for the journal. With `lookup`, a
 * request no route has resolved yet gets the dialect of the merchant its `Auth-Identifier` names.
 */
export async function sendKtpayError(
  request: FastifyRequest,
  reply: FastifyReply,
  err: KtpayError,
  config: SandboxConfig,
  lookup?: MerchantLookup,
): Promise<FastifyReply> {
  const merchant = await merchantOf(request, lookup);
  const out = buildErrorReply(err.code, dialectOf(request, config, merchant), {
    validation: err.validation,
    diagnostic: err.diagnostic,
    locale: merchant?.locale ?? 'ru',
  });
  if (request.ktpay) {
    request.ktpay.error_code = err.code;
    request.ktpay.explanation = err.diagnostic ?? null;
  }
  return reply.code(out.statusCode).type('application/json; charset=utf-8').send(out.body);
}

/** ajv errors of an admin request as the `validation` object of 4220122: field path → messages. */
export function adminValidationFields(
  errors: ReadonlyArray<{ instancePath: string; params?: unknown; message?: string | undefined }>,
): FieldMessages {
  const validation: FieldMessages = {};
  for (const v of errors) {
    const base = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const extra = (v.params as { missingProperty?: string; additionalProperty?: string }) ?? {};
    const field =
      [base, extra.missingProperty ?? extra.additionalProperty].filter(Boolean).join('.') || 'body';
    (validation[field] ??= []).push(v.message ?? 'invalid');
  }
  return validation;
}

function fromFastifyError(err: FastifyError): KtpayError | undefined {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new KtpayError(ErrorCode.BODY_TOO_LARGE_4130120, { diagnostic: err.message });
  }
  if (err.validation) {
    return new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
      validation: adminValidationFields(err.validation),
      diagnostic: err.message,
    });
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new KtpayError(ErrorCode.BAD_DATA_4220101, { diagnostic: err.message });
  }
  return undefined;
}

/**
 * The one error handler: catalog errors in the merchant's dialect (the merchant `lookup` finds by
 * `Auth-Identifier` when no route has resolved one), Fastify's own 4xx mapped to catalog codes,
 * anything unexpected logged and answered with 5000001 (never a bare 500 page).
 */
export const errorHandler = fp(
  async function errorHandler(
    app: FastifyInstance,
    opts: { config: SandboxConfig; lookup?: MerchantLookup },
  ) {
    const { config, lookup } = opts;
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const known = error instanceof KtpayError ? error : fromFastifyError(error);
      if (known) return sendKtpayError(request, reply, known, config, lookup);
      request.log.error({ err: error }, 'unexpected error');
      return sendKtpayError(
        request,
        reply,
        new KtpayError(ErrorCode.INTERNAL_5000001, {
          diagnostic: 'the sandbox hit an unexpected error; see its log',
        }),
        config,
        lookup,
      );
    });
    app.setNotFoundHandler((request, reply) =>
      sendKtpayError(
        request,
        reply,
        new KtpayError(ErrorCode.ROUTE_NOT_FOUND_4040119, {
          diagnostic: `no route ${request.method} ${request.url.split('?')[0]}; the merchant API is under /api/v1/merchant-widget (create: POST /api/v1/merchant-widget/payment)`,
        }),
        config,
        lookup,
      ),
    );
  },
  { name: 'error-handler' },
);
