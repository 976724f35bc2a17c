import { ErrorCode } from '../../contracts/error-catalog.js';
import { openSealed, type SealedBoxOpener } from '../crypto/sealed-box.js';
import { appKeyOf, isKeyExpired, type Merchant } from '../merchants/merchant.js';
import { KtpayError } from './ktpay-error.js';
import { readSealedBody } from './sealed-body-text.js';

export interface OpenedRequest {
  /** The decrypted JSON object. */
  payload: Record<string, unknown>;
  /** The plaintext, for the journal when it is not JSON. */
  plaintext: string;
}

/**
 * Opens a create/cancel/refund body (spec §2): base64 text (see {@link readSealedBody} for what is
 * tolerated) → sealed box → JSON object. Any failure becomes the documented code, with a sandbox
 * diagnostic for the hint. Encoding warnings go to `warnings` before anything can fail, so the
 * journal keeps them even when the box then does not open.
 *
 * @example
 * const { payload } = openRequestBody(rawBody, merchant, Date.now(), ctx.sealedBox.open, request.ktpay.warnings);
 */
export function openRequestBody(
  raw: string,
  merchant: Merchant,
  now: number,
  open: SealedBoxOpener['open'] = openSealed,
  warnings: string[] = [],
): OpenedRequest {
  const body = readSealedBody(raw);
  if (body.warnings.length > 0) warnings.push(...body.warnings);
  const { cipher } = body;

  let opened: Uint8Array | undefined;
  let openedByExpired = false;
  const live = merchant.server_keys.filter((k) => !isKeyExpired(k, now));
  const expired = merchant.server_keys.filter((k) => isKeyExpired(k, now));
  for (const key of live) {
    opened = open(cipher, { publicKey: key.public_key, secretKey: key.secret_key });
    if (opened) break;
  }
  if (!opened) {
    for (const key of expired) {
      opened = open(cipher, { publicKey: key.public_key, secretKey: key.secret_key });
      if (opened) {
        openedByExpired = true;
        break;
      }
    }
  }
  if (openedByExpired) {
    throw new KtpayError(ErrorCode.KEY_EXPIRED_4220104, {
      diagnostic: `the body was sealed to a server key that has expired; seal to the current app_key ${appKeyOf(merchant, now)}`,
    });
  }
  if (!opened) {
    throw new KtpayError(ErrorCode.BAD_ENCRYPTION_4220102, {
      diagnostic: `sealed to a key this sandbox does not hold for app_id ${merchant.app_id}: is app_key set to ${appKeyOf(merchant, now)}?`,
    });
  }
  const plaintext = Buffer.from(opened).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch {
    throw new KtpayError(ErrorCode.BAD_DATA_4220101, {
      diagnostic: 'the sealed box opened, but its plaintext is not JSON',
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new KtpayError(ErrorCode.BAD_DATA_4220101, {
      diagnostic: `the sealed box opened, but its plaintext is ${Array.isArray(parsed) ? 'an array' : typeof parsed}, not a JSON object`,
    });
  }
  return { payload: parsed as Record<string, unknown>, plaintext };
}
