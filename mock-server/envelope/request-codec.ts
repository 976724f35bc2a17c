import { ErrorCode } from '../../contracts/error-catalog.js';
import type { SealedBoxOpener } from '../crypto/sealed-box.js';
import { appKeyOf, isKeyExpired, type Merchant } from '../merchants/merchant.js';
import { KtpayError } from './ktpay-error.js';
import { refuseDeepPayload } from './payload-depth.js';
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
 * The merchant's live server keys are tried first, then its expired ones (a box that opens only
 * with an expired key is 4220104), all in one `openFirst` call: on a worker thread when the
 * sandbox has crypto workers.
 *
 * @example
 * await ctx.sealedBox.ready();
 * const { payload } = await openRequestBody(rawBody, merchant, Date.now(), ctx.sealedBox, request.ktpay.warnings);
 */
export async function openRequestBody(
  raw: string,
  merchant: Merchant,
  now: number,
  opener: Pick<SealedBoxOpener, 'openFirst'>,
  warnings: string[] = [],
): Promise<OpenedRequest> {
  const body = readSealedBody(raw);
  if (body.warnings.length > 0) warnings.push(...body.warnings);
  const { cipher } = body;

  const live = merchant.server_keys.filter((k) => !isKeyExpired(k, now));
  const expired = merchant.server_keys.filter((k) => isKeyExpired(k, now));
  const keypairs = [...live, ...expired].map((k) => ({ publicKey: k.public_key, secretKey: k.secret_key }));
  const found = await opener.openFirst(cipher, keypairs);
  if (found && found.index >= live.length) {
    throw new KtpayError(ErrorCode.KEY_EXPIRED_4220104, {
      diagnostic: `the body was sealed to a server key that has expired; seal to the current app_key ${appKeyOf(merchant, now)}`,
    });
  }
  if (!found) {
    throw new KtpayError(ErrorCode.BAD_ENCRYPTION_4220102, {
      diagnostic: `sealed to a key this sandbox does not hold for app_id ${merchant.app_id}: is app_key set to ${appKeyOf(merchant, now)}?`,
    });
  }
  const { plaintext } = found;
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
  refuseDeepPayload(plaintext, parsed);
  return { payload: parsed as Record<string, unknown>, plaintext };
}
