import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import type { ScenarioFile } from '../../contracts/types.js';
import { BUILTIN_SCENARIO_DIR, loadScenarioDir } from '../../mock-server/scenarios/scenario-library.js';
import type { ScenarioEndpoint } from '../../mock-server/scenarios/scenario-engine.js';
import { API, APP_ID, createPayment, orderPayload, postCreate, seal } from '../helpers/sandbox.js';

export const SCENARIO_HEADER = 'x-ktpay-mock-scenario';

/** The frictionless test card of the emulated bank (contracts/data/test-cards.json). */
export const PAYING_CARD = {
  pan: '4405639704015096',
  exp_month: '12',
  exp_year: '30',
  cvc: '123',
  cardholder: 'TEST CARDHOLDER',
};

/** The built-in library, read from disk as the server reads it. */
export function builtinLibrary(): ScenarioFile[] {
  return loadScenarioDir(BUILTIN_SCENARIO_DIR, createSchemaRegistry());
}

export interface CatalogEntry {
  code: number;
  message: string;
  hint: string;
  documented: boolean;
  http_status: number;
  validation_example?: Record<string, string[]>;
}

/** contracts/data/error-catalog.json, read as a file (not through the typed module). */
export function readCatalog(): CatalogEntry[] {
  const raw = readFileSync(new URL('../../contracts/data/error-catalog.json', import.meta.url), 'utf8');
  return (JSON.parse(raw) as { ktpay: CatalogEntry[] }).ktpay;
}

/** Pays a pending transaction with the frictionless test card through the admin API (→ success). */
export async function payWithTestCard(app: FastifyInstance, hash: string) {
  const res = await app.inject({
    method: 'POST',
    url: `/__admin/transactions/${hash}/pay`,
    payload: PAYING_CARD,
  });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.json().outcome).toBe('approved');
}

/** Clears a `success` transaction by hand (→ completed). */
export async function clearNow(app: FastifyInstance, hash: string) {
  const res = await app.inject({ method: 'POST', url: `/__admin/transactions/${hash}/clear` });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.json().status).toBe('completed');
}

/** A transaction in the state an endpoint needs to answer normally: paid for pdf, cleared for refund. */
export async function transactionFor(
  app: FastifyInstance,
  endpoint: ScenarioEndpoint,
  order: Record<string, unknown> = {},
) {
  const hash = await createPayment(app, order);
  if (endpoint === 'pdf' || endpoint === 'refund') await payWithTestCard(app, hash);
  if (endpoint === 'refund') await clearNow(app, hash);
  return hash;
}

/** Calls a merchant-API endpoint the way a merchant does, optionally with the scenario header. */
export async function callEndpoint(
  app: FastifyInstance,
  endpoint: ScenarioEndpoint,
  opts: { hash?: string; scenario?: string; order?: Record<string, unknown> } = {},
) {
  const headers: Record<string, string> = { 'auth-identifier': APP_ID };
  if (opts.scenario) headers[SCENARIO_HEADER] = opts.scenario;
  const hash = opts.hash ?? '';
  switch (endpoint) {
    case 'create':
      return postCreate(app, await seal(orderPayload(opts.order ?? {})), headers);
    case 'status':
      return app.inject({ method: 'GET', url: `${API}/payment/${hash}`, headers });
    case 'acquirer_options':
      return app.inject({ method: 'GET', url: `${API}/payment/${hash}/acquirer-options`, headers });
    case 'pdf':
      return app.inject({ method: 'GET', url: `${API}/payment/${hash}/pdf`, headers });
    case 'cancel':
      return app.inject({
        method: 'POST',
        url: `${API}/payment/${hash}/cancel`,
        headers: { ...headers, 'content-type': 'text/plain' },
        payload: '',
      });
    case 'refund':
      return app.inject({
        method: 'POST',
        url: `${API}/payment/${hash}/refund`,
        headers: { ...headers, 'content-type': 'text/plain' },
        payload: '',
      });
    default:
      throw new Error(`endpoint ${endpoint} is not a merchant-API route`);
  }
}

/** Resolves once `promise` has settled, or reports that it is still pending after a few macrotask turns. */
export async function settledSoon<T>(promise: Promise<T>, turns = 20): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < turns && !settled; i++) await new Promise((r) => setImmediate(r));
  return settled;
}
