import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { projectPath } from '../shared/project-root.js';

/** `mock-server/views/assets`, shipped as data (package.json "files"), not compiled. */
const assetsDir = (): string => projectPath('mock-server', 'views', 'assets');

/** The ESM build of a package's main file (libsodium's browser-ready modules). */
function esmOf(pkg: string, file: string): string {
  const require = createRequire(import.meta.url);
  const cjsMain = require.resolve(pkg); // …/<pkg>/dist/modules/<name>.js
  return join(dirname(cjsMain), '..', 'modules-esm', file);
}

export interface Asset {
  path: string;
  type: string;
}

/**
 * The static files the pages use, by URL name. libsodium comes from node_modules: its ESM builds
 * embed the WASM and run in browsers (`libsodium-wrappers.mjs` imports the bare name `libsodium`,
 * which the demo page maps with an import map).
 */
export function assetTable(): Record<string, Asset> {
  const dir = assetsDir();
  return {
    'styles.css': { path: join(dir, 'styles.css'), type: 'text/css; charset=utf-8' },
    'frame.js': { path: join(dir, 'frame.js'), type: 'text/javascript; charset=utf-8' },
    'demo.js': { path: join(dir, 'demo.js'), type: 'text/javascript; charset=utf-8' },
    'libsodium-wrappers.mjs': {
      path: esmOf('libsodium-wrappers', 'libsodium-wrappers.mjs'),
      type: 'text/javascript; charset=utf-8',
    },
    'libsodium.mjs': { path: esmOf('libsodium', 'libsodium.mjs'), type: 'text/javascript; charset=utf-8' },
  };
}

/** Reads an asset once per app: `load` is handed a per-app cache. */
export function loadAsset(asset: Asset, cache: Map<string, Buffer>): Buffer {
  let body = cache.get(asset.path);
  if (!body) {
    body = readFileSync(asset.path);
    cache.set(asset.path, body);
  }
  return body;
}
