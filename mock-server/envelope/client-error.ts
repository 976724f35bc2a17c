import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { SandboxConfig } from '../config/load-config.js';
import { sendKtpayError, type MerchantLookup } from './error-handler.js';
import { buildErrorReply, KtpayError } from './ktpay-error.js';

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before any route runs. A request
 * head over `max_header_size` (Node's `maxHeaderSize`) gets 431 with the catalog's `4310126` in the
 * configured default dialect (the merchant is not known yet); a timeout gets 408 and any other
 * malformed request 400, as Fastify's default handler answers them.
 *
 * @example
 * Fastify({ http: { maxHeaderSize: config.max_header_size }, clientErrorHandler: clientErrorHandler(config) });
 */
export function clientErrorHandler(config: SandboxConfig) {
  return function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    // A reset connection is gone; there is nobody to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    let status: number;
    let body: string;
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      const reply = buildErrorReply(ErrorCode.HEADERS_TOO_LARGE_4310126, config.envelope, {
        diagnostic: `the request line and headers exceed ${config.max_header_size} bytes (MAX_HEADER_SIZE)`,
      });
      status = reply.statusCode;
      body = JSON.stringify(reply.body);
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      body = '{"error":"Request Timeout","message":"Client Timeout","statusCode":408}';
    } else {
      status = 400;
      body = '{"error":"Bad Request","message":"Client Error","statusCode":400}';
    }
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}

/**
 * Fastify's `frameworkErrors`: a path the router cannot use — bad percent-encoding
 * (`FST_ERR_BAD_URL`) or a path parameter over Fastify's 100-character limit
 * (`FST_ERR_MAX_PARAM_LENGTH`) — matches no route, so it gets the catalog's `4040119` like any
 * unknown route, instead of Fastify's own 400/414 body, in the dialect of the merchant the
 * `Auth-Identifier` names (`lookup`).
 */
export function frameworkErrorHandler(config: SandboxConfig, lookup?: MerchantLookup) {
  return function onFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const path = request.raw.url?.split('?')[0] ?? '';
    const why =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'a path segment is longer than 100 characters'
        : error.code === 'FST_ERR_BAD_URL'
          ? 'the path is not valid percent-encoding'
          : error.message;
    return sendKtpayError(
      request,
      reply,
      new KtpayError(ErrorCode.ROUTE_NOT_FOUND_4040119, {
        diagnostic: `no route for ${request.raw.method} ${path.slice(0, 120)}: ${why}`,
      }),
      config,
      lookup,
    );
  };
}
