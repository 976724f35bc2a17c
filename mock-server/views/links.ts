import type { FastifyRequest } from 'fastify';
import type { SandboxConfig } from '../config/load-config.js';
import type { Merchant } from '../merchants/merchant.js';
import type { Transaction } from '../payments/transaction.js';

export const API_PREFIX = '/api/v1/merchant-widget';

/**
 * The origin of links the sandbox hands out: `public_url` when configured, else the request's own
 * origin (protocol and Host; `trustProxy` makes X-Forwarded-* count behind a proxy).
 */
export function originOf(request: FastifyRequest, config: SandboxConfig): string {
  if (config.public_url) return config.public_url.replace(/\/+$/, '');
  return `${request.protocol}://${request.host}`;
}

/** Paths of the shopper-facing pages, relative to the origin. */
export const paths = {
  widget: (hash: string) => `/payment-card?hash=${hash}`,
  receipt: (hash: string) => `/payment-card/receipt?hash=${hash}`,
  done: (hash: string) => `/payment-card/done?hash=${hash}`,
  redirect: (hash: string) => `/payment-card/redirect?hash=${hash}`,
  close: (hash: string) => `/payment-card/close?hash=${hash}`,
  payform: (hash: string) => `/acquirer/payform?params=${hash}`,
  acs: (hash: string) => `/acquirer/3ds?params=${hash}`,
  v1Action: () => '/acquirer/epay/logon',
  backLink: (hash: string) => `${API_PREFIX}/payment/${hash}/back-link`,
  postLink: (hash: string) => `${API_PREFIX}/payment/${hash}/post-link`,
  pdf: (hash: string) => `${API_PREFIX}/payment/${hash}/pdf`,
} as const;

export const isHash = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{40}$/.test(v);

export type Outcome = 'success' | 'failed' | 'pending';

export function outcomeOf(tx: Pick<Transaction, 'status'>): Outcome {
  switch (tx.status) {
    case 'pending':
      return 'pending';
    case 'error':
    case 'denied':
    case 'cancelled':
      return 'failed';
    default:
      return 'success';
  }
}

export interface ResultTargets {
  outcome: Outcome;
  /** Where "Продолжить" leads: success/failed URL, then back URL (transaction, then merchant), then the sandbox's default page. */
  continueUrl: string;
  /** A `callback_force_*` URL that skips the receipt page, if the transaction set one for this outcome. */
  forceUrl: string | undefined;
  /** Where the close button leads without JavaScript. */
  backUrl: string;
}

/**
 * The redirect targets of a transaction [doc precedence: the transaction's URL wins, then the
 * merchant's; mock: then the sandbox's default page].
 *
 * @example
 * resultTargets(tx, merchant, 'http://127.0.0.1:8077').continueUrl
 */
export function resultTargets(
  tx: Transaction,
  merchant: Merchant | undefined,
  origin: string,
): ResultTargets {
  const outcome = outcomeOf(tx);
  const u = tx.urls;
  const defaultPage = `${origin}${paths.done(tx.hash)}`;
  const back = u.callback_back_url ?? merchant?.callback_back_url;
  const backUrl = u.callback_force_back_url ?? back ?? defaultPage;
  if (outcome === 'pending') return { outcome, continueUrl: backUrl, forceUrl: undefined, backUrl };
  const specific =
    outcome === 'success'
      ? (u.callback_success_url ?? merchant?.callback_success_url)
      : (u.callback_failed_url ?? merchant?.callback_failed_url);
  const force = outcome === 'success' ? u.callback_force_success_url : u.callback_force_failed_url;
  return {
    outcome,
    continueUrl: specific ?? back ?? defaultPage,
    forceUrl: force ?? u.callback_force_back_url,
    backUrl,
  };
}

/**
 * The redirect URLs as configured before any result, for acquirer-options v1: each is the
 * transaction's, else the merchant's, else the sandbox default page; success and failed fall back
 * to the back URL first.
 */
export function configuredUrls(tx: Transaction, merchant: Merchant | undefined, origin: string) {
  const u = tx.urls;
  const back = u.callback_back_url ?? merchant?.callback_back_url ?? `${origin}${paths.done(tx.hash)}`;
  return {
    callback_back_url: back,
    callback_success_url: u.callback_success_url ?? merchant?.callback_success_url ?? back,
    callback_failed_url: u.callback_failed_url ?? merchant?.callback_failed_url ?? back,
  };
}
