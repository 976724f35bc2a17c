import { existsSync } from 'node:fs';
import type { Browser, LaunchOptions } from 'playwright-core';
import { chromiumCacheDir } from './chromium-cache-dir.js';
import { forgetVerdict, rememberVerdict, rememberedVerdict } from './launch-verdicts.js';
import { unpackNpmChromium } from './npm-chromium.js';

/** Where a Chromium binary came from, in the order they are tried. */
export type ChromiumSource = 'CHROMIUM_PATH' | 'debian' | 'npm';

export interface ChromiumChoice {
  source: ChromiumSource;
  executablePath: string;
  /** Launch arguments that this binary needs on a headless Linux box (no GPU, no network chatter). */
  args: string[];
  /** Environment the browser needs on top of this process's (the npm build: its font configuration). */
  env: Record<string, string>;
  /** One line for a person: which browser, and where, e.g. `Debian's chromium (/usr/bin/chromium)`. */
  description: string;
}

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * Flags every launch gets. Without the background-networking ones Chromium keeps dialling Google's
 * hosts, which this kind of closed machine refuses many times a second. Nothing here weakens the
 * web's security model (no --disable-web-security, no --ignore-certificate-errors): pages under
 * test must behave as they do for a shopper.
 */
const COMMON_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-sync',
  '--disable-background-networking',
  '--disable-component-update',
];

/**
 * `@sparticuz/chromium` is a headless-shell build made for serverless boxes: it wants no zygote and
 * software GL. Its own `args` list also turns off web security and site isolation, so only these
 * are taken from it.
 */
const NPM_ARGS = ['--no-zygote', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

async function playwright() {
  try {
    return await import('playwright-core');
  } catch {
    throw new Error('the browser needs the npm package playwright-core: npm install playwright-core');
  }
}

/** The binary inside the `@sparticuz/chromium` package (unpacked once per machine into the temp dir). */
async function npmChromium(): Promise<ChromiumChoice> {
  const npm = await unpackNpmChromium();
  return {
    source: 'npm',
    executablePath: npm.executablePath,
    args: [...COMMON_ARGS, ...NPM_ARGS],
    env: { FONTCONFIG_FILE: npm.fontConfigFile },
    description: `@sparticuz/chromium ${npm.version} (${npm.executablePath})`,
  };
}

function launch(choice: ChromiumChoice, options: LaunchOptions = {}): Promise<Browser> {
  return playwright().then(({ chromium }) =>
    chromium.launch({
      ...options,
      headless: true,
      executablePath: choice.executablePath,
      args: [...choice.args, ...(options.args ?? [])],
      env: { ...process.env, ...options.env, ...choice.env },
    }),
  );
}

/** True when the binary really starts under playwright-core (a path that exists may still lack its libraries). */
async function launches(choice: ChromiumChoice): Promise<boolean> {
  try {
    await (await launch(choice, { timeout: 20_000 })).close();
    return true;
  } catch {
    return false;
  }
}

/** This user's cache folder, or undefined when it cannot be used (then nothing is remembered). */
function verdictDir(): string | undefined {
  try {
    return chromiumCacheDir();
  } catch {
    return undefined;
  }
}

/** Whether Debian's chromium launches, remembered across processes (see launch-verdicts.ts). */
async function debianLaunches(debian: ChromiumChoice): Promise<boolean> {
  if (!existsSync(DEBIAN_CHROMIUM)) return false;
  const dir = verdictDir();
  const known = dir && rememberedVerdict(dir, DEBIAN_CHROMIUM);
  if (typeof known === 'boolean') return known;
  const ok = await launches(debian);
  if (dir) rememberVerdict(dir, DEBIAN_CHROMIUM, ok);
  return ok;
}

const memo = new Map<string, Promise<ChromiumChoice>>();

export interface FindChromiumOptions {
  /** Defaults to process.env; only CHROMIUM_PATH is read. */
  env?: Record<string, string | undefined>;
  /** Skip the search and take this source (a test keeps the npm fallback from rotting this way). */
  only?: ChromiumSource;
}

const memoKey = (options: FindChromiumOptions) =>
  `${options.only ?? '*'}\0${(options.env ?? process.env).CHROMIUM_PATH ?? ''}`;

/**
 * Finds a Chromium to drive with playwright-core, never downloading one: `CHROMIUM_PATH` when set,
 * else Debian's `/usr/bin/chromium` when it actually launches, else the binary inside the
 * `@sparticuz/chromium` package. The answer is remembered for the process, and whether Debian's
 * launches is remembered for a while across processes.
 *
 * @example
 * const { executablePath, args, env, description } = await findChromium();
 */
export function findChromium(options: FindChromiumOptions = {}): Promise<ChromiumChoice> {
  const key = memoKey(options);
  let found = memo.get(key);
  if (!found) {
    found = search((options.env ?? process.env).CHROMIUM_PATH, options.only);
    memo.set(key, found);
    found.catch(() => memo.delete(key));
  }
  return found;
}

async function search(
  fromEnv: string | undefined,
  only: ChromiumSource | undefined,
): Promise<ChromiumChoice> {
  if (only === 'npm') return npmChromium();
  if (only === 'CHROMIUM_PATH' || (!only && fromEnv)) {
    if (!fromEnv) throw new Error('CHROMIUM_PATH is not set');
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv}: no such file`);
    return {
      source: 'CHROMIUM_PATH',
      executablePath: fromEnv,
      args: COMMON_ARGS,
      env: {},
      description: `CHROMIUM_PATH (${fromEnv})`,
    };
  }
  const debian: ChromiumChoice = {
    source: 'debian',
    executablePath: DEBIAN_CHROMIUM,
    args: COMMON_ARGS,
    env: {},
    description: `Debian's chromium (${DEBIAN_CHROMIUM})`,
  };
  if (await debianLaunches(debian)) return debian;
  if (only === 'debian') throw new Error(`${DEBIAN_CHROMIUM} is missing or does not launch`);
  return npmChromium();
}

export interface LaunchedChromium {
  browser: Browser;
  /** The browser that launched (after a fallback, not necessarily the first choice). */
  choice: ChromiumChoice;
}

/**
 * Launches the Chromium that {@link findChromium} chooses, headless, and says which one it was.
 * When Debian's chromium was remembered as launching but no longer does, the search runs again
 * without that memory.
 *
 * @example
 * const { browser, choice } = await launchChromiumChoice();
 * console.log(`browser: ${choice.description}`);
 */
export async function launchChromiumChoice(
  options: FindChromiumOptions & { launch?: LaunchOptions } = {},
): Promise<LaunchedChromium> {
  const choice = await findChromium(options);
  try {
    return { browser: await launch(choice, options.launch), choice };
  } catch (err) {
    if (choice.source !== 'debian' || options.only === 'debian') {
      throw new Error(`${choice.description} did not start: ${(err as Error).message}`, { cause: err });
    }
    const dir = verdictDir();
    if (dir) forgetVerdict(dir, DEBIAN_CHROMIUM);
    memo.delete(memoKey(options));
    const next = await findChromium(options);
    return { browser: await launch(next, options.launch), choice: next };
  }
}

/**
 * Launches the Chromium that {@link findChromium} chooses, headless (see {@link launchChromiumChoice}).
 *
 * @example
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 */
export async function launchChromium(
  options: FindChromiumOptions & { launch?: LaunchOptions } = {},
): Promise<Browser> {
  return (await launchChromiumChoice(options)).browser;
}
