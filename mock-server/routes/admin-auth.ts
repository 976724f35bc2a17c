import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { SandboxConfig } from '../config/load-config.js';
import { KtpayError } from '../envelope/ktpay-error.js';

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * An onRequest hook for every /__admin route: once ADMIN_TOKEN is set, a request needs
 * `Authorization: Bearer <token>`.
 */
export function adminAuthHook(config: SandboxConfig) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const expected = config.admin_token;
    if (!expected) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match && sameToken(match[1]!.trim(), expected)) return;
    throw new KtpayError(ErrorCode.ADMIN_TOKEN_REQUIRED_4010121, {
      diagnostic: 'this sandbox runs with ADMIN_TOKEN: send Authorization: Bearer <token>',
    });
  };
}
