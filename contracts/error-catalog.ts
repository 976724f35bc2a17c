import { readFileSync } from 'node:fs';
import { packagePath } from './package-root.js';

/** One ktpay-level error code, as data (contracts/data/error-catalog.json). */
export interface KtpayErrorEntry {
  code: number;
  message: string;
  message_en?: string;
  hint: string;
  where: string;
  documented: boolean;
  http_status: number;
  validation_example?: Record<string, string[]>;
}

export interface AcquirerErrorGroup {
  codes: string[];
  message: string;
}

export interface ErrorCatalog {
  ktpay: KtpayErrorEntry[];
  acquirer: AcquirerErrorGroup[];
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(packagePath('contracts', 'data', file), 'utf8')) as T;
}

/** The catalog, read once from `contracts/data/` (from source, `dist/` or the bundled CLI alike). */
export const errorCatalog: ErrorCatalog = readJson<ErrorCatalog>('error-catalog.json');

/** Loads a data file from `contracts/data/` whether running from source or from `dist/`. */
export function readContractData<T>(file: string): T {
  return readJson<T>(file);
}

/** Named constants for the codes the code base raises; the texts stay in the data file. */
export const ErrorCode = {
  INTERNAL_5000001: 5000001,
  CREATE_FAILED_5000105: 5000105,
  ACQUIRER_OPTIONS_FAILED_5000106: 5000106,
  STATUS_FAILED_5000107: 5000107,
  RECEIPT_FAILED_5000109: 5000109,
  RECEIPT_MODULE_FAILED_5000110: 5000110,
  UNKNOWN_APP_ID_4010103: 4010103,
  VALIDATION_4220002: 4220002,
  BAD_DATA_4220101: 4220101,
  BAD_ENCRYPTION_4220102: 4220102,
  APP_ID_VALIDATION_4220103: 4220103,
  KEY_EXPIRED_4220104: 4220104,
  TRANSACTION_NOT_FOUND_4040108: 4040108,
  NOT_ALLOWED_IN_STATUS_4090111: 4090111,
  REFUND_EXCEEDS_REMAINDER_4220112: 4220112,
  RECEIPT_UNPAID_4090113: 4090113,
  INVALID_REFUND_AMOUNT_4220114: 4220114,
  CANCEL_AFTER_CLEARING_4090115: 4090115,
  REFUND_BEFORE_CLEARING_4090116: 4090116,
  ROUTE_NOT_FOUND_4040119: 4040119,
  BODY_TOO_LARGE_4130120: 4130120,
  RATE_LIMITED_4290118: 4290118,
  ADMIN_TOKEN_REQUIRED_4010121: 4010121,
  ADMIN_VALIDATION_4220122: 4220122,
  MERCHANT_NOT_FOUND_4040123: 4040123,
  SCENARIO_NOT_FOUND_4040124: 4040124,
  CALLBACK_NOT_FOUND_4040125: 4040125,
  HEADERS_TOO_LARGE_4310126: 4310126,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];
