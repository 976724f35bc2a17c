import { errorCatalog, type ErrorCodeValue, type KtpayErrorEntry } from '../../contracts/error-catalog.js';

export type Dialect = 'reference' | 'widget';
export type Locale = 'ru' | 'en';

/** Field path (e.g. `order.amount`) → messages, as in the reference dialect's `validation`. */
export type FieldMessages = Record<string, string[]>;

/**
 * An error the sandbox answers with. Thrown from anywhere below the routes; the error handler
 * turns it into the merchant's dialect through {@link buildErrorReply}.
 *
 * @example
 * throw new KtpayError(ErrorCode.BAD_DATA_4220101, { diagnostic: 'the body is empty' });
 */
export class KtpayError extends Error {
  readonly code: number;
  readonly validation: FieldMessages | undefined;
  readonly diagnostic: string | undefined;
  /** What the journal shows as the decrypted body when the request failed before a route noted one. */
  readonly decrypted: unknown;

  constructor(
    code: ErrorCodeValue | number,
    opts: { validation?: FieldMessages; diagnostic?: string; decrypted?: unknown } = {},
  ) {
    super(`ktpay error ${code}${opts.diagnostic ? `: ${opts.diagnostic}` : ''}`);
    this.name = 'KtpayError';
    this.code = code;
    this.validation = opts.validation;
    this.diagnostic = opts.diagnostic;
    this.decrypted = opts.decrypted;
  }
}

const byCode = new Map<number, KtpayErrorEntry>(errorCatalog.ktpay.map((e) => [e.code, e]));

export function catalogEntry(code: number): KtpayErrorEntry {
  const entry = byCode.get(code);
  if (!entry) throw new Error(`error code ${code} is not in contracts/data/error-catalog.json`);
  return entry;
}

export interface ErrorReply {
  statusCode: number;
  body: Record<string, unknown>;
}

/**
 * The one factory that turns a catalog code into a wire body for a dialect (spec §5).
 * Documented codes keep their Russian text in every locale; [mock] codes have English too.
 *
 * @example
 * buildErrorReply(4220101, 'reference', {}).body
 * // { success: false, error: { code: 4220101, message: 'Некорректный формат…', hint: '…' } }
 */
export function buildErrorReply(
  code: number,
  dialect: Dialect,
  opts: { validation?: FieldMessages | undefined; diagnostic?: string | undefined; locale?: Locale },
): ErrorReply {
  const entry = catalogEntry(code);
  const message = opts.locale === 'en' && entry.message_en ? entry.message_en : entry.message;
  const hint = opts.diagnostic ? `${entry.hint} Sandbox: ${opts.diagnostic}` : entry.hint;
  const isValidation = String(code).startsWith('422');
  const validation = isValidation ? (opts.validation ?? entry.validation_example) : undefined;
  if (dialect === 'widget') {
    const messages: Record<string, string> = {};
    if (validation && Object.keys(validation).length > 0) {
      for (const [field, list] of Object.entries(validation)) messages[field] = list.join(' ');
    } else {
      messages.error = message;
    }
    return {
      statusCode: entry.http_status,
      body: {
        success: false,
        data: [],
        error: { code, messages, hint },
        response: { success: false, data: [] },
      },
    };
  }
  const error: Record<string, unknown> = { code, message };
  if (validation && Object.keys(validation).length > 0) error.validation = validation;
  error.hint = hint;
  return { statusCode: entry.http_status, body: { success: false, error } };
}

/** The success envelope for a dialect. */
export function buildSuccessBody(
  payload: Record<string, unknown>,
  dialect: Dialect,
): Record<string, unknown> {
  return dialect === 'widget'
    ? { error: [], response: { success: true, data: payload } }
    : { success: true, payload };
}
