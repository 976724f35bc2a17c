/**
 * A tiny JSONPath subset for `verify` expectations: `$`, `.name`, `['name']`, `[0]`, `[-1]`, and
 * `.length` on arrays and strings. Filters and wildcards are not supported (a shop's order view
 * needs none), and an unsupported path is an error, never a silent miss.
 *
 * @example
 * readPath({ order: { items: [{ sku: 'A' }] } }, '$.order.items[0].sku'); // { found: true, value: 'A' }
 */
export function readPath(root: unknown, path: string): { found: boolean; value: unknown } {
  let node: unknown = root;
  for (const seg of parsePath(path)) {
    if (typeof seg === 'number') {
      if (!Array.isArray(node)) return { found: false, value: undefined };
      const i = seg < 0 ? node.length + seg : seg;
      if (i < 0 || i >= node.length) return { found: false, value: undefined };
      node = node[i];
      continue;
    }
    if (seg === 'length' && (Array.isArray(node) || typeof node === 'string')) {
      node = node.length;
      continue;
    }
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, seg)) {
      return { found: false, value: undefined };
    }
    node = (node as Record<string, unknown>)[seg];
  }
  return { found: true, value: node };
}

/** Splits `$.a['b c'][0].d` into `['a', 'b c', 0, 'd']`. Throws on anything else. */
export function parsePath(path: string): (string | number)[] {
  if (!path.startsWith('$')) throw new Error(`path ${path} must start with $`);
  const out: (string | number)[] = [];
  const re = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(-?\d+)\]|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]/y;
  let pos = 1;
  while (pos < path.length) {
    re.lastIndex = pos;
    const m = re.exec(path);
    if (!m)
      throw new Error(`path ${path}: cannot read "${path.slice(pos)}" (supported: .name, ['name'], [index])`);
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push((m[3] ?? m[4] ?? '').replace(/\\(.)/g, '$1'));
    pos = re.lastIndex;
  }
  return out;
}

export type Expectation =
  | string
  | number
  | boolean
  | null
  | {
      eq?: unknown;
      ne?: unknown;
      in?: unknown[];
      not_in?: unknown[];
      gt?: number;
      gte?: number;
      lt?: number;
      lte?: number;
      exists?: boolean;
      matches?: string;
    };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Words for an expectation, e.g. `== "paid"`, `>= 1`, `one of ["a","b"]`. */
export function describeExpectation(e: Expectation): string {
  if (e === null || typeof e !== 'object') return `== ${JSON.stringify(e)}`;
  const [op, v] = Object.entries(e)[0] ?? ['eq', undefined];
  const words: Record<string, string> = { eq: '==', ne: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' };
  if (op === 'in') return `one of ${JSON.stringify(v)}`;
  if (op === 'not_in') return `none of ${JSON.stringify(v)}`;
  if (op === 'exists') return v ? 'present' : 'absent';
  if (op === 'matches') return `matching /${String(v)}/`;
  return `${words[op] ?? op} ${JSON.stringify(v)}`;
}

/** Whether a value read at a path meets an expectation. */
export function meets(read: { found: boolean; value: unknown }, e: Expectation): boolean {
  if (e === null || typeof e !== 'object') return read.found && same(read.value, e);
  const [op, v] = Object.entries(e)[0] ?? ['eq', undefined];
  if (op === 'exists') return read.found === Boolean(v);
  if (!read.found) return op === 'ne' || op === 'not_in';
  const x = read.value;
  switch (op) {
    case 'eq':
      return same(x, v);
    case 'ne':
      return !same(x, v);
    case 'in':
      return Array.isArray(v) && v.some((c) => same(c, x));
    case 'not_in':
      return Array.isArray(v) && !v.some((c) => same(c, x));
    case 'gt':
      return typeof x === 'number' && x > (v as number);
    case 'gte':
      return typeof x === 'number' && x >= (v as number);
    case 'lt':
      return typeof x === 'number' && x < (v as number);
    case 'lte':
      return typeof x === 'number' && x <= (v as number);
    case 'matches':
      return typeof x === 'string' && new RegExp(String(v)).test(x);
    default:
      return false;
  }
}

export interface PathMismatch {
  path: string;
  expected: string;
  actual: string;
}

/** Every path whose value misses its expectation (empty when all hold). */
export function mismatches(root: unknown, expect: Record<string, Expectation>): PathMismatch[] {
  const out: PathMismatch[] = [];
  for (const [path, e] of Object.entries(expect)) {
    const read = readPath(root, path);
    if (!meets(read, e)) {
      out.push({
        path,
        expected: describeExpectation(e),
        actual: read.found ? JSON.stringify(read.value) : '(missing)',
      });
    }
  }
  return out;
}
