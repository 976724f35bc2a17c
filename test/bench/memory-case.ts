import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { request, WebSocket } from 'undici';
import { projectPath } from '../../mock-server/shared/project-root.js';
import { hasDist, runMemoryCase } from './harness.js';
import type { BenchProcess } from './processes.js';
import { FULL_SETTINGS, launches } from './run-bench.js';

/**
 * Runs only the bench's memory case (`npm run bench`'s "memory, memory store" row, same settings
 * and code) and prints where the RSS goes: VmRSS, the V8 heap and what lies outside it
 * (`process.memoryUsage` through /__admin/health, /proc/<pid>/smaps_rollup), at the figure and
 * after one more full GC. For working on the memory target without the whole bench.
 *
 * @example
 * node --import tsx test/bench/memory-case.ts --runs 3
 */
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    store: { type: 'string', default: 'memory' },
    transactions: { type: 'string' },
    /** Write /proc/<pid>/smaps and a heap snapshot after the GC to files with this prefix. */
    dump: { type: 'string' },
    /** Diagnosis only: after the GC, gdb calls malloc_stats() and malloc_trim(0) in the sandbox. */
    trim: { type: 'boolean', default: false },
  },
});

const mb = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);

function proc(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (text: string, field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return [
    `VmRSS ${mb(kb(status, 'VmRSS'))}`,
    `anon ${mb(kb(status, 'RssAnon'))}`,
    `file ${mb(kb(status, 'RssFile'))}`,
    `peak ${mb(kb(status, 'VmHWM'))}`,
    `private_dirty ${mb(kb(rollup, 'Private_Dirty'))}`,
    `threads ${/^Threads:\s+(\d+)/m.exec(status)?.[1]}`,
  ].join(' · ');
}

let timeline: { timer: NodeJS.Timeout; points: string[]; t0: number } | undefined;

async function look(sb: BenchProcess, when: string): Promise<void> {
  if (when === 'created') {
    // VmRSS every 50 ms from the last request to the figure (no request: it would delay the rest).
    const t0 = performance.now();
    const points: string[] = [];
    const timer = setInterval(() => {
      const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${sb.pid}/status`, 'utf8'))?.[1];
      points.push(`${Math.round(performance.now() - t0)}:${(Number(kb) / 1024).toFixed(0)}`);
    }, 50);
    timeline = { timer, points, t0 };
    return;
  }
  if (timeline) {
    clearInterval(timeline.timer);
    process.stdout.write(`  rss (ms:MB) ${timeline.points.join(' ')}\n`);
    timeline = undefined;
  }
  const res = await request(`${sb.url}/__admin/health`);
  const h = (await res.body.json()) as {
    process?: {
      rss_bytes: number;
      heap_total_bytes: number;
      heap_used_bytes: number;
      external_bytes: number;
      array_buffers_bytes: number;
    };
  };
  const p = h.process;
  const heap = p
    ? `heap ${mb(p.heap_used_bytes)}/${mb(p.heap_total_bytes)} · external ${mb(p.external_bytes)} · arrayBuffers ${mb(p.array_buffers_bytes)}`
    : 'no process snapshot';
  process.stdout.write(`  ${when.padEnd(8)} ${proc(sb.pid)}\n           ${heap}\n`);
  if (values.trim && when === 'after-gc') {
    const before = sb.stderr().length;
    execFileSync(
      'gdb',
      ['-p', String(sb.pid), '-batch', '-ex', 'call (void)malloc_stats()', '-ex', 'call (int)malloc_trim(0)'],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 200));
    process.stdout.write(
      `  malloc_stats:\n${sb.stderr().slice(before).replace(/^/gm, '    ')}\n  trimmed  ${proc(sb.pid)}\n`,
    );
  }
  if (values.dump && when === 'after-gc') {
    writeFileSync(`${values.dump}.smaps`, readFileSync(`/proc/${sb.pid}/smaps`, 'utf8'));
    await heapSnapshot(sb.stderr(), `${values.dump}.heapsnapshot`);
  }
}

/** A heap snapshot through the inspector the bench starts the sandbox with. */
async function heapSnapshot(stderr: string, file: string): Promise<void> {
  const url = /ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+/.exec(stderr)?.[0];
  if (!url) throw new Error('no inspector URL in the sandbox stderr');
  const ws = new WebSocket(url);
  await new Promise((r) => ws.addEventListener('open', r));
  const chunks: string[] = [];
  await new Promise<void>((resolve) => {
    ws.addEventListener('message', (ev) => {
      const m = JSON.parse(String(ev.data)) as { id?: number; method?: string; params?: { chunk: string } };
      if (m.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(m.params!.chunk);
      if (m.id === 1) resolve();
    });
    ws.send(
      JSON.stringify({ id: 1, method: 'HeapProfiler.takeHeapSnapshot', params: { reportProgress: false } }),
    );
  });
  ws.close();
  writeFileSync(file, chunks.join(''));
}

async function main() {
  const root = projectPath();
  if (!hasDist(root)) throw new Error('dist/ is missing: run `npm run build` first');
  const settings = {
    ...FULL_SETTINGS,
    ...(values.transactions ? { memory_transactions: Number(values.transactions) } : {}),
  };
  const store = values.store === 'memory' ? 'memory' : values.store!;
  for (let i = 0; i < Number(values.runs); i++) {
    process.stdout.write(`run ${i + 1}: ${settings.memory_transactions} transactions, ${store}\n`);
    const m = await runMemoryCase(
      { ...settings, ...launches(root, 'dist'), log: () => undefined },
      store,
      look,
    );
    process.stdout.write(
      `  figure ${mb(m.rss)} MB · after GC ${m.rssAfterGc === undefined ? '?' : mb(m.rssAfterGc)} MB · peak ${m.peak === null ? '?' : mb(m.peak)} MB · ${m.transactions} transactions, journal ${m.journal}, ${Math.round(m.transactions / m.seconds)}/s\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
