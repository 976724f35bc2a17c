import type { FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { Merchant } from '../merchants/merchant.js';
import type { SandboxContext } from '../sandbox-context.js';

const UNKNOWN_APP_ID = 'Неверный/несуществующий идентификатор приложения мерчанта.';

/**
 * The merchant named by `Auth-Identifier`, or the documented unknown-app_id error: 4220103 with
 * `validation.app_id` in the reference dialect, 4010103 in the widget dialect (spec §5).
 */
export async function resolveMerchant(request: FastifyRequest, ctx: SandboxContext): Promise<Merchant> {
  const raw = request.headers['auth-identifier'];
  const appId = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).trim();
  request.ktpay.app_id = appId || null;
  const merchant = appId ? await ctx.merchants.get(appId) : undefined;
  if (merchant) {
    request.ktpay.merchant = merchant;
    return merchant;
  }
  const diagnostic = !appId
    ? 'the Auth-Identifier header is missing: send Auth-Identifier: <app_id>'
    : Array.isArray(raw)
      ? 'Auth-Identifier was sent more than once'
      : `no merchant with app_id ${appId.slice(0, 64)} in this sandbox (GET /__admin/merchants lists them)`;
  if (ctx.config.envelope === 'widget')
    throw new KtpayError(ErrorCode.UNKNOWN_APP_ID_4010103, { diagnostic });
  throw new KtpayError(ErrorCode.APP_ID_VALIDATION_4220103, {
    validation: { app_id: [UNKNOWN_APP_ID] },
    diagnostic,
  });
}
