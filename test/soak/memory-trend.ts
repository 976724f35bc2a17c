/** One memory sample of the soak: seconds since the load started, and bytes. */
export interface MemorySample {
  t: number;
  rss: number;
  heapUsed: number;
}

export interface TrendVerdict {
  /** Samples after the warm-up that the fit used. */
  samples: number;
  /** Least-squares slope of RSS over the post-warm-up window, in MiB per minute. */
  slopeMiBPerMin: number;
  /** Mean RSS over that window, MiB. */
  meanMiB: number;
  /** What the slope adds over the whole window, as a share of the mean RSS. */
  projectedGrowthPct: number;
  /** Mean of the last minute minus mean of the first minute after warm-up, MiB. */
  firstToLastMinuteMiB: number;
  minMiB: number;
  maxMiB: number;
  flat: boolean;
}

const MIB = 1024 * 1024;

/**
 * The soak's flatness criterion: after `warmupS` seconds, fit RSS(t) with least squares; memory is
 * flat when the fitted growth over the post-warm-up window is at most `maxGrowthPct` of the mean
 * RSS (5 % by default) — and the last minute's mean is not more than that above the first
 * minute's. A leak of a few kilobytes per request shows up as a steady slope; GC sawtooth does not.
 *
 * @example
 * memoryTrend(samples, { warmupS: 60 }).flat;
 */
export function memoryTrend(
  samples: MemorySample[],
  opts: { warmupS: number; maxGrowthPct?: number },
): TrendVerdict {
  const maxGrowth = opts.maxGrowthPct ?? 5;
  const window = samples.filter((s) => s.t >= opts.warmupS);
  if (window.length < 3)
    throw new Error(`memoryTrend: ${window.length} samples after the warm-up; need at least 3`);
  const n = window.length;
  const meanT = window.reduce((s, x) => s + x.t, 0) / n;
  const meanR = window.reduce((s, x) => s + x.rss, 0) / n;
  let num = 0;
  let den = 0;
  for (const x of window) {
    num += (x.t - meanT) * (x.rss - meanR);
    den += (x.t - meanT) ** 2;
  }
  const slopePerS = den === 0 ? 0 : num / den; // bytes per second
  const span = window.at(-1)!.t - window[0]!.t;
  const projectedGrowthPct = ((slopePerS * span) / meanR) * 100;
  const first = window.filter((x) => x.t <= window[0]!.t + 60);
  const last = window.filter((x) => x.t >= window.at(-1)!.t - 60);
  const mean = (xs: MemorySample[]) => xs.reduce((s, x) => s + x.rss, 0) / xs.length;
  const firstToLast = mean(last) - mean(first);
  return {
    samples: n,
    slopeMiBPerMin: (slopePerS * 60) / MIB,
    meanMiB: meanR / MIB,
    projectedGrowthPct,
    firstToLastMinuteMiB: firstToLast / MIB,
    minMiB: Math.min(...window.map((x) => x.rss)) / MIB,
    maxMiB: Math.max(...window.map((x) => x.rss)) / MIB,
    flat: projectedGrowthPct <= maxGrowth && (firstToLast / meanR) * 100 <= maxGrowth,
  };
}
