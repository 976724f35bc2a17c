import { describe, expect, it } from 'vitest';
import { memoryTrend, type MemorySample } from './memory-trend.js';

const MIB = 1024 * 1024;

/** Samples every 5 s for 300 s: `base` MiB, plus `perMin` MiB per minute, plus a GC-like sawtooth. */
function series(base: number, perMin: number, sawtooth = 0): MemorySample[] {
  const out: MemorySample[] = [];
  for (let t = 0; t <= 300; t += 5) {
    const saw = sawtooth * ((t % 30) / 30);
    out.push({ t, rss: (base + (perMin * t) / 60 + saw) * MIB, heapUsed: 0 });
  }
  return out;
}

describe('the soak’s memory-flatness criterion', () => {
  it('calls a steady RSS with GC sawtooth flat', () => {
    const v = memoryTrend(series(120, 0, 8), { warmupS: 60 });
    expect(v.flat).toBe(true);
    expect(Math.abs(v.slopeMiBPerMin)).toBeLessThan(0.5);
    expect(v.samples).toBe(49);
  });

  it('calls a leak of 2 MiB per minute on 120 MiB not flat (8 MiB over the 4-minute window)', () => {
    const v = memoryTrend(series(120, 2), { warmupS: 60 });
    expect(v.slopeMiBPerMin).toBeCloseTo(2, 5);
    expect(v.projectedGrowthPct).toBeGreaterThan(5);
    expect(v.flat).toBe(false);
  });

  it('ignores the warm-up: a climb in the first minute only is still flat', () => {
    const s = series(100, 0).map((x) => ({ ...x, rss: x.t < 60 ? (40 + x.t) * MIB : x.rss }));
    expect(memoryTrend(s, { warmupS: 60 }).flat).toBe(true);
    expect(memoryTrend(s, { warmupS: 0 }).flat).toBe(false);
  });

  it('needs samples after the warm-up', () => {
    expect(() => memoryTrend(series(100, 0).slice(0, 5), { warmupS: 60 })).toThrow(/need at least 3/);
  });
});
