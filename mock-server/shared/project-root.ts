import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (the folder holding package.json), found from this module whether it runs from
 * source (`mock-server/…`) or compiled (`dist/mock-server/…`). Data folders hang off it.
 */
export const PROJECT_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'contracts'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('ktpay-mock: cannot find the package root');
    dir = parent;
  }
})();

export const projectPath = (...parts: string[]) => join(PROJECT_ROOT, ...parts);
