import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (the folder holding package.json and contracts/), found by walking up from this
 * module. It works from source (`contracts/`), from tsc's output (`dist/contracts/`) and from the
 * bundled CLI (`dist/mock-server/cli.js`), so data files are always read from the one place
 * package.json "files" ships them.
 */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'contracts', 'data'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('ktpay-mock: cannot find the package root');
    dir = parent;
  }
})();

/** A path under the package root, e.g. `packagePath('contracts', 'data', 'test-cards.json')`. */
export const packagePath = (...parts: string[]): string => join(PACKAGE_ROOT, ...parts);
