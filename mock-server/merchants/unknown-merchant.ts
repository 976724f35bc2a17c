import { ErrorCode } from '../../contracts/error-catalog.js';
import { KtpayError, type Dialect } from '../envelope/ktpay-error.js';

const UNKNOWN_APP_ID = 'Неверный/несуществующий идентификатор приложения мерчанта.';

/**
 * The documented answer to an app_id the sandbox does not hold: 4220103 with `validation.app_id`
 * in the reference dialect, 4010103 in the widget dialect (spec §5). `dialect` is the sandbox's
 * default (ENVELOPE): an unknown merchant has none of its own.
 *
 * @example
 * throw unknownMerchantError(config.envelope, `no merchant with app_id ${appId}`);
 */
export function unknownMerchantError(dialect: Dialect, diagnostic: string): KtpayError {
  if (dialect === 'widget') return new KtpayError(ErrorCode.UNKNOWN_APP_ID_4010103, { diagnostic });
  return new KtpayError(ErrorCode.APP_ID_VALIDATION_4220103, {
    validation: { app_id: [UNKNOWN_APP_ID] },
    diagnostic,
  });
}
