import { html, raw, type SafeHtml } from '../html.js';

/**
 * Pretty-printed JSON as escaped HTML. Properties whose dotted path (`order.foo`) is in `marks`
 * are wrapped in `<mark class="warn">` with the note as their title, so contract warnings show
 * where they are. Array items get their index in the path (`items.0.name`).
 *
 * @example
 * jsonView({ order: { foo: 1 } }, new Map([['order.foo', 'unknown field']]));
 */
export function jsonView(value: unknown, marks: ReadonlyMap<string, string> = new Map()): SafeHtml {
  return html`<pre class="json">${render(value, '', 0, marks)}</pre>`;
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

function render(value: unknown, path: string, depth: number, marks: ReadonlyMap<string, string>): SafeHtml {
  if (Array.isArray(value)) {
    if (value.length === 0) return raw('[]');
    const items = value.map((v, i) => {
      const p = path ? `${path}.${i}` : String(i);
      return html`${pad(depth + 1)}${wrap(render(v, p, depth + 1, marks), p, marks)}`;
    });
    return html`[\n${join(items)}\n${pad(depth)}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return raw('{}');
    const items = entries.map(([k, v]) => {
      const p = path ? `${path}.${k}` : k;
      return html`${pad(depth + 1)}${wrap(html`<span class="j-key">${JSON.stringify(k)}</span>: ${render(v, p, depth + 1, marks)}`, p, marks)}`;
    });
    return html`{\n${join(items)}\n${pad(depth)}}`;
  }
  return scalar(value);
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
