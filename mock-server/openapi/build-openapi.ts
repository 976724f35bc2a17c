import { errorCatalog, type KtpayErrorEntry } from '../../contracts/error-catalog.js';
import { schemas, type SchemaName } from '../../contracts/schema-registry.js';
import { DASHBOARD_COOKIE } from '../routes/admin-auth.js';
import { buildErrorReply, type Dialect } from '../envelope/ktpay-error.js';
import { packageVersion } from '../shared/project-root.js';
import { ANY_ROUTE_CODES, DIALECT_ONLY, ROUTES, type RouteSpec, type Success } from './route-table.js';

type Json = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';
const ref = (name: SchemaName): Json => ({ $ref: `${COMPONENTS}${name}` });

const nameById = new Map<string, SchemaName>(
  Object.entries(schemas).map(([name, s]) => [(s as { $id: string }).$id, name as SchemaName]),
);

/**
 * A registry schema as an OpenAPI component: `$id` dropped, and every `$ref` (relative to the
 * schema's `$id`, e.g. `transaction-hash.json` or `test-cards.json#/properties/cards`) pointed at
 * the component of the schema it names. Nothing else changes: the contract is not rewritten.
 */
export function toComponent(schema: unknown, baseId: string): unknown {
  if (Array.isArray(schema)) return schema.map((s) => toComponent(s, baseId));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema as Json)) {
    if (k === '$id' || k === '$schema') continue;
    if (k === '$ref' && typeof v === 'string') {
      const [target = '', pointer = ''] = new URL(v, baseId).href.split('#');
      const name = nameById.get(target);
      if (!name) throw new Error(`$ref ${v} in ${baseId} names no registered schema`);
      out.$ref = `${COMPONENTS}${name}${pointer}`;
      continue;
    }
    out[k] = toComponent(v, baseId);
  }
  return out;
}

const catalog = new Map<number, KtpayErrorEntry>(errorCatalog.ktpay.map((e) => [e.code, e]));
function entry(code: number): KtpayErrorEntry {
  const e = catalog.get(code);
  if (!e) throw new Error(`route table names code ${code}, which is not in the error catalog`);
  return e;
}

function payloadSchema(names: SchemaName[]): Json {
  return names.length === 1 ? ref(names[0]!) : { oneOf: names.map(ref) };
}

/** Both dialects' success envelopes around the payload (spec §5). */
function envelopeSchema(names: SchemaName[]): Json {
  const inner = payloadSchema(names);
  return {
    oneOf: [
      {
        title: 'reference dialect',
        allOf: [ref('referenceSuccess'), { type: 'object', properties: { payload: inner } }],
      },
      {
        title: 'widget dialect',
        allOf: [
          ref('widgetSuccess'),
          { type: 'object', properties: { response: { type: 'object', properties: { data: inner } } } },
        ],
      },
    ],
  };
}

function successResponses(s: Success): Json {
  switch (s.kind) {
    case 'envelope':
      return {
        200: {
          description: "Success, in the merchant's dialect (`envelope`: reference or widget).",
          content: { 'application/json': { schema: envelopeSchema(s.schemas) } },
        },
      };
    case 'json':
      return {
        [s.status ?? 200]: {
          description: schemas[s.schema].title,
          content: { 'application/json': { schema: ref(s.schema) } },
        },
      };
    case 'pdf':
      return {
        200: {
          description: 'The receipt: a real PDF (merchant, order, amount, masked card, status, date).',
          headers: {
            'Content-Disposition': {
              description: `attachment; filename="payment<id>-<YYYYMMDDHHmmss>.pdf"; filename*=UTF-8''payment<id>-<YYYYMMDDHHmmss>.pdf`,
              schema: { type: 'string' },
            },
            'Cache-Control': {
              description: 'must-revalidate, post-check=0, pre-check=0, private',
              schema: { type: 'string' },
            },
            Pragma: { description: 'public', schema: { type: 'string' } },
            Expires: { description: '0', schema: { type: 'string' } },
          },
          content: { 'application/pdf': { schema: { type: 'string', contentMediaType: 'application/pdf' } } },
        },
      };
    case 'text':
      return {
        200: {
          description: s.description ?? 'Accepted.',
          content: { [s.mediaType ?? 'text/plain']: { schema: { type: 'string' }, example: s.example } },
        },
      };
    case 'redirect':
      return {
        303: {
          description: s.description,
          headers: { Location: { description: 'Where to go next.', schema: { type: 'string' } } },
        },
      };
  }
}

/** The error responses of a route, grouped by HTTP status, with a generated example per code and dialect. */
function errorResponses(route: RouteSpec): Json {
  const admin = route.auth === 'admin';
  const codes = [...new Set([...route.errors, 5000001])];
  const byStatus = new Map<number, number[]>();
  for (const code of codes) {
    const status = entry(code).http_status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Json = {};
  for (const [status, list] of [...byStatus.entries()].sort((a, b) => a[0] - b[0])) {
    const examples: Json = {};
    for (const code of list) {
      const e = entry(code);
      const dialects: Dialect[] = admin
        ? ['reference']
        : DIALECT_ONLY[code]
          ? [DIALECT_ONLY[code]]
          : ['reference', 'widget'];
      for (const dialect of dialects) {
        examples[`${code}-${dialect}`] = {
          summary: `${code} (${dialect}): ${e.message_en ?? e.message}`,
          value: buildErrorReply(code, dialect, { locale: 'ru' }).body,
        };
      }
    }
    out[status] = {
      description: list.map((c) => `\`${c}\` ${entry(c).message_en ?? entry(c).message}`).join('; '),
      content: {
        'application/json': {
          schema: admin ? ref('referenceError') : { oneOf: [ref('referenceError'), ref('widgetError')] },
          examples,
        },
      },
    };
  }
  return out;
}

function requestBody(route: RouteSpec): Json | undefined {
  const r = route.request;
  if (!r) return undefined;
  switch (r.kind) {
    case 'sealed': {
      const schema = {
        type: 'string',
        contentEncoding: 'base64',
        contentMediaType: 'application/octet-stream',
        description: `crypto_box_seal(JSON of ${schemas[r.schema].title}, app_key), base64 (ORIGINAL variant, with padding). The JSON inside is \`x-ktpay-sealed-payload\`.`,
        'x-ktpay-sealed-payload': ref(r.schema),
      };
      return {
        required: !r.optional,
        description: r.optional
          ? 'Optional: an empty body is accepted.'
          : 'The sealed payload as the raw body.',
        content: Object.fromEntries(
          ['text/plain', 'application/json', 'application/octet-stream'].map((t) => [t, { schema }]),
        ),
      };
    }
    case 'json':
      return { required: !r.optional, content: { 'application/json': { schema: ref(r.schema) } } };
    case 'bank-notice':
      return {
        required: true,
        content: {
          'application/x-www-form-urlencoded': {
            schema: {
              type: 'object',
              required: ['response'],
              properties: { response: { type: 'string', description: "The bank's signed XML notice." } },
            },
          },
          'text/xml': { schema: { type: 'string' } },
        },
      };
  }
}

const PATH_PARAMS: Record<string, Json> = {
  hash: { description: 'The transaction_hash: 40 lowercase hex characters.', schema: ref('transactionHash') },
  app_id: { description: "The merchant's app_id.", schema: { type: 'string' } },
  id: { description: 'A callback delivery id.', schema: { type: 'string', pattern: '^dlv_' } },
};

function operationId(route: RouteSpec): string {
  const words = `${route.method} ${route.path}`
    .replace('/api/v1/merchant-widget', ' merchant')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1))).join('');
}

function security(route: RouteSpec): Json[] {
  switch (route.auth) {
    case 'merchant':
      return [{ AuthIdentifier: [] }];
    case 'merchant-optional':
      return [{}, { AuthIdentifier: [] }];
    case 'admin':
      return [{}, { AdminBearer: [] }, { DashboardSession: [] }];
    case 'none':
      return [{}];
  }
}

function operation(route: RouteSpec): Json {
  const params: Json[] = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    ...(PATH_PARAMS[m[1]!] ?? { schema: { type: 'string' } }),
  }));
  for (const q of route.query ?? [])
    params.push({ name: q.name, in: 'query', required: false, description: q.description, schema: q.schema });
  const body = requestBody(route);
  const codes = [...new Set([...route.errors, 5000001])];
  return {
    operationId: operationId(route),
    tags: [route.tag],
    summary: route.summary,
    description: [
      route.description,
      route.source === 'doc' ? '**[doc]** In public ktpay material.' : "**[mock]** The sandbox's own design.",
    ]
      .filter(Boolean)
      .join('\n\n'),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    security: security(route),
    responses: { ...successResponses(route.success), ...errorResponses(route) },
    'x-ktpay-source': route.source,
    'x-error-codes': codes.map((code) => ({
      code,
      http_status: entry(code).http_status,
      message: entry(code).message,
      documented: entry(code).documented,
    })),
  };
}

const DESCRIPTION = `The ktpay merchant widget API as **ktpay-mock** serves it, generated from the project's JSON Schema contracts (\`contracts/\`).

**Requests** to the merchant API are sealed: \`crypto_box_seal(JSON, app_key)\`, base64 in the ORIGINAL variant, sent as the raw body with \`Auth-Identifier: <app_id>\`. The JSON inside each sealed body is given as \`x-ktpay-sealed-payload\`.

**Two response dialects**, chosen per merchant (\`envelope\`): *reference* (\`{"success": true, "payload": …}\` / \`{"success": false, "error": {code, message, validation?, hint}}\`) and *widget* (\`{"error": [], "response": {"success": true, "data": …}}\` / \`{"success": false, "data": [], "error": {code, messages, hint}, "response": {"success": false, "data": []}}\`). The HTTP status is the first three digits of the code.

**Errors**: every route lists its codes in \`x-error-codes\`, with a generated example per code and dialect; \`x-ktpay-error-catalog\` holds the whole catalog. Any route may answer \`5000001\`; an unknown path answers \`4040119\`; request headers over MAX_HEADER_SIZE get \`4310126\`.

**Admin API** (\`/__admin\`): open by default; with \`ADMIN_TOKEN\` set it needs \`Authorization: Bearer <token>\` (or the dashboard's session cookie).

[doc] marks what public ktpay material states; [mock] marks the sandbox's own design.`;

export interface OpenApiOptions {
  /** Server URLs to list first (e.g. the origin this sandbox is reached at). */
  servers?: Array<{ url: string; description: string }>;
}

/**
 * The OpenAPI 3.1 document: paths from the route table, components from the schema registry,
 * error examples from the error catalog through the same factory that builds real replies.
 *
 * @example
 * const doc = buildOpenApi({ servers: [{ url: 'http://127.0.0.1:8077', description: 'this sandbox' }] });
 */
export function buildOpenApi(opts: OpenApiOptions = {}): Json {
  const paths: Record<string, Json> = {};
  for (const route of ROUTES) (paths[route.path] ??= {})[route.method] = operation(route);
  const components: Json = {};
  for (const [name, schema] of Object.entries(schemas))
    components[name] = toComponent(schema, (schema as { $id: string }).$id);
  return {
    openapi: '3.1.0',
    info: {
      title: 'ktpay merchant widget API (ktpay-mock sandbox)',
      version: packageVersion(),
      description: DESCRIPTION,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [
      ...(opts.servers ?? []),
      { url: 'http://localhost:8077', description: 'ktpay-mock on its default port' },
      {
        url: 'https://card.test.nplus.tech',
        description: "ktpay's test environment (the merchant API paths)",
      },
    ],
    tags: [
      { name: 'Merchant API', description: 'What a merchant backend calls (spec §3).' },
      {
        name: 'Bank notifications',
        description: "The acquirer's side: result notice and the shopper's return.",
      },
      { name: 'Hosted pages', description: 'The widget page the iframe opens.' },
      { name: 'Admin', description: 'The sandbox control API.' },
      { name: 'Admin: transactions', description: 'Inspect and drive payments headlessly.' },
      { name: 'Admin: callbacks', description: 'Callback deliveries and their attempt logs.' },
      { name: 'Admin: scenarios', description: 'Scripted behaviour and error-code replay.' },
    ],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        AuthIdentifier: {
          type: 'apiKey',
          in: 'header',
          name: 'Auth-Identifier',
          description: "The merchant's app_id.",
        },
        AdminBearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'ADMIN_TOKEN, when the sandbox runs with one.',
        },
        DashboardSession: {
          type: 'apiKey',
          in: 'cookie',
          name: DASHBOARD_COOKIE,
          description: 'Set by signing in to /__admin/ui.',
        },
      },
    },
    'x-ktpay-any-route-codes': [...ANY_ROUTE_CODES],
    'x-ktpay-error-catalog': errorCatalog.ktpay,
  };
}
