import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forgetVerdict, rememberVerdict, rememberedVerdict, VERDICT_TTL_MS } from './launch-verdicts.js';

const dir = mkdtempSync(join(tmpdir(), 'ktpay-verdicts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function binary(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  return path;
}

describe('launch verdicts remembered across processes', () => {
  it('knows nothing about a binary never tried', () => {
    expect(rememberedVerdict(dir, binary('never'))).toBeUndefined();
  });

  it('remembers launches and does-not-launch, per binary', () => {
    const good = binary('good');
    const bad = binary('bad');
    rememberVerdict(dir, good, true);
    rememberVerdict(dir, bad, false);
    expect(rememberedVerdict(dir, good)).toBe(true);
    expect(rememberedVerdict(dir, bad)).toBe(false);
  });

  it('forgets when the binary changes (an upgrade, or another file mounted over it)', () => {
    const path = binary('upgraded');
    rememberVerdict(dir, path, true);
    appendFileSync(path, 'exit 0\n');
    expect(rememberedVerdict(dir, path)).toBeUndefined();
  });

  it('forgets when the binary is gone', () => {
    const path = binary('removed');
    rememberVerdict(dir, path, true);
    rmSync(path);
    expect(rememberedVerdict(dir, path)).toBeUndefined();
  });

  it(`holds a verdict for ${VERDICT_TTL_MS / 60_000} minutes at most`, () => {
    const path = binary('aging');
    const at = Date.now();
    rememberVerdict(dir, path, true, at);
    expect(rememberedVerdict(dir, path, at + VERDICT_TTL_MS)).toBe(true);
    expect(rememberedVerdict(dir, path, at + VERDICT_TTL_MS + 1)).toBeUndefined();
    expect(rememberedVerdict(dir, path, at - 1)).toBeUndefined(); // the clock went back
  });

  it('forgets on request, keeping the other verdicts', () => {
    const a = binary('a');
    const b = binary('b');
    rememberVerdict(dir, a, true);
    rememberVerdict(dir, b, true);
    forgetVerdict(dir, a);
    expect(rememberedVerdict(dir, a)).toBeUndefined();
    expect(rememberedVerdict(dir, b)).toBe(true);
  });

  it('treats a damaged file as knowing nothing', () => {
    const path = binary('damaged');
    rememberVerdict(dir, path, true);
    writeFileSync(join(dir, 'launch-verdicts.json'), '{"half');
    expect(rememberedVerdict(dir, path)).toBeUndefined();
    rememberVerdict(dir, path, false);
    expect(rememberedVerdict(dir, path)).toBe(false);
  });
});
