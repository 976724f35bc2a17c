/**
 * Time is injected (DESIGN.md house style 10): clearing delays, callback retries and key expiry all
 * ask a Clock, so tests can drive time instead of sleeping.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number, opts?: TimerOptions): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

export interface TimerOptions {
  /**
   * A poll: a periodic look for work that is due (a shared store's sweeps, the expiry sweep), not a
   * piece of scheduled work. It runs like any timer; a manual clock's `pendingTimers()` leaves it
   * out, so "nothing is scheduled" reads the same on every store.
   */
  poll?: boolean;
}

export interface ClockTimer {
  readonly id: number;
}

/**
 * The real clock. Timers are unref'd so a pending retry never keeps a finished process alive.
 *
 * @example
 * const clock = createSystemClock();
 * clock.setTimeout(() => console.log('tick'), 1000);
 */
export function createSystemClock(): Clock {
  const handles = new Map<number, NodeJS.Timeout>();
  let seq = 0;
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = ++seq;
      const handle = setTimeout(
        () => {
          handles.delete(id);
          fn();
        },
        Math.max(0, ms),
      );
      handle.unref();
      handles.set(id, handle);
      return { id };
    },
    clearTimeout(timer) {
      const handle = handles.get(timer.id);
      if (handle) clearTimeout(handle);
      handles.delete(timer.id);
    },
  };
}

/** A clock that only moves when told to; `advance()` fires due timers in order. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  /** Scheduled work still to fire; `{ polls: true }` counts the polls too. */
  pendingTimers(opts?: { polls?: boolean }): number;
}

/**
 * @example
 * const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
 * clock.setTimeout(() => done(), 15_000);
 * clock.advance(15_000); // done() runs
 */
export function createManualClock(start = Date.now()): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void; poll: boolean }>();
  return {
    now: () => now,
    setTimeout(fn, ms, opts) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn, poll: opts?.poll === true });
      return { id };
    },
    clearTimeout(timer) {
      timers.delete(timer.id);
    },
    advance(ms) {
      const target = now + ms;
      for (;;) {
        let nextId: number | undefined;
        let nextAt = Infinity;
        for (const [id, t] of timers) {
          if (t.at <= target && t.at < nextAt) {
            nextAt = t.at;
            nextId = id;
          }
        }
        if (nextId === undefined) break;
        const timer = timers.get(nextId)!;
        timers.delete(nextId);
        now = Math.max(now, timer.at);
        timer.fn();
      }
      now = target;
    },
    pendingTimers(opts) {
      let n = 0;
      for (const t of timers.values()) if (opts?.polls || !t.poll) n++;
      return n;
    },
  };
}
