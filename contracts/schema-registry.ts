import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import { callbackAttempt, callbackDelivery } from './schemas/callback-delivery.js';
import { transactionHash } from './schemas/common.js';
import {
  cancelPaymentRequest,
  createPaymentRequest,
  createPaymentResult,
  refundPaymentRequest,
} from './schemas/create-payment.js';
import { referenceError, referenceSuccess, widgetError, widgetSuccess } from './schemas/envelopes.js';
import { merchantInput, merchantView, serverKeyInput } from './schemas/merchant.js';
import { sandboxConfig } from './schemas/config-file.js';
import { callbackBody, paymentStatus } from './schemas/payment-status.js';
import {
  acquirerOptionsV1,
  acquirerOptionsV2,
  acquirerOutcomesData,
  adminPayRequest,
  adminPayResult,
  adminTransactionView,
  testCardsData,
} from './schemas/shopper-journey.js';
import { scenarioEffect, scenarioFile, scenarioStep } from './schemas/scenario-file.js';
import {
  adminDone,
  adminHealth,
  adminMerchantList,
  adminTransactionList,
  callbackDeliveryList,
  callbackFlushResult,
  journalEntry,
  journalList,
  scenarioActivation,
  scenarioCatalog,
  testCardsResponse,
  transactionCallbacks,
} from './schemas/admin-responses.js';
import { checkConfig, runnerStep, runnerSuite } from './schemas/check-config.js';

// ajv-formats ships CJS with a default export; under NodeNext it arrives wrapped.
const addFormats = addFormatsModule.default as unknown as typeof addFormatsModule.default.default;

/** Every JSON Schema the project has, by name. The OpenAPI document and `export` read this. */
export const schemas = {
  transactionHash,
  createPaymentRequest,
  createPaymentResult,
  cancelPaymentRequest,
  refundPaymentRequest,
  referenceSuccess,
  referenceError,
  widgetSuccess,
  widgetError,
  serverKeyInput,
  merchantInput,
  merchantView,
  sandboxConfig,
  callbackBody,
  paymentStatus,
  testCardsData,
  acquirerOutcomesData,
  adminPayRequest,
  adminPayResult,
  adminTransactionView,
  acquirerOptionsV2,
  acquirerOptionsV1,
  callbackAttempt,
  callbackDelivery,
  scenarioFile,
  scenarioStep,
  scenarioEffect,
  adminHealth,
  adminDone,
  adminMerchantList,
  adminTransactionList,
  journalEntry,
  journalList,
  callbackDeliveryList,
  callbackFlushResult,
  transactionCallbacks,
  scenarioCatalog,
  scenarioActivation,
  testCardsResponse,
  checkConfig,
  runnerStep,
  runnerSuite,
} as const;

export type SchemaName = keyof typeof schemas;

/**
 * One strict ajv instance holding every schema, compiled lazily and cached. `allErrors` lets the
 * sandbox report every bad field at once, as ktpay's `validation` object does.
 */
export function createSchemaRegistry() {
  const ajv = new Ajv2020({
    strict: true,
    // if/then blocks name fields defined by the surrounding object, which strictRequired would reject.
    strictRequired: false,
    allErrors: true,
    coerceTypes: false,
    removeAdditional: false,
    allowUnionTypes: true,
    multipleOfPrecision: 8,
    discriminator: true,
    // Checking our own schemas against the 2020-12 meta-schema compiles that meta-schema in every
    // registry (~90 ms of startup, twice). The schemas are code: contracts/schema-registry.test.ts
    // checks them once in the test suite instead. Strict mode still runs when each one compiles.
    validateSchema: false,
  });
  addFormats(ajv);
  for (const s of Object.values(schemas)) ajv.addSchema(s as object);
  const cache = new Map<string, ValidateFunction>();
  const validator = (name: SchemaName): ValidateFunction => {
    let fn = cache.get(name);
    if (!fn) {
      const schema = (schemas as Record<string, { $id: string }>)[name];
      if (!schema) throw new Error(`unknown schema ${name}`);
      fn = ajv.getSchema(schema.$id);
      if (!fn) throw new Error(`schema ${name} did not compile`);
      cache.set(name, fn);
    }
    return fn;
  };
  return { ajv, validator };
}

export type SchemaRegistry = ReturnType<typeof createSchemaRegistry>;
