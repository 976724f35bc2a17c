import { monitorEventLoopDelay } from 'node:perf_hooks';

/** What `GET /__admin/health` reports about the process [mock]. */
export interface ProcessSnapshot {
  /** Resident set size, V8 heap (reserved and in use) and memory outside it (Buffers, WebAssembly), in bytes. */
  rss_bytes: number;
  heap_total_bytes: number;
  heap_used_bytes: number;
  external_bytes: number;
  array_buffers_bytes: number;
  /**
   * Event-loop delay since the app was built (Node's `monitorEventLoopDelay`, 10 ms resolution), in
   * milliseconds: how long a ready callback waited for the loop. `samples` is the histogram count.
   */
  event_loop_delay_ms: { p50: number; p99: number; max: number; mean: number; samples: number };
}

const round = (ns: number) => Math.round(ns / 1e4) / 100; // ns → ms, two decimals

/**
 * Samples the event-loop delay for one app instance (no module state: each app has its own
 * histogram) and reads memory on demand. Wall-clock by nature: it measures the process, not
 * sandbox time.
 *
 * @example
 * const diag = createProcessDiagnostics();
 * diag.snapshot().event_loop_delay_ms.p99;
 * diag.stop();
 */
export function createProcessDiagnostics() {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    snapshot(): ProcessSnapshot {
      const mem = process.memoryUsage();
      const samples = histogram.count;
      return {
        rss_bytes: mem.rss,
        heap_total_bytes: mem.heapTotal,
        heap_used_bytes: mem.heapUsed,
        external_bytes: mem.external,
        array_buffers_bytes: mem.arrayBuffers,
        event_loop_delay_ms: {
          p50: samples ? round(histogram.percentile(50)) : 0,
          p99: samples ? round(histogram.percentile(99)) : 0,
          max: samples ? round(histogram.max) : 0,
          mean: samples ? round(histogram.mean) : 0,
          samples,
        },
      };
    },
    stop(): void {
      histogram.disable();
    },
  };
}
