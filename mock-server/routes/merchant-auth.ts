import type { FastifyRequest } from 'fastify';
import type { Merchant } from '../merchants/merchant.js';
import { unknownMerchantError } from '../merchants/unknown-merchant.js';
import type { SandboxContext } from '../sandbox-context.js';

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
  throw unknownMerchantError(ctx.config.envelope, diagnostic);
}
