import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Ajv2020Module from 'ajv/dist/2020.js';
import type { Ajv2020, Options, ValidateFunction } from 'ajv/dist/2020.js';
import type addFormatsPlugin from 'ajv-formats';
import { packagePath } from './package-root.js';
import { callbackAttempt, callbackDelivery, callbackListQuery } from './schemas/callback-delivery.js';
import { transactionHash } from './schemas/common.js';
import {
  cancelPaymentRequest,
  createPaymentRequest,
  createPaymentResult,
  refundPaymentRequest,
} from './schemas/create-payment.js';
import { referenceError, referenceSuccess, widgetError, widgetSuccess } from './schemas/envelopes.js';
import { merchantCreate, merchantInput, merchantView, serverKeyInput } from './schemas/merchant.js';
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
  merchantPurge,
  scenarioActivation,
  scenarioCatalog,
  testCardsResponse,
  transactionCallbacks,
} from './schemas/admin-responses.js';
import { checkConfig, runnerStep, runnerSuite } from './schemas/check-config.js';
import { probeRecording } from './schemas/probe-recording.js';

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
  merchantCreate,
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
  callbackListQuery,
  scenarioFile,
  scenarioStep,
  scenarioEffect,
  adminHealth,
  adminDone,
  adminMerchantList,
  merchantPurge,
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
  probeRecording,
} as const;

export type SchemaName = keyof typeof schemas;

/**
 * The ajv settings every validator is compiled with, at build time and at run time alike.
 * `allErrors` lets the sandbox report every bad field at once, as ktpay's `validation` object does.
 */
export const AJV_OPTIONS: Options = {
  strict: true,
  // if/then blocks name fields defined by the surrounding object, which strictRequired would reject.
  strictRequired: false,
  allErrors: true,
  coerceTypes: false,
  removeAdditional: false,
  allowUnionTypes: true,
  multipleOfPrecision: 8,
  discriminator: true,
  // Checking our own schemas against the 2020-12 meta-schema would compile that meta-schema in
  // every registry. The schemas are code: contracts/schema-registry.test.ts checks them once in
  // the test suite instead. Strict mode still runs when each one compiles.
  validateSchema: false,
};

/**
 * A strict ajv instance holding every schema. ajv is loaded here, on demand, not imported at the
 * top: a built sandbox uses the precompiled validators and never loads it (issue 10: importing and
 * compiling took ~100 ms of startup).
 */
export function createAjv(extra: Options = {}): Ajv2020 {
  const require = createRequire(import.meta.url);
  const { Ajv2020: AjvClass } = require('ajv/dist/2020.js') as typeof Ajv2020Module;
  const addFormats = require('ajv-formats') as typeof addFormatsPlugin.default;
  const ajv = new AjvClass({ ...AJV_OPTIONS, ...extra });
  addFormats(ajv);
  for (const s of Object.values(schemas)) ajv.addSchema(s as object);
  return ajv;
}

/** A digest of every schema and the ajv settings: precompiled validators are used only when it matches. */
export function schemasFingerprint(): string {
  fingerprint ??= createHash('sha256')
    .update(JSON.stringify({ options: AJV_OPTIONS, schemas }))
    .digest('hex');
  return fingerprint;
}
// The schemas are constants, so their digest is too: worked out once per process.
let fingerprint: string | undefined;

/** Where `npm run build` writes the validators it compiled (contracts/compile-validators.ts). */
export const COMPILED_VALIDATORS_DIR = packagePath('dist', 'contracts', 'validators');

/** `index.json` of that folder: the fingerprint of the schemas and options they were compiled from. */
export interface CompiledValidatorsIndex {
  fingerprint: string;
  names: SchemaName[];
}

/**
 * Loads the validators `npm run build` compiled, one file per schema, each on first use — when they
 * were compiled from exactly these schemas and options. A missing or stale folder (a schema edited
 * since the last build) gives undefined, and the registry compiles at run time instead.
 */
export function compiledValidatorLoader(
  dir: string = COMPILED_VALIDATORS_DIR,
): ((name: SchemaName) => ValidateFunction | undefined) | undefined {
  const indexFile = join(dir, 'index.json');
  if (!existsSync(indexFile)) return undefined;
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as CompiledValidatorsIndex;
  if (index.fingerprint !== schemasFingerprint()) return undefined;
  const require = createRequire(import.meta.url);
  const names = new Set<string>(index.names);
  return (name) => (names.has(name) ? (require(join(dir, `${name}.cjs`)) as ValidateFunction) : undefined);
}

/**
 * One validator per schema name, cached. They come precompiled from the build when it is current
 * (`compiled: 'auto'`, the default); otherwise, or with `compiled: false`, one strict ajv instance
 * compiles each on first use. Both are the same ajv code generated from the same schemas and options.
 */
export function createSchemaRegistry(opts: { compiled?: 'auto' | false } = {}) {
  const compiled = opts.compiled === false ? undefined : compiledValidatorLoader();
  let ajv: Ajv2020 | undefined;
  const cache = new Map<string, ValidateFunction>();
  const validator = (name: SchemaName): ValidateFunction => {
    let fn = cache.get(name);
    if (!fn) {
      const schema = (schemas as Record<string, { $id: string }>)[name];
      if (!schema) throw new Error(`unknown schema ${name}`);
      fn = compiled?.(name) ?? (ajv ??= createAjv()).getSchema(schema.$id);
      if (!fn) throw new Error(`schema ${name} did not compile`);
      cache.set(name, fn);
    }
    return fn;
  };
  return { validator, precompiled: compiled !== undefined };
}

export type SchemaRegistry = ReturnType<typeof createSchemaRegistry>;
