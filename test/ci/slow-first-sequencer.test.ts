import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../mock-server/shared/project-root.js';
import { SLOW_FILES } from '../helpers/slow-first-sequencer.js';

describe('the slow-first test order (vitest.config.ts)', () => {
  it('names only test files that exist, each once', () => {
    for (const f of SLOW_FILES) expect(existsSync(projectPath(f)), f).toBe(true);
    expect(new Set(SLOW_FILES).size).toBe(SLOW_FILES.length);
  });
});
