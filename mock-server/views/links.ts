import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { SandboxConfig } from '../config/load-config.js';
import type { Merchant } from '../merchants/merchant.js';
import type { Transaction } from '../payments/transaction.js';

export const API_PREFIX = '/api/v1/merchant-widget';

/** A Host value: a name or IPv4 address, or a bracketed IPv6 address, then an optional port. */
const HOST_HEADER = /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The origin the client addressed: its scheme and Host, so a shopper who came to
 * `https://widget.test.nplus.tech` is sent on within it. `trustProxy` makes X-Forwarded-Proto and
 * X-Forwarded-Host count (a proxy in front). Both are the client's own words, which is why these
 * links go only into the answer to that same request; a scheme other than http(s), or a Host that
 * is not `name[:port]`, is not used: the connection's own scheme and local address are.
 */
export function requestOrigin(request: FastifyRequest): string {
  const socket = request.raw.socket as (Socket & { encrypted?: boolean }) | undefined;
  const own = socket?.encrypted ? 'https' : 'http';
  const scheme = request.protocol === 'https' || request.protocol === 'http' ? request.protocol : own;
  const host = request.host;
  if (typeof host === 'string' && HOST_HEADER.test(host)) return `${scheme}://${host}`;
  // IPv4 on a dual-stack socket reads as ::ffff:127.0.0.1.
  const address = socket?.localAddress?.replace(/^::ffff:(?=\d+\.)/, '');
  if (!address || !socket) return `${scheme}://localhost`;
  return `${scheme}://${address.includes(':') ? `[${address}]` : address}:${socket.localPort}`;
}

/**
 * The origin of links the sandbox hands out in an answer: the request's own
 * ({@link requestOrigin}), or `public_url` when it is configured and the request came over plain
 * HTTP. Answers on the HTTPS listener always follow their request: that listener answers as the
 * names in its certificate (the ktpay test hosts), and a shopper there must stay there.
 */
export function originOf(request: FastifyRequest, config: SandboxConfig): string {
  if (config.public_url && !(request.raw.socket as { encrypted?: boolean } | undefined)?.encrypted)
    return config.public_url.replace(/\/+$/, '');
  return requestOrigin(request);
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
