import { MAX_JSON_DEPTH, notShown } from '../../shared/json-depth.js';
import { html, raw, type SafeHtml } from '../html.js';

/**
 * The most values one JSON view renders. A payload within BODY_LIMIT holds up to ~30,000 of them,
 * and the journal page shows 200 entries: past this budget the view says how many it left out
 * (the admin API returns the whole body).
 */
export const JSON_VIEW_MAX_VALUES = 2_000;

/** How deep and how much a view renders (issue 22: whatever was stored, the page still answers). */
interface Budget {
  values: number;
}

/**
 * Pretty-printed JSON as escaped HTML. Properties whose dotted path (`order.foo`) is in `marks`
 * are wrapped in `<mark class="warn">` with the note as their title, so contract warnings show
 * where they are. Array items get their index in the path (`items.0.name`). Levels deeper than
 * {@link MAX_JSON_DEPTH} and values past {@link JSON_VIEW_MAX_VALUES} are shown as "not shown"
 * placeholders, so a value an older version stored cannot make the page fail.
 *
 * @example
 * jsonView({ order: { foo: 1 } }, new Map([['order.foo', 'unknown field']]));
 */
export function jsonView(value: unknown, marks: ReadonlyMap<string, string> = new Map()): SafeHtml {
  const budget: Budget = { values: JSON_VIEW_MAX_VALUES };
  return html`<pre class="json">${render(value, '', 0, marks, budget)}</pre>`;
}

/** JSON text pretty-printed when it parses, else shown as it is. */
export function jsonTextView(text: string): SafeHtml {
  try {
    return jsonView(JSON.parse(text));
  } catch {
    return html`<pre class="code-block">${text}</pre>`;
  }
}

const pad = (depth: number) => '  '.repeat(depth);

function scalar(value: unknown): SafeHtml {
  if (value === null) return html`<span class="j-null">null</span>`;
  switch (typeof value) {
    case 'string':
      return html`<span class="j-str">${JSON.stringify(value)}</span>`;
    case 'number':
      return html`<span class="j-num">${String(value)}</span>`;
    case 'boolean':
      return html`<span class="j-bool">${String(value)}</span>`;
    default:
      return html`<span class="j-null">${String(value)}</span>`;
  }
}

const omitted = (text: string) => html`<span class="j-omitted">${text}</span>`;

function render(
  value: unknown,
  path: string,
  depth: number,
  marks: ReadonlyMap<string, string>,
  budget: Budget,
): SafeHtml {
  budget.values--;
  const isArray = Array.isArray(value);
  if (!isArray && (value === null || typeof value !== 'object')) return scalar(value);
  if (depth >= MAX_JSON_DEPTH) return omitted(JSON.stringify(notShown()));
  const entries = isArray
    ? (value as unknown[]).map((v, i) => [String(i), v] as const)
    : Object.entries(value as object);
  if (entries.length === 0) return raw(isArray ? '[]' : '{}');
  const items: SafeHtml[] = [];
  for (const [k, v] of entries) {
    if (budget.values <= 0) {
      const left = entries.length - items.length;
      items.push(
        html`${pad(depth + 1)}${omitted(`… ${left} more ${left === 1 ? 'value' : 'values'} not shown (the view stops at ${JSON_VIEW_MAX_VALUES}; the admin API returns the whole body)`)}`,
      );
      break;
    }
    const p = path ? `${path}.${k}` : k;
    const inner = render(v, p, depth + 1, marks, budget);
    const line = isArray ? inner : html`<span class="j-key">${JSON.stringify(k)}</span>: ${inner}`;
    items.push(html`${pad(depth + 1)}${wrap(line, p, marks)}`);
  }
  return isArray ? html`[\n${join(items)}\n${pad(depth)}]` : html`{\n${join(items)}\n${pad(depth)}}`;
}

function wrap(line: SafeHtml, path: string, marks: ReadonlyMap<string, string>): SafeHtml {
  const note = marks.get(path);
  return note === undefined
    ? line
    : html`<mark class="warn" data-path="${path}" title="${note}">${line}</mark>`;
}

function join(items: SafeHtml[]): SafeHtml {
  return raw(items.map((i) => i.value).join(',\n'));
}

/**
 * Contract warnings (`unknown field order.foo: …`) as a path → text map for {@link jsonView}.
 * Warnings that name no field are left out (the caller lists every warning in words anyway).
 */
export function warningMarks(warnings: readonly string[]): Map<string, string> {
  const marks = new Map<string, string>();
  for (const w of warnings) {
    const m = /^unknown field (\S+?):/.exec(w);
    if (m) marks.set(m[1]!, w);
  }
  return marks;
}
