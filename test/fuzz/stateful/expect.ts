import type { LightMyRequestResponse } from 'fastify';
import { errorCatalog } from '../../../contracts/error-catalog.js';
import { createSchemaRegistry, type SchemaName } from '../../../contracts/schema-registry.js';
import { FuzzViolation } from '../fuzz-harness.js';
import type { Dialect } from './model.js';

/** The checks the stateful fuzz makes on one answer: never a 5xx, the contract's shape, the model's verdict. */

const registry = createSchemaRegistry();
const httpOf = new Map(errorCatalog.ktpay.map((e) => [e.code, e.http_status]));

export function fail(what: string, res?: LightMyRequestResponse): never {
  throw new FuzzViolation(
    res
      ? `${what}\n  → HTTP ${res.statusCode} ${String(res.headers['content-type'])} ${res.body.slice(0, 600)}`
      : what,
  );
}

export function expectThat(ok: boolean, what: string, res?: LightMyRequestResponse): void {
  if (!ok) fail(what, res);
}

/** No 5xx, whatever the request. */
export function no5xx(res: LightMyRequestResponse, what: string): void {
  if (res.statusCode >= 500) fail(`${what}: a 5xx`, res);
}

export function json(res: LightMyRequestResponse, what: string): unknown {
  try {
    return JSON.parse(res.body);
  } catch {
    return fail(`${what}: not JSON`, res);
  }
}

/** A 200 whose JSON body is valid against contract `schema`. */
export function okJson<T = Record<string, unknown>>(
  res: LightMyRequestResponse,
  what: string,
  schema?: SchemaName,
): T {
  no5xx(res, what);
  expectThat(res.statusCode === 200 || res.statusCode === 201, `${what}: expected 200`, res);
  const body = json(res, what);
  if (schema) {
    const validate = registry.validator(schema);
    if (!validate(body))
      fail(`${what}: outside contract ${schema}: ${JSON.stringify(validate.errors?.slice(0, 3))}`, res);
  }
  return body as T;
}

/** What the model says a merchant-API call answers. */
export type ApiVerdict = { ok: true } | { code: number };

/**
 * A merchant-API answer as the model predicts it: success in the merchant's dialect, or the catalog
 * code with its HTTP status in that dialect. Returns the success payload.
 */
export function expectApi(
  res: LightMyRequestResponse,
  dialect: Dialect,
  verdict: ApiVerdict,
  what: string,
): Record<string, unknown> {
  no5xx(res, what);
  const body = json(res, what) as Record<string, unknown>;
  const prefix = dialect === 'widget' ? 'widget' : 'reference';
  if ('ok' in verdict) {
    expectThat(res.statusCode === 200, `${what}: the model expects success`, res);
    const validate = registry.validator(`${prefix}Success`);
    if (!validate(body)) fail(`${what}: success outside the ${dialect} envelope`, res);
    return (
      dialect === 'widget' ? (body.response as { data: Record<string, unknown> }).data : body.payload
    ) as Record<string, unknown>;
  }
  const validate = registry.validator(`${prefix}Error`);
  if (!validate(body)) fail(`${what}: the model expects ${verdict.code} in the ${dialect} envelope`, res);
  const code = (body.error as { code: number }).code;
  expectThat(code === verdict.code, `${what}: the model expects ${verdict.code}, got ${code}`, res);
  expectThat(res.statusCode === httpOf.get(code), `${what}: ${code} with HTTP ${res.statusCode}`, res);
  return {};
}

export function validates(schema: SchemaName, value: unknown, what: string): void {
  const validate = registry.validator(schema);
  if (!validate(value))
    fail(`${what}: outside contract ${schema}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
}
