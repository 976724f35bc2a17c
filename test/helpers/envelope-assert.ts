import { expect } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import type { Dialect } from '../../mock-server/envelope/ktpay-error.js';

const registry = createSchemaRegistry();

/** What a reply said, read the way its dialect says it. */
export interface ErrorReplyView {
  code: number;
  hint: string;
  /** The message (reference) or `messages.error` (widget); field messages are in `fields`. */
  message: string | undefined;
  /** Field path → text(s): `validation` (reference, arrays) or `messages` (widget, strings). */
  fields: Record<string, string | string[]>;
}

/**
 * Asserts a catalog error exactly as `dialect` shapes it: the HTTP status (the code's first three
 * digits), the contract schema of the envelope, the code and, for codes without field messages,
 * the catalog's text. Returns the error for further checks.
 *
 * @example
 * const err = expectErrorReply(res.statusCode, res.json(), 'widget', 4130120);
 */
export function expectErrorReply(
  status: number,
  body: unknown,
  dialect: Dialect,
  code: number,
): ErrorReplyView {
  const text = JSON.stringify(body);
  expect(status, text).toBe(Number(String(code).slice(0, 3)));
  const validate = registry.validator(dialect === 'widget' ? 'widgetError' : 'referenceError');
  expect(validate(body), `${dialect} error contract: ${JSON.stringify(validate.errors)} for ${text}`).toBe(
    true,
  );
  const entry = errorCatalog.ktpay.find((e) => e.code === code)!;
  if (dialect === 'widget') {
    const err = (body as { error: { code: number; messages: Record<string, string>; hint: string } }).error;
    expect(err.code, text).toBe(code);
    expect(err.hint.startsWith(entry.hint), text).toBe(true);
    const { error: message, ...fields } = err.messages;
    if (message !== undefined) expect([entry.message, entry.message_en]).toContain(message);
    return { code: err.code, hint: err.hint, message, fields };
  }
  const err = (
    body as {
      error: { code: number; message: string; hint: string; validation?: Record<string, string[]> };
    }
  ).error;
  expect(err.code, text).toBe(code);
  expect([entry.message, entry.message_en]).toContain(err.message);
  expect(err.hint.startsWith(entry.hint), text).toBe(true);
  return { code: err.code, hint: err.hint, message: err.message, fields: err.validation ?? {} };
}

/** Asserts a success envelope of `dialect` and returns its payload (`payload` / `response.data`). */
export function expectSuccessReply(status: number, body: unknown, dialect: Dialect): Record<string, unknown> {
  const text = JSON.stringify(body);
  expect(status, text).toBe(200);
  const validate = registry.validator(dialect === 'widget' ? 'widgetSuccess' : 'referenceSuccess');
  expect(validate(body), `${dialect} success contract: ${JSON.stringify(validate.errors)}`).toBe(true);
  return dialect === 'widget'
    ? (body as { response: { data: Record<string, unknown> } }).response.data
    : (body as { payload: Record<string, unknown> }).payload;
}
