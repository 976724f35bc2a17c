import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import type { SandboxConfigInput } from '../../contracts/types.js';
import type { Resolver } from '../../mock-server/callbacks/destination-guard.js';
import { createManualClock } from '../../mock-server/shared/clock.js';
import { buildTestApp } from '../helpers/sandbox.js';
import { checkStore, type InvariantChecker } from './store-invariants.js';

/**
 * Shared machinery of the fuzz suite (issue 11 §1): run counts from `FUZZ_RUNS`, a process-level
 * watch for unhandled rejections and uncaught exceptions, the response checks (no 5xx, the
 * documented envelope, a catalog code), and the per-target record `npm run fuzz` turns into the
 * table in RELIABILITY.md.
 */

/** Runs per target: `FUZZ_RUNS` when set (npm run fuzz uses 10,000), else the moderate default of `npm test`. */
export function fuzzRuns(defaultRuns = 60): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}

/** A test timeout that grows with the run count (a 10,000-run target takes minutes on a busy machine). */
export function fuzzTimeout(runs: number, perRunMs = 30): number {
  return 60_000 + runs * perRunMs;
}

const registry = createSchemaRegistry();
const validators = {
  referenceSuccess: registry.validator('referenceSuccess'),
  referenceError: registry.validator('referenceError'),
  widgetSuccess: registry.validator('widgetSuccess'),
  widgetError: registry.validator('widgetError'),
};
const catalog = new Map(errorCatalog.ktpay.map((e) => [e.code, e]));

/** Every unhandled rejection and uncaught exception of this worker process, as they happen. */
const processFaults: string[] = [];
let watching = false;

/** Installs the process-level listeners once per worker; the returned list fills as faults occur. */
export function watchProcess(): string[] {
  if (!watching) {
    watching = true;
    process.on('unhandledRejection', (reason) => processFaults.push(`unhandledRejection: ${String(reason)}`));
    process.on('uncaughtException', (err) => processFaults.push(`uncaughtException: ${String(err)}`));
  }
  return processFaults;
}

/** A resolver that knows no name, so no fuzzed callback URL ever causes a DNS query. */
export const noDns: Resolver = async (hostname) => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

/** A sandbox app for fuzzing: manual clock, manual clearing, no DNS, plus `flags`. */
export async function fuzzApp(flags: SandboxConfigInput = {}): Promise<FastifyInstance> {
  return buildTestApp(
    { clearing_delay_ms: 'manual', ...flags },
    { clock: createManualClock(), callbackResolver: noDns },
  );
}

/** HTTP status classes of the current target's responses (2xx, 3xx, 4xx), so the report shows what was reached. */
let tally: Record<string, number> = {};
function count(res: LightMyRequestResponse) {
  const cls = `${String(res.statusCode)[0]}xx`;
  tally[cls] = (tally[cls] ?? 0) + 1;
}

export class FuzzViolation extends Error {
  override name = 'FuzzViolation';
}

function fail(what: string, res: LightMyRequestResponse): never {
  throw new FuzzViolation(
    `${what}: HTTP ${res.statusCode} ${String(res.headers['content-type'])} ${res.body.slice(0, 400)}`,
  );
}

function catalogCheck(code: unknown, res: LightMyRequestResponse) {
  const entry = typeof code === 'number' ? catalog.get(code) : undefined;
  if (!entry) fail(`error code ${String(code)} is not in the catalog`, res);
  if (entry.http_status !== res.statusCode)
    fail(`code ${entry.code} answered with HTTP ${res.statusCode}, not ${entry.http_status}`, res);
}

/** The merchant API: no 5xx, JSON in either dialect's envelope, errors with a catalog code and its HTTP status. */
export function checkApiResponse(res: LightMyRequestResponse): void {
  count(res);
  if (res.statusCode >= 500) fail('5xx', res);
  if (!String(res.headers['content-type']).startsWith('application/json')) fail('not JSON', res);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    fail('unparsable JSON', res);
  }
  if (res.statusCode === 200) {
    if (!validators.referenceSuccess(body) && !validators.widgetSuccess(body))
      fail('success outside the envelope', res);
    return;
  }
  if (validators.referenceError(body))
    return catalogCheck((body as { error: { code: unknown } }).error.code, res);
  if (validators.widgetError(body))
    return catalogCheck((body as { error: { code: unknown } }).error.code, res);
  fail('error outside the envelope', res);
}

/** The admin API: no 5xx, JSON; errors in the reference envelope with a catalog code. */
export function checkAdminResponse(res: LightMyRequestResponse): void {
  count(res);
  if (res.statusCode >= 500) fail('5xx', res);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    fail('unparsable JSON', res);
  }
  if (res.statusCode < 400) return;
  if (!validators.referenceError(body)) fail('admin error outside the reference envelope', res);
  catalogCheck((body as { error: { code: unknown } }).error.code, res);
}

/**
 * Hosted pages: no 5xx; redirects carry a Location; errors are HTML pages naming a catalog code, or
 * the card form again with inline input errors (422).
 */
export function checkPageResponse(res: LightMyRequestResponse): void {
  count(res);
  if (res.statusCode >= 500) fail('5xx', res);
  if (res.statusCode >= 300 && res.statusCode < 400) {
    if (!res.headers.location) fail('redirect without Location', res);
    return;
  }
  if (!String(res.headers['content-type']).startsWith('text/html')) fail('page is not HTML', res);
  if (res.statusCode >= 400) {
    // The bank's card form shown again with inline input errors (spec §8: the shopper may re-enter).
    if (res.statusCode === 422 && res.body.includes('name="pan"') && res.body.includes('class="field-error"'))
      return;
    const m = /data-testid="error-code">(\d+)</.exec(res.body);
    if (!m) fail('error page without a catalog code', res);
    catalogCheck(Number(m[1]), res);
  }
}

export interface TargetRecord {
  target: string;
  runs: number;
  failures: number;
  seed: number;
  ms: number;
  transactions_checked: number;
  /** Responses by HTTP status class over all runs (including fast-check's shrinking, if any). */
  responses: Record<string, number>;
}

/**
 * Runs one fuzz target: `fc.check` over `property` for `runs` runs, then the process and store
 * checks. Writes the record to `FUZZ_REPORT` (a JSON-lines file) when set, and throws fast-check's
 * own report (counterexample, seed, path) when the property failed.
 */
export async function runTarget<T>(opts: {
  target: string;
  app?: FastifyInstance;
  arbitrary: fc.Arbitrary<T>;
  run: (value: T) => Promise<void>;
  runs: number;
  seed: number;
  invariants?: InvariantChecker;
}): Promise<TargetRecord> {
  const faults = watchProcess();
  const faultsBefore = faults.length;
  const started = Date.now();
  tally = {};
  const property = fc.asyncProperty(opts.arbitrary, async (value) => {
    await opts.run(value);
    await opts.invariants?.afterRun();
  });
  const details = await fc.check(property, { numRuns: opts.runs, seed: opts.seed });
  let checked = 0;
  if (opts.app) checked = (await checkStore(opts.app.sandbox.store)).transactions;
  const newFaults = faults.slice(faultsBefore);
  const record: TargetRecord = {
    target: opts.target,
    runs: details.numRuns,
    failures: (details.failed ? 1 : 0) + newFaults.length,
    seed: details.seed,
    ms: Date.now() - started,
    transactions_checked: checked,
    responses: tally,
  };
  if (process.env.FUZZ_REPORT) appendFileSync(process.env.FUZZ_REPORT, `${JSON.stringify(record)}\n`);
  if (details.failed) {
    const cause =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new FuzzViolation(`${opts.target}: ${cause}\n${fc.defaultReportMessage(details) ?? ''}`);
  }
  if (newFaults.length > 0) throw new FuzzViolation(`${opts.target}: ${newFaults.join('; ')}`);
  return record;
}

// ── shared arbitraries ─────────────────────────────────────────────────────────────────────────

/** Text in every flavour: ASCII, full Unicode (lone surrogates included), grapheme clusters. */
export const anyText = (maxLength = 64) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.constantFrom('', ' ', '\u0000', '\u202e', '𝔘𝔫𝔦', '💳', 'Ä', '\uD800', '<script>', '%00', '../'),
  );

/** Numbers that break naive code: huge, tiny, negative zero, unsafe integers, three decimals. */
export const oddNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    1e308,
    -1e308,
    5e-324,
    -0,
    0,
    Number.MAX_SAFE_INTEGER + 2,
    0.001,
    1.005,
    99.999,
    1e12,
    1e12 + 0.01,
    -1,
  ),
);

/** Raw JSON number literals that JSON.stringify cannot produce (overflow to Infinity, 40 digits). */
export const rawNumberLiteral = fc.constantFrom(
  '1e99999',
  '-1e99999',
  '123456789012345678901234567890123456789',
  '0.0000000000000000000000000001',
  '1E+2',
  '-0.0',
  '10.00',
  '1.0000000000000001',
);

/** Values of the wrong type for any field. */
export const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  oddNumber,
  anyText(16),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

/** JSON text nested `depth` levels deep (arrays or objects). */
export const deepJsonText = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

/** Mutations of a valid base64 body: flip, insert, delete, truncate, padding, URL-safe alphabet, whitespace. */
export function mutatedBase64(valid: string) {
  return fc.oneof(
    fc
      .tuple(fc.nat(valid.length - 1), fc.string({ minLength: 1, maxLength: 1 }))
      .map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)),
    fc
      .tuple(fc.nat(valid.length), fc.string({ minLength: 1, maxLength: 4 }))
      .map(([i, s]) => valid.slice(0, i) + s + valid.slice(i)),
    fc.nat(valid.length - 1).map((i) => valid.slice(0, i) + valid.slice(i + 1)),
    fc.nat(valid.length).map((i) => valid.slice(0, i)),
    fc.constantFrom(
      valid.replace(/=+$/, ''),
      `${valid}=`,
      valid.replace(/\+/g, '-').replace(/\//g, '_'),
      ` \n${valid}\r\n `,
      valid.split('').join('\n'),
    ),
    fc.constant(Buffer.from(valid, 'base64').toString('hex')),
  );
}

/**
 * A valid body with one or two fields replaced by fuzzed values, or one field dropped: this keeps
 * a good share of runs on the success path, where the state changes.
 */
export function nearValid(
  valid: fc.Arbitrary<Record<string, unknown>>,
  replacements: Record<string, fc.Arbitrary<unknown>>,
) {
  const keys = Object.keys(replacements);
  return fc
    .tuple(
      valid,
      fc.subarray(keys, { maxLength: 2 }),
      fc.record(replacements),
      fc.option(fc.constantFrom(...keys), { nil: undefined, freq: 6 }),
    )
    .map(([base, change, values, drop]) => {
      const out: Record<string, unknown> = { ...base };
      for (const k of change) out[k] = values[k];
      if (drop !== undefined && change.length === 0) delete out[drop];
      return out;
    });
}

/** Content-Type values merchants send, and odd ones. */
export const contentTypes = fc.oneof(
  fc.constantFrom(
    undefined,
    'text/plain',
    'application/json',
    'application/octet-stream',
    'text/plain; charset=latin1',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'multipart/form-data',
    '*/*',
    '',
    'text/xml',
    'application/json; charset=utf-16',
    'TEXT/PLAIN',
    ';;;',
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
);

/** A header value Node would put on the wire (no CR, LF or NUL). */
export const headerValue = (maxLength = 64) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength });
