import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 `.cpuprofile` this summary reads. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
  /** Microseconds on the machine's monotonic clock (the one `process.hrtime` reads). */
  startTime: number;
}

/** Now on the monotonic clock the profiles use, in microseconds (comparable across processes). */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface ProfileLine {
  ms: number;
  share: number;
  what: string;
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + 1);
  return path.replace(/^.*?\/(dist\/|)(mock-server|contracts|test)\//, '$1$2/');
}

/**
 * Summarises a `node --cpu-prof` file: self time by package/file (`by: 'file'`), or inclusive
 * time by function (`by: 'function'`, a function's own time plus everything it called), over
 * the whole profile or only the samples taken inside `window`.
 *
 * @example
 * summariseProfile('CPU.123.cpuprofile', 'file').slice(0, 10)
 */
export function summariseProfile(
  path: string,
  by: 'file' | 'function' | 'self',
  window: { from?: number; to?: number } = {},
): ProfileLine[] {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  // Only the samples inside `window` (monotonic microseconds, see monotonicMicros) count.
  let at = p.startTime;
  p.samples.forEach((id, i) => {
    at += p.timeDeltas[i] ?? 0;
    if ((window.from !== undefined && at < window.from) || (window.to !== undefined && at > window.to))
      return;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const agg = new Map<string, number>();
  const place = originalPlace();
  for (const [id, t] of self) {
    const cf = place(byId.get(id)!.callFrame);
    if (by === 'self') {
      const key =
        `${cf.functionName || '(anonymous)'} ${cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : ''}`.trim();
      agg.set(key, (agg.get(key) ?? 0) + t);
    } else if (by === 'file') {
      let key = cf.url ? shortUrl(cf.url) : `(${cf.functionName})`;
      const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(key);
      if (pkg) key = `node_modules/${pkg[1]}`;
      agg.set(key, (agg.get(key) ?? 0) + t);
    } else {
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const f = place(byId.get(cur)!.callFrame);
        if (!f.url) continue;
        const key = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
        if (seen.has(key)) continue;
        seen.add(key);
        agg.set(key, (agg.get(key) ?? 0) + t);
      }
    }
  }
  return [...agg]
    .map(([what, us]) => ({ what, ms: us / 1000, share: total > 0 ? us / total : 0 }))
    .sort((a, b) => b.ms - a.ms);
}

type CallFrame = CpuProfile['nodes'][number]['callFrame'];

/**
 * Maps a call frame of the bundled CLI (dist/mock-server/cli.js and its chunks) back to the file and
 * line it came from, through the bundle's source map (esbuild chains tsc's maps, so this is the
 * TypeScript source or the node_modules file). Frames without a map are returned as they are.
 */
function originalPlace(): (cf: CallFrame) => CallFrame {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (url: string): SourceMap | null => {
    let m = maps.get(url);
    if (m === undefined) {
      m = null;
      if (url.startsWith('file://')) {
        const file = `${fileURLToPath(url)}.map`;
        if (existsSync(file)) m = new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as never);
      }
      maps.set(url, m);
    }
    return m;
  };
  return (cf) => {
    const map = cf.url ? mapOf(cf.url) : null;
    if (!map) return cf;
    const e = map.findEntry(cf.lineNumber, cf.columnNumber) as {
      originalSource?: string;
      originalLine?: number;
    };
    if (!e.originalSource) return cf;
    const source = new URL(e.originalSource, cf.url).href.replace('/dist/mock-server/', '/mock-server/');
    return { ...cf, url: source, lineNumber: e.originalLine ?? cf.lineNumber };
  };
}
