import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BATTERY, BATTERY_VERSION } from './battery.js';

describe('the probe battery', () => {
  it('is pinned to its version: a changed battery must bump BATTERY_VERSION (recordings carry it)', () => {
    // When this fails after an intended change: bump BATTERY_VERSION and put the new digest here.
    const digest = createHash('sha256').update(JSON.stringify(BATTERY)).digest('hex');
    expect({ version: BATTERY_VERSION, digest }).toEqual({
      version: 1,
      digest: '5c0f31a225a5e91c69e474129a695496dfc5b561bda4e9f2f162bfaaf2768977',
    });
  });

  it('has unique probe ids that fit a recording', () => {
    const ids = BATTERY.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9-]+$/);
  });
});
