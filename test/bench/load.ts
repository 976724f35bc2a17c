import autocannon from 'autocannon';

/** What one autocannon run came to. `rps` counts only answers with an expected status. */
export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Answers with an expected status. */
  ok: number;
  /** Answers with any other status, plus connection errors and timeouts. */
  bad: number;
  seconds: number;
  statuses: Record<string, number>;
}

export interface LoadOptions {
  url: string;
  /** Requests, as autocannon takes them (setupRequest/onResponse for per-request bodies). */
  requests: autocannon.Request[];
  connections?: number;
  /** Measured seconds; ignored when `amount` is set. */
  duration?: number;
  /** Exactly this many requests, then stop. */
  amount?: number;
  /** Unmeasured seconds first, for the JIT (same requests). */
  warmup?: number;
  /** Status codes that count as success (default: any 2xx). */
  expect?: (status: number) => boolean;
}

/**
 * Runs autocannon as a library (50 connections by default, as in the comparison) and
 * returns req/s over the measured window plus p50/p99 latency in ms.
 *
 * @example
 * const r = await load({ url, requests: [{ method: 'GET', path: '/__admin/health' }], duration: 3 });
 */
export async function load(opts: LoadOptions): Promise<LoadResult> {
  const expect = opts.expect ?? ((s: number) => s >= 200 && s < 300);
  const base = {
    url: opts.url,
    connections: opts.connections ?? 50,
    pipelining: 1,
    timeout: 30,
    requests: opts.requests,
  };
  if (opts.warmup && opts.warmup > 0) await autocannon({ ...base, duration: opts.warmup });
  const result = await autocannon({
    ...base,
    // autocannon refuses more connections than requests; a small top-up batch (the harness sizes
    // them from measured rates, so a slow machine asks for a few) runs on fewer connections.
    ...(opts.amount !== undefined
      ? { amount: opts.amount, connections: Math.min(base.connections, opts.amount) }
      : { duration: opts.duration ?? 5 }),
  });
  const statuses: Record<string, number> = {};
  let ok = 0;
  let answered = 0;
  const stats =
    (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  for (const [code, { count }] of Object.entries(stats)) {
    statuses[code] = count;
    answered += count;
    if (expect(Number(code))) ok += count;
  }
  const seconds = result.duration;
  return {
    rps: seconds > 0 ? ok / seconds : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    bad: answered - ok + result.errors,
    seconds,
    statuses,
  };
}
