import { errorCatalog } from '../../contracts/error-catalog.js';
import { schemas, type SchemaName } from '../../contracts/schema-registry.js';
import { ID_BASE } from '../../contracts/schemas/common.js';
import { TRANSACTION_URL_FIELDS } from '../../mock-server/payments/transaction.js';
import type { ProbeDefinition } from './battery.js';
import type { Drift } from './drift.js';
import type { ReadAnswer } from './read-answer.js';

/** Whether a value satisfies a contract schema (the schema registry's validators, injected). */
export type ContractCheck = (name: SchemaName, value: unknown) => boolean;

/** Payload fields that hold URLs: each gateway points them at itself (the bank page, its own links). */
export const URL_FIELDS: ReadonlySet<string> = new Set([
  'payment_page',
  'payment_page_url',
  'action',
  'post_link',
  'back_link',
  ...TRANSACTION_URL_FIELDS,
]);

/**
 * Fields whose values legitimately differ between two gateways (hashes, ids, times, URLs pointing
 * at each gateway, signed documents): their type and format are compared, never their value.
 * Matched by the field's own name, wherever it sits.
 */
export const VOLATILE_FIELDS: ReadonlySet<string> = new Set([
  'transaction_hash',
  'order_id',
  'merchant_id',
  'created_at',
  'updated_at',
  'signed_order',
  ...URL_FIELDS,
]);

const ENVELOPE_SCHEMA = {
  reference: { success: schemas.referenceSuccess.$id, error: schemas.referenceError.$id },
  widget: { success: schemas.widgetSuccess.$id, error: schemas.widgetError.$id },
} as const;

const short = (id: string) => `contracts ${id.replace(ID_BASE, '')}`;
const catalogEntry = new Map(errorCatalog.ktpay.map((e) => [e.code, e]));

/** A value as one short line for a report. */
export function show(v: unknown, max = 160): string {
  const s = v === undefined ? '(none)' : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** The kind of string a volatile value is: what must match when the value itself may not. */
export function formatOf(s: string): string {
  if (s === '') return 'empty';
  if (/^[0-9a-f]{40}$/.test(s)) return '40 hex';
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+06:00$/.test(s)) return 'time +06:00';
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(s)) return 'time (other form)';
  if (/^https?:\/\/[^\s]+$/.test(s)) return 'URL';
  if (s.length >= 16 && s.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s)) return 'base64';
  return 'text';
}

type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';
interface Leaf {
  type: JsonType;
  value: unknown;
}

const jsonType = (v: unknown): JsonType =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as 'boolean' | 'number' | 'string' | 'object');

/** Every field path of a payload (`status.status`, `refunds[].amount`) with its JSON type, in order. */
export function flatten(v: unknown, path = '', out = new Map<string, Leaf>()): Map<string, Leaf> {
  const type = jsonType(v);
  if (path && !out.has(path)) out.set(path, { type, value: v });
  if (type === 'object') {
    for (const [k, child] of Object.entries(v as Record<string, unknown>))
      flatten(child, path ? `${path}.${k}` : k, out);
  } else if (type === 'array') {
    for (const item of v as unknown[]) flatten(item, `${path}[]`, out);
  }
  return out;
}

const fieldName = (path: string) => path.split('.').pop()!.replace(/\[\]$/, '');

/**
 * Where a field path sits in a contract schema, as `$id#pointer`, so a drift names the rule.
 *
 * @example
 * schemaPointer('paymentStatus', 'status.status') // 'contracts payment-status.json#/properties/status/properties/status'
 */
export function schemaPointer(name: SchemaName, path: string): string {
  const root = schemas[name] as unknown as Record<string, unknown> & { $id: string };
  let node: Record<string, unknown> | undefined = root;
  let pointer = '';
  for (const raw of path.split('.')) {
    const isArray = raw.endsWith('[]');
    const seg = isArray ? raw.slice(0, -2) : raw;
    const holders: Record<string, unknown>[] = [node!, ...((node!.oneOf as Record<string, unknown>[]) ?? [])];
    const holder = holders.find((h) => (h.properties as Record<string, unknown> | undefined)?.[seg]);
    if (!holder) return `${short(root.$id)}#${pointer} has no field "${seg}" (additionalProperties: false)`;
    if (holder !== node) pointer += `/oneOf/${holders.indexOf(holder) - 1}`;
    pointer += `/properties/${seg}`;
    node = (holder.properties as Record<string, Record<string, unknown>>)[seg];
    if (isArray) {
      pointer += '/items';
      node = node!.items as Record<string, unknown>;
    }
  }
  return `${short(root.$id)}#${pointer}`;
}

function codeRule(code: unknown): string {
  const e = typeof code === 'number' ? catalogEntry.get(code) : undefined;
  return e
    ? `error-catalog ${e.code} "${e.message}" (${e.where})`
    : `${show(code)} is not in the error catalog`;
}

function describeOutcome(a: ReadAnswer): string {
  if (a.outcome === 'error') return `error ${show(a.code)} ${show(a.messages ?? null, 100)}`;
  if (a.outcome === 'success')
    return `success with ${a.payload && typeof a.payload === 'object' ? `{${Object.keys(a.payload).join(', ')}}` : show(a.payload)}`;
  return a.dialect === 'not_json'
    ? 'a body that is not JSON'
    : `an unrecognised JSON body ${show(a.json, 100)}`;
}

function compareMessages(probe: ProbeDefinition, u: ReadAnswer, s: ReadAnswer): Drift[] {
  const drifts: Drift[] = [];
  const um = u.messages ?? {};
  const sm = s.messages ?? {};
  const fields = [...new Set([...Object.keys(um), ...Object.keys(sm)])];
  for (const field of fields) {
    if (um[field] === sm[field]) continue;
    const validation = field !== 'error';
    drifts.push({
      kind: 'message',
      path: field,
      upstream: show(um[field]),
      sandbox: show(sm[field]),
      rule: validation
        ? `${probe.rule}; field texts: contracts/data/validation-messages.json`
        : `${probe.rule}; ${codeRule(u.code)}`,
    });
  }
  return drifts;
}

function compareFields(
  probe: ProbeDefinition,
  u: ReadAnswer,
  s: ReadAnswer,
  matches: ContractCheck,
): Drift[] {
  // With two contracts (acquirer-options v2 and v1), first see which one each side follows.
  const contractOf = (a: ReadAnswer) => probe.contracts.find((c) => matches(c, a.payload));
  const uc = contractOf(u);
  const sc = contractOf(s);
  if (probe.contracts.length > 1 && uc && sc && uc !== sc) {
    return [
      {
        kind: 'contract',
        upstream: `follows ${short(schemas[uc].$id)}`,
        sandbox: `follows ${short(schemas[sc].$id)}`,
        rule: probe.rule,
      },
    ];
  }
  const contract = sc ?? uc ?? probe.contracts[0]!;
  const up = flatten(u.payload);
  const sp = flatten(s.payload);
  const drifts: Drift[] = [];
  const settled: string[] = [];
  const under = (path: string) => settled.some((p) => path.startsWith(`${p}.`) || path.startsWith(`${p}[]`));
  for (const path of [...new Set([...up.keys(), ...sp.keys()])]) {
    if (under(path)) continue;
    const a = up.get(path);
    const b = sp.get(path);
    const rule = schemaPointer(contract, path);
    const drift = (kind: Drift['kind'], upstream: string, sandbox: string) => {
      drifts.push({ kind, path, upstream, sandbox, rule });
      settled.push(path);
    };
    if (!b) drift('field_missing', `${a!.type} ${show(a!.value, 60)}`, '(no such field)');
    else if (!a) drift('field_extra', '(no such field)', `${b.type} ${show(b.value, 60)}`);
    else if (a.type !== b.type) drift('field_type', a.type, b.type);
    else if (a.type === 'object' || a.type === 'array') continue;
    else if (VOLATILE_FIELDS.has(fieldName(path))) {
      if (a.type === 'string' && formatOf(a.value as string) !== formatOf(b.value as string))
        drift('field_format', formatOf(a.value as string), formatOf(b.value as string));
    } else if (JSON.stringify(a.value) !== JSON.stringify(b.value))
      drift('field_value', show(a.value), show(b.value));
  }
  return drifts;
}

/**
 * Compares one probe's two answers, aspect by aspect: the HTTP status, the media type, the
 * envelope dialect and its keys, success or error, the error code and message texts, and the
 * payload field by field (types everywhere; formats where values legitimately differ; values where
 * they must be equal). Pure: the same two answers always give the same drifts.
 *
 * @example
 * const drifts = compareAnswers(probe, readAnswer(upstream), readAnswer(sandbox), (n, v) => registry.validator(n)(v));
 */
export function compareAnswers(
  probe: ProbeDefinition,
  u: ReadAnswer,
  s: ReadAnswer,
  matches: ContractCheck,
): Drift[] {
  const drifts: Drift[] = [];
  if (u.status !== s.status) {
    drifts.push({
      kind: 'http_status',
      upstream: String(u.status),
      sandbox: String(s.status),
      rule: `${probe.rule}; spec §5: HTTP status = the first three digits of the code, 200 on success [mock]`,
    });
  }
  if (u.media_type !== s.media_type) {
    drifts.push({
      kind: 'content_type',
      upstream: show(u.media_type),
      sandbox: show(s.media_type),
      rule: 'the merchant API answers JSON (spec §5)',
    });
  }
  if ((u.dialect === 'not_json') !== (s.dialect === 'not_json')) {
    drifts.push({
      kind: 'body',
      upstream: describeOutcome(u),
      sandbox: describeOutcome(s),
      rule: 'spec §5 envelopes',
    });
    return drifts;
  }
  if (u.dialect === 'not_json') return drifts;
  if (u.dialect !== s.dialect) {
    drifts.push({
      kind: 'dialect',
      upstream: u.dialect,
      sandbox: s.dialect,
      rule: "spec §5: the merchant's envelope dialect, reference or widget (contracts reference-*.json, widget-*.json); the probe's sandbox merchant follows --envelope",
    });
  }
  if (u.outcome !== s.outcome) {
    drifts.push({
      kind: 'outcome',
      upstream: describeOutcome(u),
      sandbox: describeOutcome(s),
      rule: probe.rule,
    });
    return drifts;
  }
  if (u.dialect === s.dialect && u.dialect !== 'unknown' && u.outcome !== 'unknown') {
    const schemaId = ENVELOPE_SCHEMA[u.dialect][u.outcome];
    for (const level of [...new Set([...Object.keys(u.keys), ...Object.keys(s.keys)])]) {
      const a = u.keys[level] ?? [];
      const b = s.keys[level] ?? [];
      if (a.join() !== b.join()) {
        drifts.push({
          kind: 'envelope_keys',
          path: level,
          upstream: show(a),
          sandbox: show(b),
          rule: short(schemaId),
        });
      }
    }
  }
  if (u.outcome === 'error') {
    if (u.code !== s.code) {
      drifts.push({
        kind: 'error_code',
        upstream: show(u.code),
        sandbox: show(s.code),
        rule: `${probe.rule}; upstream: ${codeRule(u.code)}; sandbox: ${codeRule(s.code)}`,
      });
      // The message follows the code: with different codes, the texts say nothing more.
    } else drifts.push(...compareMessages(probe, u, s));
  } else if (u.outcome === 'success') {
    drifts.push(...compareFields(probe, u, s, matches));
  }
  return drifts;
}
