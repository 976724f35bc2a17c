import { describe, expect, it } from 'vitest';
import { schedule } from './scheduler.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('schedule', () => {
  it('runs at most N at a time, starts items in list order, and runs each once', async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const done: number[] = [];
    await schedule(
      Array.from({ length: 9 }, (_v, i) => i),
      3,
      () => false,
      async (item) => {
        started.push(item);
        running++;
        peak = Math.max(peak, running);
        await tick(5 + (item % 3) * 4);
        running--;
        done.push(item);
      },
    );
    expect(peak).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...done].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('an exclusive item runs alone: nothing overlaps it, before or after', async () => {
    const spans: { item: string; from: number; to: number }[] = [];
    let clock = 0;
    const items = ['a', 'b', 'X', 'c', 'd', 'Y', 'e'];
    await schedule(
      items,
      4,
      (i) => i === 'X' || i === 'Y',
      async (item) => {
        const from = ++clock;
        await tick(item === 'X' || item === 'Y' ? 15 : 5);
        spans.push({ item, from, to: ++clock });
      },
    );
    expect(spans.map((s) => s.item).sort()).toEqual([...items].sort());
    for (const lone of spans.filter((s) => s.item === 'X' || s.item === 'Y'))
      for (const other of spans.filter((s) => s !== lone))
        expect(other.to < lone.from || other.from > lone.to, `${other.item} overlaps ${lone.item}`).toBe(
          true,
        );
  });

  it('with concurrency 1 it is a plain loop, and a failing item rejects after the others settle', async () => {
    const order: string[] = [];
    await schedule(
      ['a', 'b', 'c'],
      1,
      () => false,
      async (i) => void order.push(i),
    );
    expect(order).toEqual(['a', 'b', 'c']);
    await expect(
      schedule(
        [1, 2],
        2,
        () => false,
        async (i) => {
          if (i === 1) throw new Error('boom');
        },
      ),
    ).rejects.toThrow('boom');
  });
});
