import type { Faker } from '@faker-js/faker';

/** What `{{…}}` can name: run variables (a tree) and seeded faker data. */
export interface TemplateScope {
  vars: Record<string, unknown>;
  faker: Faker;
  /** Variable names read while rendering (the runner checks the amount only when the trigger sent it). */
  used?: Set<string>;
}

const WHOLE = /^\{\{\s*([^{}]+?)\s*\}\}$/;
const ANY = /\{\{\s*([^{}]+?)\s*\}\}/g;

/** Kazakh mobile numbers in the +7 format ktpay's examples use. */
function kzPhone(f: Faker): string {
  return `+77${f.helpers.arrayElement(['00', '01', '02', '05', '07', '08', '47', '71', '75', '76', '77', '78'])}${f.string.numeric(7)}`;
}

/**
 * The value of one expression: a run variable (`order_id`, `payment.transaction_hash`,
 * `trigger.body.id`) or faker data (`faker.person.fullName`, `faker.internet.email`,
 * `faker.phone` for a +7 number). An unknown name is an error that lists what exists.
 */
export function evaluate(expr: string, scope: TemplateScope): unknown {
  const name = expr.trim();
  if (name === 'faker.phone') return kzPhone(scope.faker);
  if (name.startsWith('faker.')) {
    const parts = name.split('.').slice(1);
    let node: unknown = scope.faker;
    let owner: unknown = undefined;
    for (const p of parts) {
      if (
        node === null ||
        (typeof node !== 'object' && typeof node !== 'function') ||
        !(p in (node as object))
      ) {
        throw new Error(`{{${name}}}: faker has no ${parts.join('.')} (see https://fakerjs.dev/api/)`);
      }
      owner = node;
      node = (node as Record<string, unknown>)[p];
    }
    if (typeof node !== 'function') throw new Error(`{{${name}}}: not a faker function`);
    return (node as (this: unknown) => unknown).call(owner);
  }
  scope.used?.add(name.split('.')[0]!);
  let node: unknown = scope.vars;
  for (const p of name.split('.')) {
    if (
      node === null ||
      typeof node !== 'object' ||
      !Object.hasOwn(node, p) ||
      (node as Record<string, unknown>)[p] === undefined
    ) {
      throw new Error(
        `{{${name}}} is not known here (known: ${Object.keys(scope.vars).sort().join(', ')}, faker.*)`,
      );
    }
    node = (node as Record<string, unknown>)[p];
  }
  return node;
}

const asText = (v: unknown) =>
  typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);

/**
 * Renders a string template. `quote` wraps each value for a POSIX shell (single quotes), so faker
 * data such as "O'Brien" cannot break or inject into a trigger command.
 *
 * @example
 * renderString('/orders/{{order_id}}', scope); // '/orders/kmc-7F3K2Q9A'
 */
export function renderString(text: string, scope: TemplateScope, quote?: 'shell'): string {
  return text.replace(ANY, (_m, expr: string) => {
    const value = asText(evaluate(expr, scope));
    return quote === 'shell' ? `'${value.replace(/'/g, `'\\''`)}'` : value;
  });
}

/**
 * Renders every string inside a JSON value. A string that is exactly one `{{…}}` becomes the
 * value itself, so `amount: "{{amount}}"` stays a number.
 */
export function renderValue(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    return whole ? evaluate(whole[1]!, scope) : renderString(value, scope);
  }
  if (Array.isArray(value)) return value.map((v) => renderValue(v, scope));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v, scope)]));
  }
  return value;
}
