import { readFileSync } from 'node:fs';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { schemas, type SchemaName } from '../../contracts/schema-registry.js';
import { sandboxConfig } from '../../contracts/schemas/config-file.js';
import { catalogAcquirerCodes, loadAcquirerData } from '../../mock-server/acquirer/acquirer-data.js';
import { CONFIG_FILE_ENV, ENV_VARS, loadConfig } from '../../mock-server/config/load-config.js';
import {
  ANY_ROUTE_CODES,
  ROUTES,
  type QueryParam,
  type RouteSpec,
} from '../../mock-server/openapi/route-table.js';
import { projectPath } from '../../mock-server/shared/project-root.js';

/**
 * The reference pages under docs/ whose tables come from code: the configuration reference from the
 * config schema and the loader's environment table, the admin API (and the merchant API's route
 * list) from the OpenAPI route table, the error codes from the catalog. Each page keeps its
 * hand-written prose; only the part between the markers below is written by `npm run docs`
 * (test/docs/write-reference-docs.ts), and test/docs/reference-docs.test.ts fails when a committed
 * page differs from what the code says.
 */

export const BEGIN = '<!-- BEGIN GENERATED -->';
export const END = '<!-- END GENERATED -->';

export interface GeneratedPage {
  /** Path under the project root. */
  file: string;
  /** Where the block comes from, said in the block itself. */
  source: string;
  render: () => string;
}

export const GENERATED_PAGES: readonly GeneratedPage[] = [
  {
    file: 'docs/configuration.md',
    source: '`ENV_VARS` in mock-server/config/load-config.ts and contracts/schemas/config-file.ts',
    render: renderConfiguration,
  },
  {
    file: 'docs/admin-api.md',
    source: 'the route table, mock-server/openapi/route-table.ts',
    render: () => renderRoutes((r) => r.path.startsWith('/__admin')),
  },
  {
    file: 'docs/merchant-api.md',
    source: 'the route table, mock-server/openapi/route-table.ts',
    render: () => renderRoutes((r) => !r.path.startsWith('/__admin')),
  },
  {
    file: 'docs/error-codes.md',
    source:
      'contracts/data/error-catalog.json and contracts/data/acquirer-outcomes.json (through mock-server/acquirer/acquirer-data.ts)',
    render: renderErrorCodes,
  },
];

/**
 * `page` with the text between its markers replaced by `block`. Throws when the page lacks the
 * markers, so a page that lost them is never silently skipped.
 *
 * @example
 * spliceGenerated('intro\n<!-- BEGIN GENERATED -->\nold\n<!-- END GENERATED -->\n', 'new\n');
 * // 'intro\n<!-- BEGIN GENERATED -->\nnew\n<!-- END GENERATED -->\n'
 */
export function spliceGenerated(page: string, block: string): string {
  const start = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  if (start < 0 || end < start || page.indexOf(BEGIN, start + 1) >= 0) {
    throw new Error(`the page needs exactly one ${BEGIN} … ${END} pair`);
  }
  return `${page.slice(0, start + BEGIN.length)}\n${block}${page.slice(end)}`;
}

/** `text` (a version of `page`) with its generated block as `npm run docs` writes it. */
export function regenerate(page: GeneratedPage, text: string): string {
  const note = `<!-- Written by \`npm run docs\` from ${page.source}. Edit those, then run it again. -->\n\n`;
  return spliceGenerated(text, note + page.render());
}

/** The committed text of a generated page and the text `npm run docs` would write. */
export function pageStates(page: GeneratedPage): { committed: string; expected: string } {
  const committed = readFileSync(projectPath(page.file), 'utf8');
  return { committed, expected: regenerate(page, committed) };
}

// --- shared formatting ----------------------------------------------------------------------------

/** A table cell: pipes escaped, line breaks flattened. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const code = (text: string | number) => `\`${text}\``;
const row = (cells: (string | number)[]) => `| ${cells.map((c) => cell(String(c))).join(' | ')} |`;
const table = (head: string[], rows: (string | number)[][]) =>
  [row(head), `|${head.map(() => '---').join('|')}|`, ...rows.map(row)].join('\n') + '\n';

// --- configuration ---------------------------------------------------------------------------------

type SchemaNode = {
  type?: string;
  enum?: readonly unknown[];
  const?: unknown;
  oneOf?: readonly SchemaNode[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  items?: SchemaNode;
  $ref?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
};

/** Every setting of the config schema, depth first, as dotted keys (`callbacks.timeout_ms`). */
function schemaLeaves(node: SchemaNode, prefix = ''): { key: string; node: SchemaNode }[] {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => {
    const key = prefix ? `${prefix}.${name}` : name;
    return child.properties ? schemaLeaves(child, key) : [{ key, node: child }];
  });
}

/** A schema in a few words: `integer, 0–65535`, `` `reference` \| `widget` ``, `list of strings`. */
function describeType(node: SchemaNode): string {
  if (node.oneOf) return node.oneOf.map(describeType).join(' or ');
  if (node.const !== undefined) return code(String(node.const));
  if (node.enum) return node.enum.map((v) => code(String(v))).join(', ');
  if (node.$ref) return `${code(node.$ref.replace(/\.json$/, ''))} object`;
  if (node.type === 'array') {
    const of = node.items ? describeType(node.items).replace(/ object$/, ' objects') : 'values';
    return `list of ${of.replace(/^(string|integer|number)\b/, '$1s')}${node.maxItems ? ` (at most ${node.maxItems})` : ''}`;
  }
  const bounds: string[] = [];
  if (node.minimum !== undefined && node.maximum !== undefined)
    bounds.push(`${node.minimum}–${node.maximum}`);
  else if (node.minimum !== undefined) bounds.push(`≥ ${node.minimum}`);
  else if (node.maximum !== undefined) bounds.push(`≤ ${node.maximum}`);
  if (node.exclusiveMinimum !== undefined) bounds.unshift(`> ${node.exclusiveMinimum}`);
  if (node.pattern?.startsWith('^https?://') && node.pattern.endsWith('[^/]+$'))
    return 'http(s) origin, no path';
  if (node.format === 'uri' || node.pattern?.startsWith('^https?://')) return 'http(s) URL';
  return [node.type ?? 'value', ...bounds].join(', ');
}

/** The value a setting has when nothing sets it, read from the loader itself. */
function loadedDefault(config: unknown, key: string): string {
  let value: unknown = config;
  for (const part of key.split('.')) {
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  if (value === undefined) return 'unset';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : code(value.join(','));
  return code(String(value));
}

function renderConfiguration(): string {
  // No environment: the defaults are the loader's own, the same on every machine.
  const defaults = loadConfig({ env: {} });
  const envOf = new Map(Object.entries(ENV_VARS).map(([name, spec]) => [spec.field, { name, ...spec }]));
  const leaves = schemaLeaves(sandboxConfig as unknown as SchemaNode);
  const rows = leaves.map(({ key, node }) => {
    const env = envOf.get(key);
    envOf.delete(key);
    return [
      code(key),
      env ? code(env.name) : '—',
      describeType(node),
      env?.default ?? loadedDefault(defaults, key),
      env?.doc ?? node.description ?? '',
    ];
  });
  // A variable whose field the schema lacks would be refused at startup; list it anyway, so it shows.
  for (const env of envOf.values())
    rows.push([code(env.field), code(env.name), '', env.default ?? '', env.doc]);
  rows.push(['—', code(CONFIG_FILE_ENV.name), 'path', 'unset', CONFIG_FILE_ENV.doc]);
  return table(['Config key', 'Environment', 'Type', 'Default', 'Meaning'], rows);
}

// --- routes ----------------------------------------------------------------------------------------

const AUTH_TEXT: Record<RouteSpec['auth'], string> = {
  merchant: '`Auth-Identifier` required',
  'merchant-optional': '`Auth-Identifier` optional (checked when sent)',
  admin: '`ADMIN_TOKEN` when set',
  none: 'none',
};

/** A body schema's top-level fields, `?` marking the optional ones: `{pan, cvc, otp?}`. */
function fieldsOf(name: SchemaName): string {
  const schema = schemas[name] as { properties?: Record<string, unknown>; required?: readonly string[] };
  if (!schema.properties) return '';
  const required = new Set(schema.required ?? []);
  return ` \`{${Object.keys(schema.properties)
    .map((k) => (required.has(k) ? k : `${k}?`))
    .join(', ')}}\``;
}

function requestText(r: RouteSpec): string {
  const req = r.request;
  if (!req) return '';
  if (req.kind === 'sealed')
    return `Body: \`${req.schema}\`${fieldsOf(req.schema)}, sealed and base64-encoded${req.optional ? ' (optional)' : ''}.`;
  if (req.kind === 'json')
    return `Body: \`${req.schema}\`${fieldsOf(req.schema)} (JSON)${req.optional ? ', optional' : ''}.`;
  return "Body: the bank's signed notice (form field `response`, or the XML as the body).";
}

const queryText = (query: readonly QueryParam[] | undefined) =>
  query?.length
    ? `Query: ${query.map((q) => `\`${q.name}\`: ${q.description.replace(/^./, (c) => c.toLowerCase()).replace(/\.$/, '')}`).join('; ')}.`
    : '';

function answerText(r: RouteSpec): string {
  const s = r.success;
  switch (s.kind) {
    case 'envelope':
      return `${s.schemas.map(code).join(' or ')} in the merchant's dialect`;
    case 'json':
      return `${s.status ?? 200} ${code(s.schema)}`;
    case 'pdf':
      return '200 `application/pdf`';
    case 'text':
      return `200 ${code(s.mediaType ?? 'text/plain')}${s.example.length < 10 ? ` ${code(s.example)}` : ''}`;
    case 'redirect':
      return `303: ${s.description.replace(/^See Other: /, '')}`;
  }
}

function renderRoutes(keep: (r: RouteSpec) => boolean): string {
  const routes = ROUTES.filter(keep);
  const tags = [...new Set(routes.map((r) => r.tag))];
  const parts: string[] = [];
  for (const tag of tags) {
    parts.push(`### ${tag}`, '');
    const rows = routes
      .filter((r) => r.tag === tag)
      .map((r) => [
        code(`${r.method.toUpperCase()} ${r.path}`),
        [r.summary.replace(/\.?$/, '.'), r.description ?? '', queryText(r.query), requestText(r)]
          .filter(Boolean)
          .join(' '),
        answerText(r),
        AUTH_TEXT[r.auth],
        r.errors.map(code).join(', '),
        r.source,
      ]);
    parts.push(table(['Route', 'What it does', 'Answer', 'Auth', 'Error codes', 'Source'], rows));
  }
  parts.push(
    `Any route can also answer ${ANY_ROUTE_CODES.map(code).join(', ')} (see [Error codes](error-codes.md)). ` +
      "`Source` says whether the route is in public ktpay material (`doc`) or the sandbox's own (`mock`).",
    '',
  );
  return parts.join('\n');
}

// --- error codes -----------------------------------------------------------------------------------

function renderErrorCodes(): string {
  const ktpayRows = errorCatalog.ktpay.map((e) => [
    code(e.code),
    e.http_status,
    e.message_en ? `${e.message} (${e.message_en})` : e.message,
    e.where,
    e.documented ? 'doc' : 'mock',
  ]);
  const data = loadAcquirerData();
  const acquirerRows = catalogAcquirerCodes().map((c) => {
    const o = data.outcomes.codes[c];
    if (!o) throw new Error(`acquirer code ${c} has no outcome in contracts/data/acquirer-outcomes.json`);
    return [code(c), `${code(o.status)} / ${code(o.error_type)}`, o.family, data.messages.get(c) ?? ''];
  });
  const families = Object.entries(data.outcomes.families).map(([name, text]) => [code(name), text]);
  return [
    '### ktpay error codes',
    '',
    table(['Code', 'HTTP', 'Message', 'When', 'Source'], ktpayRows),
    '### Acquirer codes',
    '',
    "What each acquirer code ends in (a [mock] mapping); the message is the catalog's text (for a code " +
      'listed in two groups, such as `75`, the first).',
    '',
    table(['Code', 'Status / error_type', 'Family', 'Message'], acquirerRows),
    'The families:',
    '',
    table(['Family', 'Means'], families),
  ].join('\n');
}
