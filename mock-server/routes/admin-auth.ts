import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { SandboxConfig } from '../config/load-config.js';
import { KtpayError } from '../envelope/ktpay-error.js';

/** Compares two secrets in constant time. */
export function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The dashboard's session cookie (HttpOnly, SameSite=Strict, Path=/__admin) [mock]. */
export const DASHBOARD_COOKIE = 'ktpay_mock_admin';

/** Sent by the dashboard's own scripts on state-changing admin calls authenticated by the cookie. */
export const DASHBOARD_HEADER = 'x-ktpay-dashboard';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The session cookie's value for a token: an HMAC keyed by the token, so the cookie never holds
 * the token itself, cannot be made without it, and stops working when ADMIN_TOKEN changes.
 *
 * @example
 * dashboardSessionValue('s3cret'); // 43 base64url characters
 */
export function dashboardSessionValue(token: string): string {
  return createHmac('sha256', token).update('ktpay-mock dashboard session v1').digest('base64url');
}

/** The Set-Cookie header that opens (or, with `clear`, ends) a dashboard session. */
export function dashboardSessionCookie(token: string, opts: { secure: boolean; clear?: boolean }): string {
  return stringifySetCookie({
    name: DASHBOARD_COOKIE,
    value: opts.clear ? '' : dashboardSessionValue(token),
    path: '/__admin',
    httpOnly: true,
    sameSite: 'strict',
    secure: opts.secure,
    ...(opts.clear ? { maxAge: 0 } : {}),
  });
}

/** Whether the request carries the dashboard session cookie for `token`. */
export function hasDashboardSession(request: FastifyRequest, token: string): boolean {
  const header = request.headers.cookie;
  if (!header) return false;
  const value = parseCookie(header)[DASHBOARD_COOKIE];
  return value !== undefined && sameToken(value, dashboardSessionValue(token));
}

/**
 * Whether a request may use the admin surface: `Authorization: Bearer <token>`, or the dashboard's
 * session cookie. A state-changing call on the cookie alone must also send `X-Ktpay-Dashboard: 1`,
 * which a cross-site form cannot (SameSite=Strict already keeps the cookie off cross-site
 * requests; this is the second lock).
 */
export function hasAdminCredentials(request: FastifyRequest, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
  if (match && sameToken(match[1]!.trim(), token)) return true;
  return (
    hasDashboardSession(request, token) &&
    (SAFE_METHODS.has(request.method) || request.headers[DASHBOARD_HEADER] === '1')
  );
}

/**
 * An onRequest hook for every /__admin route: once ADMIN_TOKEN is set, a request needs
 * `Authorization: Bearer <token>` or the dashboard's session ({@link hasAdminCredentials}).
 */
export function adminAuthHook(config: SandboxConfig) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const expected = config.admin_token;
    if (!expected) return;
    if (hasAdminCredentials(request, expected)) return;
    throw new KtpayError(ErrorCode.ADMIN_TOKEN_REQUIRED_4010121, {
      diagnostic:
        'this sandbox runs with ADMIN_TOKEN: send Authorization: Bearer <token> (or sign in to the dashboard at /__admin/ui)',
    });
  };
}
