import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioEndpoint } from '../../mock-server/scenarios/scenario-engine.js';
import { buildTestApp, settle } from '../helpers/sandbox.js';
import { builtinLibrary, callEndpoint, readCatalog, transactionFor } from './scenario-helpers.js';

/**
 * Issue 6 acceptance: every documented ktpay code is reproducible on demand (spec §11). The codes
 * come from contracts/data/error-catalog.json; each is matched to the built-in scenarios that
 * answer with it, and every such scenario is activated and its endpoint called.
 */
const documented = readCatalog().filter((e) => e.documented);
const library = builtinLibrary();

/** Built-in scenarios with a respond_error step for `code`, and the endpoint of that step. */
function reproducersOf(code: number): { name: string; endpoint: ScenarioEndpoint }[] {
  return library.flatMap((s) =>
    s.steps
      .filter((step) => step.effect.type === 'respond_error' && step.effect.code === code)
      .map((step) => ({ name: s.name, endpoint: step.match.endpoint })),
  );
}

describe('every documented ktpay code is reproduced by a built-in scenario', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp({ clearing_delay_ms: 'manual' });
  });
  afterAll(() => app.close());

  it('the catalog documents exactly the 12 codes of the issue', () => {
    expect(documented.map((e) => e.code).sort()).toEqual(
      [
        5000001, 5000105, 5000106, 5000107, 5000109, 5000110, 4010103, 4220002, 4220101, 4220102, 4220103,
        4220104,
      ].sort(),
    );
  });

  it("each scenario's `reproduces` list names exactly the codes its steps answer with", () => {
    for (const s of library) {
      const codes = new Set<number>();
      for (const step of s.steps) if (step.effect.type === 'respond_error') codes.add(step.effect.code);
      expect(new Set((s.reproduces ?? []).map(Number)), s.name).toEqual(codes);
    }
  });

  for (const entry of documented) {
    it(`${entry.code}: reproduced on its endpoint with the documented message and hint`, async () => {
      const reproducers = reproducersOf(entry.code);
      expect(reproducers.length, `no built-in scenario answers ${entry.code}`).toBeGreaterThan(0);
      for (const { name, endpoint } of reproducers) {
        const hash = endpoint === 'create' ? undefined : await transactionFor(app, endpoint);
        const res = await callEndpoint(app, endpoint, { scenario: name, ...(hash ? { hash } : {}) });
        expect(res.statusCode, `${name} on ${endpoint}`).toBe(entry.http_status);
        const body = res.json() as {
          success: boolean;
          error: { code: number; message: string; hint: string; validation?: unknown };
        };
        expect(body.success).toBe(false);
        expect(body.error.code).toBe(entry.code);
        expect(body.error.message).toBe(entry.message);
        // The documented hint, then the sandbox's explanation of why it answered so.
        expect(body.error.hint).toBe(
          `${entry.hint} Sandbox: scenario ${name} (header) step 1: answer with ${entry.code} («${entry.message}»)`,
        );
        if (entry.validation_example) expect(body.error.validation).toEqual(entry.validation_example);
        else expect(body.error.validation).toBeUndefined();
        // The journal records which scenario made the request fail (written as the answer goes out).
        await settle();
        const [last] = (await app.inject({ url: '/__admin/journal?limit=1' })).json().entries;
        expect(last.verdict.error_code).toBe(entry.code);
        expect(last.verdict.scenario).toContain(`scenario ${name} (header)`);
      }
    });
  }

  it('a respond_error scenario does not leak into requests without the header', async () => {
    for (const endpoint of ['create', 'status', 'acquirer_options', 'pdf'] as const) {
      const hash = endpoint === 'create' ? undefined : await transactionFor(app, endpoint);
      const res = await callEndpoint(app, endpoint, hash ? { hash } : {});
      expect(res.statusCode, endpoint).toBe(200);
    }
  });
});
