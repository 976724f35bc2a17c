/**
 * The retry plan [doc, spec §10]: after failed attempt n (1-based) the next one waits
 * `schedule[n-1] × timeScale` ms, counted from the end of the failed attempt. With the documented
 * schedule (15 s, 60 s, 3 min, 10 min, 30 min, 60 min) that is 7 attempts in all.
 */
export interface RetrySchedule {
  /** Attempts in all: the first plus one per schedule entry. */
  readonly maxAttempts: number;
  /** Delay after failed attempt `attempt`, or undefined when it was the last one. */
  delayAfter(attempt: number): number | undefined;
}

/**
 * @example
 * const plan = createRetrySchedule([15_000, 60_000], 0.001);
 * plan.delayAfter(1); // 15
 * plan.delayAfter(3); // undefined: give up
 */
export function createRetrySchedule(scheduleMs: readonly number[], timeScale: number): RetrySchedule {
  return {
    maxAttempts: scheduleMs.length + 1,
    delayAfter(attempt) {
      const base = scheduleMs[attempt - 1];
      return base === undefined ? undefined : Math.max(0, Math.round(base * timeScale * 1000) / 1000);
    },
  };
}
