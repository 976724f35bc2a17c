import { describe, expect, it } from 'vitest';
import { DOCUMENTED_RETRY_SCHEDULE_MS } from '../config/load-config.js';
import { createRetrySchedule } from './retry-schedule.js';

describe('createRetrySchedule', () => {
  it('the documented schedule: 15 s, 60 s, 3 min, 10 min, 30 min, 60 min, so 7 attempts', () => {
    const plan = createRetrySchedule(DOCUMENTED_RETRY_SCHEDULE_MS, 1);
    expect(plan.maxAttempts).toBe(7);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => plan.delayAfter(n))).toEqual([
      15_000,
      60_000,
      180_000,
      600_000,
      1_800_000,
      3_600_000,
      undefined,
    ]);
  });

  it('a time scale multiplies every delay', () => {
    const plan = createRetrySchedule(DOCUMENTED_RETRY_SCHEDULE_MS, 0.001);
    expect([1, 2, 3, 4, 5, 6].map((n) => plan.delayAfter(n))).toEqual([15, 60, 180, 600, 1800, 3600]);
    expect(createRetrySchedule([15_000], 0.0001).delayAfter(1)).toBe(1.5);
  });

  it('an override schedule sets the number of attempts', () => {
    const plan = createRetrySchedule([100, 200], 1);
    expect(plan.maxAttempts).toBe(3);
    expect(plan.delayAfter(3)).toBeUndefined();
    expect(createRetrySchedule([], 1).maxAttempts).toBe(1);
  });
});
