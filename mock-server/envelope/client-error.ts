import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { SandboxConfig } from '../config/load-config.js';
import { buildErrorReply } from './ktpay-error.js';

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
