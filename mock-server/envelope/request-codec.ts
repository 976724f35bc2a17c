import { ErrorCode } from '../../contracts/error-catalog.js';
import { decodeOriginalBase64, openSealed, type SealedBoxOpener } from '../crypto/sealed-box.js';
import { appKeyOf, isKeyExpired, type Merchant } from '../merchants/merchant.js';
import { KtpayError } from './ktpay-error.js';
import { refuseDeepPayload } from './payload-depth.js';

export interface OpenedRequest {
  /** The decrypted JSON object. */
  payload: Record<string, unknown>;
  /** The plaintext, for the journal when it is not JSON. */
  plaintext: string;
}

/** Why a body is not ORIGINAL base64, in words a developer can act on. */
function explainBadBase64(text: string): string {
  if (text.length === 0)
    return 'the request body is empty: send the base64 of crypto_box_seal(json, app_key)';
  if (/^[\s]*[{[]/.test(text))
    return 'the body looks like plain JSON: seal it with crypto_box_seal and base64-encode it first';
  if (/[-_]/.test(text) && /^[A-Za-z0-9\-_=]+$/.test(text))
    return 'the body is URL-safe base64 (it has - or _): use the ORIGINAL variant (sodium.base64_variants.ORIGINAL)';
  if (/^[A-Za-z0-9+/]+$/.test(text) && text.length % 4 !== 0)
    return 'the base64 has no = padding: use the ORIGINAL variant, which pads';
  return 'the body is not base64 text';
}

/**
 * Opens a create/cancel/refund body (spec §2): trimmed base64 → sealed box → JSON object.
 * Any failure becomes the documented code, with a sandbox diagnostic for the hint.
 *
 * @example
 * const { payload } = openRequestBody(rawBody, merchant, Date.now(), ctx.sealedBox.open);
 */
export function openRequestBody(
  raw: string,
  merchant: Merchant,
  now: number,
  open: SealedBoxOpener['open'] = openSealed,
): OpenedRequest {
  const text = raw.trim();
  const cipher = decodeOriginalBase64(text);
  if (!cipher) throw new KtpayError(ErrorCode.BAD_DATA_4220101, { diagnostic: explainBadBase64(text) });

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
  refuseDeepPayload(plaintext, parsed);
  return { payload: parsed as Record<string, unknown>, plaintext };
}
