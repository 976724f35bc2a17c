import type { ErrorObject } from 'ajv';
import { readContractData } from '../../contracts/error-catalog.js';
import { setOwn } from '../shared/own-property.js';
import type { FieldMessages, Locale } from './ktpay-error.js';

type MessageTable = Record<string, string>;
const texts = readContractData<{ ru: MessageTable; en: MessageTable }>('validation-messages.json');

/** A message from contracts/data/validation-messages.json, with `{placeholders}` filled. */
export function fieldMessage(key: string, locale: Locale, params: Record<string, unknown> = {}): string {
  const table = texts[locale];
  const template = table[key] ?? table.other!;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name];
    return Array.isArray(v) ? v.join(', ') : String(v ?? '');
  });
}

const pointerToPath = (pointer: string) => pointer.replace(/^\//, '').replace(/\//g, '.');

export interface PayloadVerdict {
  /** Field path → messages; empty when the payload is valid. */
  fields: FieldMessages;
  /** Unknown fields: accepted, but reported as contract warnings [mock]. */
  warnings: string[];
}

/**
 * Splits ajv errors into per-field messages (one per field, in the merchant's locale) and
 * contract warnings for unknown fields.
 *
 * @example
 * toFieldErrors(validate.errors, 'ru') // { fields: { 'order.amount': ['Обязательное поле.'] }, warnings: [] }
 */
export function toFieldErrors(errors: ErrorObject[] | null | undefined, locale: Locale): PayloadVerdict {
  const fields: FieldMessages = {};
  const warnings: string[] = [];
  for (const e of errors ?? []) {
    if (e.keyword === 'if') continue; // the failing `then` branch is reported on its own
    const base = pointerToPath(e.instancePath);
    if (e.keyword === 'additionalProperties') {
      const name = (e.params as { additionalProperty: string }).additionalProperty;
      warnings.push(`unknown field ${base ? `${base}.` : ''}${name}: not in the ktpay contract, ignored`);
      continue;
    }
    let path = base;
    const params: Record<string, unknown> = { ...e.params };
    if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      path = base ? `${base}.${missing}` : missing;
    }
    if (e.keyword === 'type') params.type = (e.params as { type: string | string[] }).type;
    if (e.keyword === 'enum') params.values = (e.params as { allowedValues: unknown[] }).allowedValues;
    const key = e.keyword in texts.ru ? e.keyword : 'other';
    const msg = fieldMessage(key, locale, params);
    const field = path || 'body';
    // One message per field: the first rule that failed is the one a developer fixes first.
    if (!Object.hasOwn(fields, field)) setOwn(fields, field, [msg]);
  }
  return { fields, warnings };
}
