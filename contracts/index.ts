/**
 * `ktpay-mock/contracts`: the JSON Schemas, the error catalog and a sealing helper, for merchants'
 * own tests.
 *
 * @example
 * import { contracts, seal } from 'ktpay-mock/contracts';
 * const body = await seal({ order: { amount: 1000, order_id: 'A1' } }, appKey);
 * const validate = contracts.validator('callbackBody');
 * validate(receivedCallback); // true
 */
import { cryptoReady, sealToBase64 } from '../mock-server/crypto/sealed-box.js';
import { errorCatalog } from './error-catalog.js';
import { createSchemaRegistry, schemas } from './schema-registry.js';

export { errorCatalog, ErrorCode, type ErrorCatalog, type KtpayErrorEntry } from './error-catalog.js';
export { schemas, type SchemaName } from './schema-registry.js';
export type * from './types.js';

const registry = createSchemaRegistry();

/** The schemas plus a ready ajv validator per schema name. */
export const contracts = {
  schemas,
  errorCatalog,
  validator: registry.validator,
};

/**
 * Seals a JSON payload (or a string) to an app_key exactly as a ktpay merchant must: libsodium
 * crypto_box_seal, then ORIGINAL-variant base64. The result is the raw request body.
 */
export async function seal(payload: unknown, appKey: string): Promise<string> {
  await cryptoReady();
  return sealToBase64(typeof payload === 'string' ? payload : JSON.stringify(payload), appKey);
}
