import { existsSync } from 'node:fs';
import type { Browser, LaunchOptions } from 'playwright-core';

/** Where a Chromium binary came from, in the order they are tried. */
export type ChromiumSource = 'CHROMIUM_PATH' | 'debian' | 'npm';

export interface ChromiumChoice {
  source: ChromiumSource;
  executablePath: string;
  /** Launch arguments that this binary needs on a headless Linux box (no GPU, no network chatter). */
  args: string[];
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

/** Unpacks the npm browser (once per machine: it lands in the temp folder) and returns its path. */
async function npmChromium(): Promise<ChromiumChoice> {
  let mod: { default: { executablePath(): Promise<string> } };
  try {
    mod = (await import('@sparticuz/chromium')) as typeof mod;
  } catch {
    throw new Error(
      `no Chromium found: set CHROMIUM_PATH, install Debian's chromium (${DEBIAN_CHROMIUM}), or npm install @sparticuz/chromium`,
    );
  }
  return {
    source: 'npm',
    executablePath: await mod.default.executablePath(),
    args: [...COMMON_ARGS, ...NPM_ARGS],
  };
}

/** True when the binary really starts under playwright-core (a path that exists may still lack its libraries). */
async function launches(choice: ChromiumChoice): Promise<boolean> {
  const { chromium } = await playwright();
  try {
    const browser = await chromium.launch({
      executablePath: choice.executablePath,
      args: choice.args,
      timeout: 20_000,
    });
    await browser.close();
    return true;
  } catch {
    return false;
  }
}

const memo = new Map<string, Promise<ChromiumChoice>>();

export interface FindChromiumOptions {
  /** Defaults to process.env; only CHROMIUM_PATH is read. */
  env?: Record<string, string | undefined>;
  /** Skip the search and take this source (a test keeps the npm fallback from rotting this way). */
  only?: ChromiumSource;
}

/**
 * Finds a Chromium to drive with playwright-core, never downloading one: `CHROMIUM_PATH` when set,
 * else Debian's `/usr/bin/chromium` when it actually launches, else the binary inside the
 * `@sparticuz/chromium` package. The answer is remembered for the process.
 *
 * @example
 * const { executablePath, args, source } = await findChromium();
 */
export function findChromium(options: FindChromiumOptions = {}): Promise<ChromiumChoice> {
  const env = options.env ?? process.env;
  const key = `${options.only ?? '*'}\0${env.CHROMIUM_PATH ?? ''}`;
  let found = memo.get(key);
  if (!found) {
    found = search(env.CHROMIUM_PATH, options.only);
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
    return { source: 'CHROMIUM_PATH', executablePath: fromEnv, args: COMMON_ARGS };
  }
  const debian: ChromiumChoice = { source: 'debian', executablePath: DEBIAN_CHROMIUM, args: COMMON_ARGS };
  if (existsSync(DEBIAN_CHROMIUM) && (await launches(debian))) return debian;
  if (only === 'debian') throw new Error(`${DEBIAN_CHROMIUM} is missing or does not launch`);
  return npmChromium();
}

/**
 * Launches the Chromium that {@link findChromium} chooses, headless.
 *
 * @example
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 */
export async function launchChromium(
  options: FindChromiumOptions & { launch?: LaunchOptions } = {},
): Promise<Browser> {
  const choice = await findChromium(options);
  const { chromium } = await playwright();
  const extra = options.launch?.args ?? [];
  return chromium.launch({
    ...options.launch,
    headless: true,
    executablePath: choice.executablePath,
    args: [...choice.args, ...extra],
  });
}
