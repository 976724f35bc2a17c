import type { Session } from 'node:inspector';

/** How long without a request before the sandbox counts as at rest. */
export const REST_AFTER_MS = 300;
/**
 * How much the RSS must have grown since the last rest for another one to be worth a full GC. Small
 * enough that one large answer after a rest is given back too (a read of the full journal, 1,000
 * entries, leaves ~8-10 MB of garbage and a grown new space), large enough that sparse traffic
 * (tens of kB a request) pays for a full GC only every hundred requests or so.
 */
export const REST_MIN_GROWTH_BYTES = 4 * 1024 * 1024;

/**
 * Gives memory back once a burst of traffic is over. Node never runs V8's idle-time memory
 * reducer, so after, say, 100,000 creates the heap keeps the size the burst grew it to, with the
 * garbage still in it, and the RSS stays there for as long as the sandbox runs (199 MB in the
 * bench, 129 MB of it kept after a full GC). Once no request has arrived for {@link REST_AFTER_MS}
 * after some did, and the RSS has grown by {@link REST_MIN_GROWTH_BYTES} since the last rest (so
 * sparse traffic never pays for a full GC per request), this runs `release` (idle crypto workers
 * stop) and a full garbage collection, twice, through the in-process inspector protocol
 * (`HeapProfiler.collectGarbage`; no flag needed, and nothing listens on a port). It runs once
 * per burst, never during traffic, and a request that arrives meanwhile just waits for the
 * collection (tens of ms with 100,000 transactions held).
 *
 * @example
 * const rest = createAtRest({ release: () => ctx.sealedBox.release() });
 * app.addHook('onRequest', (_req, _reply, done) => { rest.touch(); done(); });
 * // on close: rest.stop();
 */
export function createAtRest(opts: {
  release?: () => Promise<void>;
  restAfterMs?: number;
  /** The collector; the default asks V8 through node:inspector (tests pass their own). */
  collect?: () => Promise<void>;
  /** The process's resident set size now (tests pass their own). */
  rss?: () => number;
  minGrowthBytes?: number;
}) {
  const rss = opts.rss ?? (() => process.memoryUsage.rss());
  const minGrowth = opts.minGrowthBytes ?? REST_MIN_GROWTH_BYTES;
  let rssAfterRest = rss();
  const every = Math.max(10, Math.floor((opts.restAfterMs ?? REST_AFTER_MS) / 2));
  let seen = 0; // requests so far
  let atLastTick = 0;
  let atLastRest = 0;
  let quietTicks = 0;
  let rests = 0;
  let running: Promise<void> | undefined;
  let stopped = false;
  let session: Session | undefined;

  /** A full GC of this isolate through the inspector protocol; nothing where Node has no inspector. */
  async function collectGarbage(): Promise<void> {
    if (!process.features.inspector) return;
    if (!session) {
      const { Session: InspectorSession } = await import('node:inspector');
      session = new InspectorSession();
      session.connect();
    }
    const s = session;
    await new Promise<void>((resolve) => s.post('HeapProfiler.collectGarbage', () => resolve()));
  }
  const collect = opts.collect ?? collectGarbage;

  // Every half rest time: two quiet ticks in a row after some traffic mean at least restAfterMs
  // without a request.
  const timer = setInterval(() => {
    // V8 gives freed pages back on a background thread, some time after the collection returned:
    // while nothing arrives, the RSS at rest is the lowest seen since.
    if (seen === atLastRest && !running) rssAfterRest = Math.min(rssAfterRest, rss());
    if (seen !== atLastTick) {
      atLastTick = seen;
      quietTicks = 0;
      return;
    }
    if (seen === atLastRest || running || stopped || ++quietTicks < 2) return;
    atLastRest = seen;
    quietTicks = 0;
    if (rss() < rssAfterRest + minGrowth) return;
    running = (async () => {
      try {
        await opts.release?.();
        // Twice: what the first collection finalizes (the stopped worker's port and buffers, weak
        // callbacks) is only freed by a second one; measured 162 → 148 MB at 100,000 transactions.
        await collect();
        await collect();
      } catch {
        // Giving memory back is a courtesy; a failure changes nothing the sandbox answers.
      } finally {
        rssAfterRest = rss();
        running = undefined;
        rests++;
      }
    })();
  }, every);
  timer.unref();

  return {
    /** One request arrived (cheap: a counter). */
    touch(): void {
      seen++;
    },
    /** How many times memory was given back (tests, diagnostics). */
    get rests() {
      return rests;
    },
    /** Stops the timer and waits for a collection under way. */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      await running;
      session?.disconnect();
      session = undefined;
    },
  };
}

export type AtRest = ReturnType<typeof createAtRest>;
