import { ErrorCode } from '../../contracts/error-catalog.js';
import { clipDepth, jsonTextDepth, jsonTextExceeds, MAX_JSON_DEPTH } from '../shared/json-depth.js';
import { KtpayError } from './ktpay-error.js';

/**
 * Refuses a decrypted payload nested deeper than {@link MAX_JSON_DEPTH} levels with 4220101
 * (issue 22). A normal order costs a few `indexOf` calls (0.14 µs measured on the bench's
 * 373-character order); only a text with more than 64 brackets is scanned. The journal still gets the
 * payload, cut at the limit, so the developer sees what arrived and where it went too deep.
 *
 * @example
 * refuseDeepPayload(plaintext, parsed); // throws KtpayError 4220101 for `{"x":[[[…20,000…]]]}`
 */
export function refuseDeepPayload(plaintext: string, parsed: unknown): void {
  if (!jsonTextExceeds(plaintext)) return;
  throw new KtpayError(ErrorCode.BAD_DATA_4220101, {
    diagnostic: `the decrypted JSON is nested ${jsonTextDepth(plaintext)} levels deep; the sandbox accepts at most ${MAX_JSON_DEPTH} levels of objects and arrays (a ktpay order needs 3)`,
    decrypted: clipDepth(parsed, MAX_JSON_DEPTH),
  });
}
