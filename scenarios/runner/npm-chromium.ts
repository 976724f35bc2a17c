import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { defaultFontPath } from '../../mock-server/payments/receipt-pdf.js';
import { chromiumCacheDir } from './chromium-cache-dir.js';
import { xmlText } from './reporters/junit-reporter.js';

const PACKAGE = '@sparticuz/chromium';
const execFileAsync = promisify(execFile);

/** The headless Chromium that ships inside the `@sparticuz/chromium` package, unpacked and ready. */
export interface NpmChromium {
  version: string;
  executablePath: string;
  /** `FONTCONFIG_FILE` for the browser: fonts from npm packages only, so text renders without system fonts. */
  fontConfigFile: string;
}

/**
 * The package's own unpacking (`executablePath()`) writes to the temp dir's top level and trusts any
 * `chromium` file it finds there, so two processes unpacking at once hand out a half-written
 * binary, a killed unpack leaves a broken one for good, and an upgraded package keeps the old one.
 * It is therefore run in a child process whose temp dir is a fresh staging folder, which is renamed
 * to its versioned place only once complete (the rename is atomic: a folder that exists is whole).
 */
const UNPACK_SCRIPT =
  'const { default: chromium } = await import(process.argv[1]); process.stdout.write(await chromium.executablePath());';

/** Staging folders of an unpack that died (a killed process) are removed after this long. */
const STALE_UNPACK_MS = 10 * 60_000;

function locatePackage(): { entry: string; version: string } {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(PACKAGE);
  } catch {
    throw new Error(
      `no Chromium found: set CHROMIUM_PATH, install Debian's chromium (/usr/bin/chromium), or npm install ${PACKAGE}`,
    );
  }
  // The package exports only its entry point, so its package.json is found by walking up from it
  // (past the `{"type": …}` stubs some builds keep in their output folders).
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      name?: string;
      version?: string;
    };
    if (name === PACKAGE && version) return { entry, version };
  }
  throw new Error(`${PACKAGE}: no package.json above ${entry}`);
}

/**
 * Fonts for the npm browser: DejaVu (the receipt's font, a dependency, copied in so the folder does
 * not depend on the checkout that unpacked it) first, since it has Cyrillic, the Kazakh letters and
 * ₸ and is the face the sandbox's pages ask for; then the package's own Open Sans, which lacks ₸.
 * System fonts are left out on purpose, so this browser renders the same on every machine, and on
 * one that has no fonts at all.
 */
function fontConfig(dir: string): string {
  const family = (generic: string, face: string) =>
    `  <alias><family>${generic}</family><prefer><family>${face}</family></prefer></alias>`;
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
    '<fontconfig>',
    `  <dir>${xmlText(join(dir, 'fonts'))}</dir>`,
    `  <cachedir>${xmlText(join(dir, 'fontconfig-cache'))}</cachedir>`,
    family('sans-serif', 'DejaVu Sans'),
    family('serif', 'DejaVu Serif'),
    family('monospace', 'DejaVu Sans Mono'),
    '</fontconfig>',
    '',
  ].join('\n');
}

/** Removes other versions' folders and staging folders that a killed unpack left behind (~200 MB each). */
function removeLeftovers(root: string, keep: string): void {
  for (const name of readdirSync(root)) {
    if (!name.startsWith('npm-') || join(root, name) === keep) continue;
    const path = join(root, name);
    try {
      const staging = name.includes('.unpacking-');
      if (!staging || Date.now() - statSync(path).mtimeMs > STALE_UNPACK_MS) {
        rmSync(path, { recursive: true, force: true });
      }
    } catch {
      // Another process removed or renamed it first.
    }
  }
}

/**
 * Unpacks the browser inside `@sparticuz/chromium` (a devDependency) into this user's cache folder
 * in the temp dir, once per machine and package version (~2 s), and returns where it is. Safe to
 * call from several processes at once.
 *
 * @example
 * const { executablePath, fontConfigFile } = await unpackNpmChromium();
 */
export async function unpackNpmChromium(): Promise<NpmChromium> {
  const { entry, version } = locatePackage();
  const root = chromiumCacheDir();
  const dir = join(root, `npm-${version}`);
  const found: NpmChromium = {
    version,
    executablePath: join(dir, 'chromium'),
    fontConfigFile: join(dir, 'fonts.conf'),
  };
  if (existsSync(found.fontConfigFile)) return found;
  removeLeftovers(root, dir);
  const staging = mkdtempSync(`${dir}.unpacking-`);
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--input-type=module', '-e', UNPACK_SCRIPT, pathToFileURL(entry).href],
      { env: { ...process.env, TMPDIR: staging }, timeout: 180_000 },
    );
    if (stdout !== join(staging, 'chromium')) {
      throw new Error(`${PACKAGE} ${version} unpacked to ${stdout || 'nowhere'}, not into ${staging}`);
    }
    cpSync(dirname(defaultFontPath()), join(staging, 'fonts', 'dejavu'), { recursive: true });
    writeFileSync(join(staging, 'fonts.conf'), fontConfig(dir));
    try {
      renameSync(staging, dir);
    } catch (err) {
      // Another process finished first: its folder is complete, so use it.
      if (!existsSync(found.fontConfigFile)) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return found;
}
