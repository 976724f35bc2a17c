/**
 * Runs `work` over `items`, at most `concurrency` at a time, in order of the list. An item for
 * which `exclusive` is true runs alone: it waits until every running item has finished, and no
 * other item starts until it is done (waiting exclusive items go first).
 *
 * @example
 * await schedule(scenarios, 4, (s) => activatesMerchantWide(s), async (s, i) => runOne(s, i));
 */
export async function schedule<T>(
  items: readonly T[],
  concurrency: number,
  exclusive: (item: T) => boolean,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let running = 0;
  let alone = false;
  let waitingAlone = 0;
  let wake: Array<() => void> = [];
  const changed = () => {
    const w = wake;
    wake = [];
    for (const f of w) f();
  };
  const wait = () => new Promise<void>((r) => wake.push(r));
  // The test and the claim happen in one tick (no await between them), so two workers cannot both
  // see "nobody is running" and start.
  async function acquire(alone_: boolean): Promise<void> {
    if (alone_) {
      waitingAlone++;
      while (alone || running > 0) await wait();
      waitingAlone--;
      alone = true;
    } else {
      while (alone || waitingAlone > 0) await wait();
    }
    running++;
  }

  async function worker(): Promise<void> {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      const item = items[i]!;
      const lone = exclusive(item);
      await acquire(lone);
      try {
        await work(item, i);
      } finally {
        running--;
        if (lone) alone = false;
        changed();
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}
