import type { FastifyError, FastifyInstance } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { catalogEntry, KtpayError } from '../envelope/ktpay-error.js';
import '../request-state.js';
import { errorPage } from './widget-views.js';

function asKtpayError(err: FastifyError | KtpayError): KtpayError {
  if (err instanceof KtpayError) return err;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new KtpayError(ErrorCode.BODY_TOO_LARGE_4130120, { diagnostic: err.message });
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new KtpayError(ErrorCode.BAD_DATA_4220101, { diagnostic: err.message });
  }
  return new KtpayError(ErrorCode.INTERNAL_5000001, {
    diagnostic: 'the sandbox hit an unexpected error; see its log',
  });
}

/**
 * HTML pages answer errors as HTML: the catalog code, its message and hint (plus the sandbox's
 * diagnostic), with the catalog's HTTP status. Never a bare 500.
 */
export function usePageErrors(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | KtpayError, request, reply) => {
    const err = asKtpayError(error);
    if (err.code === ErrorCode.INTERNAL_5000001)
      request.log.error({ err: error }, 'unexpected error on a page');
    const entry = catalogEntry(err.code);
    if (request.ktpay) {
      request.ktpay.error_code = err.code;
      request.ktpay.explanation = err.diagnostic ?? null;
    }
    const hint = err.diagnostic ? `${entry.hint} Sandbox: ${err.diagnostic}` : entry.hint;
    return reply
      .code(entry.http_status)
      .type('text/html; charset=utf-8')
      .send(errorPage({ code: err.code, message: entry.message, hint }));
  });
}
