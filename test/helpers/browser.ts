import type { Browser } from 'playwright-core';
import { launchChromiumChoice, type ChromiumSource } from '../../scenarios/runner/find-chromium.js';

const announced = new Set<string>();

/**
 * Launches the browser for a browser test through the product's own finder
 * (`scenarios/runner/find-chromium.ts`): `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium` when it
 * launches, else the one inside the `@sparticuz/chromium` devDependency. It prints one line saying
 * which (once per test process), so a run shows what it tested with. `only: 'npm'` takes the npm
 * browser even where Debian's exists: one suite does so on every run, so the fallback cannot rot.
 *
 * @example
 * const browser = await launchTestBrowser();
 * const page = await browser.newPage();
 */
export async function launchTestBrowser(only?: ChromiumSource): Promise<Browser> {
  const { browser, choice } = await launchChromiumChoice(only ? { only } : {});
  if (!announced.has(choice.description)) {
    announced.add(choice.description);
    process.stderr.write(`browser: ${choice.description}\n`);
  }
  return browser;
}
