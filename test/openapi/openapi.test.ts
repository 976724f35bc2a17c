import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import type { SchemaName } from '../../contracts/schema-registry.js';
import { ROUTES } from '../../mock-server/openapi/route-table.js';
import { registeredRoutes } from '../helpers/registered-routes.js';
import { API, APP_ID, buildTestApp, createPayment, seal } from '../helpers/sandbox.js';

const addFormats = addFormatsModule.default as unknown as typeof addFormatsModule.default.default;

type Json = Record<string, unknown>;
type Doc = Json & {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json> };
};

/** Routes that are pages, static files or the docs themselves: not API operations. */
const NOT_API = [
  /^\/acquirer\//,
  /^\/demo/,
  /^\/static\//,
  /^\/payment-card\/./,
  /^\/__admin\/ui/,
  /^\/docs/,
  /^\/openapi\.json$/,
];

const toOpenApiPath = (p: string) => p.replace(/:(\w+)/g, '{$1}');

function pointer(doc: unknown, ref: string): unknown {
  let cur: unknown = doc;
  for (const raw of ref.replace(/^#\//, '').split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !(key in (cur as Json))) return undefined;
    cur = (cur as Json)[key];
  }
  return cur;
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) collectRefs(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Json)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

describe('/openapi.json (issue 8)', () => {
  let app: FastifyInstance;
  let doc: Doc;

  beforeAll(async () => {
    app = await buildTestApp();
    await app.ready();
    const res = await app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    doc = res.json() as Doc;
  });
  afterAll(async () => app.close());

  it('validates as OpenAPI 3.1 with @seriousme/openapi-schema-validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(doc.openapi).toBe('3.1.0');
    // The validator checks the shape; a broken $ref would still pass it, so resolve every one.
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(100);
    for (const ref of new Set(refs)) expect(pointer(doc, ref), ref).toBeDefined();
  });

  it('holds every contract schema as a component that compiles as JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: false, allowUnionTypes: true, discriminator: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'doc.json', components: doc.components });
    for (const name of Object.keys(doc.components.schemas)) {
      expect(() => ajv.compile({ $ref: `doc.json#/components/schemas/${name}` }), name).not.toThrow();
      expect(JSON.stringify(doc.components.schemas[name]), name).not.toContain(
        'https://ktpay-mock.dev/contracts/',
      );
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'createPaymentRequest',
        'callbackBody',
        'referenceError',
        'widgetError',
        'merchantInput',
        'journalEntry',
      ]),
    );
  });

  it('covers every merchant and admin route Fastify registered, and documents none that does not exist', () => {
    const api = registeredRoutes(app).filter((r) => !NOT_API.some((re) => re.test(r.path)));
    expect(api.length).toBeGreaterThan(30);
    for (const r of api) {
      const path = toOpenApiPath(r.path);
      expect(doc.paths[path], `${r.method} ${r.path} is not in /openapi.json`).toBeDefined();
      expect(
        doc.paths[path]![r.method.toLowerCase()],
        `${r.method} ${r.path} is not in /openapi.json`,
      ).toBeDefined();
    }
    const registered = new Set(
      registeredRoutes(app).map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`),
    );
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops))
        expect(registered.has(`${method} ${path}`), `${method} ${path} is documented but not served`).toBe(
          true,
        );
    }
    const adminOps = Object.entries(doc.paths).filter(([p]) => p.startsWith('/__admin'));
    expect(adminOps.length).toBeGreaterThan(15);
    for (const [path, ops] of adminOps) {
      for (const op of Object.values(ops)) expect(JSON.stringify(op.security), path).toContain('AdminBearer');
    }
  });

  it('describes both dialects: success and error envelopes, with an example per code and dialect', () => {
    const create = doc.paths[`${API}/payment`]!.post!;
    const ok = JSON.stringify((create.responses as Json)['200']);
    expect(ok).toContain('#/components/schemas/referenceSuccess');
    expect(ok).toContain('#/components/schemas/widgetSuccess');
    expect(ok).toContain('#/components/schemas/createPaymentResult');
    const unprocessable = (
      create.responses as Record<
        string,
        { content: Record<string, { examples: Record<string, { value: Json }> }> }
      >
    )['422']!;
    const examples = unprocessable.content['application/json']!.examples;
    expect(examples['4220101-reference']!.value).toMatchObject({ success: false, error: { code: 4220101 } });
    expect(examples['4220101-widget']!.value).toMatchObject({
      success: false,
      data: [],
      error: { code: 4220101 },
      response: { success: false },
    });
    // An unknown app_id: 4220103 only in the reference dialect, 4010103 only in the widget one.
    expect(examples['4220103-reference']).toBeDefined();
    expect(examples['4220103-widget']).toBeUndefined();
    const unauthorized = (
      create.responses as Record<string, { content: Record<string, { examples: Json }> }>
    )['401']!;
    expect(Object.keys(unauthorized.content['application/json']!.examples)).toEqual(['4010103-widget']);
    const sealed = JSON.stringify(create.requestBody);
    expect(sealed).toContain('x-ktpay-sealed-payload');
    expect(sealed).toContain('#/components/schemas/createPaymentRequest');
  });

  it('names every catalog error code', () => {
    const named = new Set<number>(doc['x-ktpay-any-route-codes'] as number[]);
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops))
        for (const e of op['x-error-codes'] as Array<{ code: number }>) named.add(e.code);
    }
    for (const e of errorCatalog.ktpay)
      expect(named.has(e.code), `code ${e.code} is not in /openapi.json`).toBe(true);
    expect((doc['x-ktpay-error-catalog'] as unknown[]).length).toBe(errorCatalog.ktpay.length);
  });

  it("answers each documented admin GET with a body valid against the route's documented schema", async () => {
    const hash = await createPayment(app, { callback_post_url: 'http://127.0.0.1:9/cb' });
    await app.inject({
      method: 'POST',
      url: `/__admin/transactions/${hash}/pay`,
      payload: { pan: '4000000000000002', exp_month: '12', exp_year: '2030', cvc: '123' },
    });
    await app.sandbox.callbacks.whenIdle();
    const deliveryId = (await app.sandbox.callbacks.list({ transaction_hash: hash }))[0]!.id;
    const concrete = (p: string) =>
      p.replace('{hash}', hash).replace('{app_id}', APP_ID).replace('{id}', deliveryId);
    let checked = 0;
    for (const route of ROUTES) {
      if (route.method !== 'get' || !route.path.startsWith('/__admin') || route.success.kind !== 'json')
        continue;
      const res = await app.inject({ url: concrete(route.path) });
      expect(res.statusCode, route.path).toBe(200);
      const validate = app.sandbox.schemas.validator(route.success.schema as SchemaName);
      expect(validate(res.json()), `${route.path}: ${JSON.stringify(validate.errors)}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('lists, for a sample of real failures, the code each route actually answered', async () => {
    const codesOf = (method: string, path: string) => {
      const r = ROUTES.find((x) => x.method === method && x.path === path)!;
      return new Set([...r.errors, 5000001]);
    };
    const hash = await createPayment(app);
    const cases: Array<[string, string, () => Promise<{ json(): unknown }>]> = [
      [
        'post',
        `${API}/payment`,
        () =>
          app.inject({
            method: 'POST',
            url: `${API}/payment`,
            headers: { 'auth-identifier': APP_ID },
            payload: 'not base64!',
          }),
      ],
      [
        'post',
        `${API}/payment`,
        async () =>
          app.inject({
            method: 'POST',
            url: `${API}/payment`,
            headers: { 'auth-identifier': APP_ID },
            payload: await seal({ order: {} }),
          }),
      ],
      [
        'get',
        `${API}/payment/{hash}`,
        () => app.inject({ url: `${API}/payment/${'0'.repeat(40)}`, headers: { 'auth-identifier': APP_ID } }),
      ],
      ['get', `${API}/payment/{hash}/pdf`, () => app.inject({ url: `${API}/payment/${hash}/pdf` })],
      [
        'post',
        `${API}/payment/{hash}/refund`,
        () =>
          app.inject({
            method: 'POST',
            url: `${API}/payment/${hash}/refund`,
            headers: { 'auth-identifier': APP_ID },
          }),
      ],
      [
        'post',
        '/__admin/merchants',
        () => app.inject({ method: 'POST', url: '/__admin/merchants', payload: {} }),
      ],
      ['get', '/__admin/callbacks/{id}', () => app.inject({ url: '/__admin/callbacks/dlv_nope' })],
      [
        'put',
        '/__admin/merchants/{app_id}/scenario',
        () =>
          app.inject({
            method: 'PUT',
            url: `/__admin/merchants/${APP_ID}/scenario`,
            payload: { name: 'no-such-scenario' },
          }),
      ],
    ];
    for (const [method, path, send] of cases) {
      const body = (await send()).json() as { error: { code: number } };
      expect(
        codesOf(method, path).has(body.error.code),
        `${method} ${path} answered ${body.error.code}, not listed`,
      ).toBe(true);
    }
  });
});
