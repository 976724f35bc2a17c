import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAtRest } from './at-rest.js';

/** A trimmer on fake timers with a fake RSS, recording what it did in order. */
function setup(opts: { growth?: number } = {}) {
  const calls: string[] = [];
  let rss = 100;
  const rest = createAtRest({
    restAfterMs: 100, // ticks every 50 ms
    minGrowthBytes: opts.growth ?? 10,
    rss: () => rss,
    release: async () => void calls.push('release'),
    collect: async () => {
      calls.push('collect');
      rss -= 5;
    },
  });
  return {
    rest,
    calls,
    grow: (n: number) => {
      rss += n;
    },
  };
}

describe('createAtRest', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('does nothing while no request has come', async () => {
    const { rest, calls, grow } = setup();
    grow(50);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual([]);
    await rest.stop();
  });

  it('after a burst and restAfterMs of quiet: releases, then collects (twice), once', async () => {
    const { rest, calls, grow } = setup();
    for (let i = 0; i < 100; i++) rest.touch();
    grow(50);
    await vi.advanceTimersByTimeAsync(49);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(['release', 'collect', 'collect']);
    expect(rest.rests).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual(['release', 'collect', 'collect']); // nothing new arrived
    await rest.stop();
  });

  it('never during traffic: only once the requests stop', async () => {
    const { rest, calls, grow } = setup();
    grow(50);
    for (let t = 0; t < 1_000; t += 20) {
      rest.touch();
      await vi.advanceTimersByTimeAsync(20);
    }
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(['release', 'collect', 'collect']);
    await rest.stop();
  });

  it('skips the collection when the RSS has not grown enough since the last one', async () => {
    const { rest, calls, grow } = setup({ growth: 30 });
    rest.touch();
    grow(20);
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toEqual([]);
    rest.touch();
    grow(20); // 40 over the start now
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toEqual(['release', 'collect', 'collect']);
    await rest.stop();
  });

  it('counts growth from the lowest RSS at rest (pages V8 gives back after the collection returned)', async () => {
    const { rest, calls, grow } = setup({ growth: 30 });
    rest.touch();
    grow(50);
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(['release', 'collect', 'collect']); // 140 at the rest
    grow(-20); // given back later, while quiet: 120
    await vi.advanceTimersByTimeAsync(200);
    rest.touch();
    grow(25); // 145: 5 over the reading at the rest, 25 over the lowest since
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toHaveLength(3);
    rest.touch();
    grow(6); // 151: 31 over the lowest
    await vi.advanceTimersByTimeAsync(200);
    expect(calls).toEqual(['release', 'collect', 'collect', 'release', 'collect', 'collect']);
    await rest.stop();
  });

  it('the default collector really runs a full GC in this process', async () => {
    vi.useRealTimers();
    let garbage: { big: number[] } | undefined = { big: Array.from({ length: 1_000 }, (_, i) => i) };
    const ref = new WeakRef(garbage);
    garbage = undefined;
    const rest = createAtRest({ restAfterMs: 20, minGrowthBytes: 0 });
    rest.touch();
    const deadline = Date.now() + 5_000;
    while (rest.rests === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(rest.rests).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(ref.deref()).toBeUndefined(); // collected by that GC
    await rest.stop();
  });
});
