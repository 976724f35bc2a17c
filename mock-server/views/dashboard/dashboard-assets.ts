import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Asset } from '../assets.js';

const here = dirname(fileURLToPath(import.meta.url));

/** `mock-server/views/dashboard/assets`, whether this module runs from source or from `dist/`. */
function dashboardAssetsDir(): string {
  const candidates = [
    join(here, 'assets'),
    join(here, '..', '..', '..', '..', 'mock-server', 'views', 'dashboard', 'assets'),
  ];
  return candidates.find((d) => existsSync(join(d, 'dashboard.js'))) ?? candidates[0]!;
}

/** The dashboard's own static files (no build step): one stylesheet, one script, the docs page's starter. */
export function dashboardAssetTable(): Record<string, Asset> {
  const dir = dashboardAssetsDir();
  const js = 'text/javascript; charset=utf-8';
  return {
    'dashboard.css': { path: join(dir, 'dashboard.css'), type: 'text/css; charset=utf-8' },
    'dashboard.js': { path: join(dir, 'dashboard.js'), type: js },
    'docs.js': { path: join(dir, 'docs.js'), type: js },
  };
}
