import { join } from 'node:path';
import { projectPath } from '../../shared/project-root.js';
import type { Asset } from '../assets.js';

/** `mock-server/views/dashboard/assets`, shipped as data (package.json "files"), not compiled. */
const dashboardAssetsDir = (): string => projectPath('mock-server', 'views', 'dashboard', 'assets');

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
