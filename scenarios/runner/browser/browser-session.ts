import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../find-chromium.js';

/** Chromium for the run: launched once, on first use, and closed with the run. */
export interface BrowserSource {
  get(): Promise<Browser>;
  close(): Promise<void>;
}

/** Why the browser trigger cannot run, and how to get a browser. */
export class BrowserUnavailable extends Error {
  override name = 'BrowserUnavailable';
}

/**
 * One Chromium per run, through `launchChromium()` (CHROMIUM_PATH, Debian's chromium, or the
 * `@sparticuz/chromium` package; never a download). playwright-core is imported only here, when a
 * browser trigger runs, so `ktpay-mock serve` never loads it.
 *
 * @example
 * const source = createBrowserSource();
 * const browser = await source.get();
 */
export function createBrowserSource(launch: () => Promise<Browser> = () => launchChromium()): BrowserSource {
  let browser: Promise<Browser> | undefined;
  return {
    get() {
      browser ??= launch().catch((err: unknown) => {
        browser = undefined;
        throw new BrowserUnavailable(
          `the browser trigger needs Chromium and playwright-core: ${(err as Error).message}. ` +
            "Install Debian's chromium (apt-get install chromium), point CHROMIUM_PATH at a Chromium or Chrome binary, " +
            'or add the npm package @sparticuz/chromium (a Chromium inside node_modules)',
        );
      });
      return browser;
    },
    async close() {
      const b = browser;
      browser = undefined;
      if (b) await (await b.catch(() => undefined))?.close();
    },
  };
}

/** One scenario's shopper in the browser: a fresh context, the shop's checkout page and what it saw. */
export interface BrowserShopper {
  context: BrowserContext;
  page: Page;
  /** The page the shopper started on (after `{{…}}` rendering). */
  checkoutUrl: string;
  /** Strings the shop's page received through postMessage, in order (the widget's protocol). */
  messages: string[];
  /** Console errors, uncaught page errors and failed requests of the shop's page. */
  problems: string[];
  /** The last top-level document the page loaded, with its HTTP status. */
  lastDocument: { url: string; status: number } | undefined;
  /** The create-payment the page itself sent to the gateway (JS widget client), when it did. */
  create: { status: number; body: unknown } | undefined;
}

const CREATE_PATH_RE = /\/api\/v1\/merchant-widget\/payment\/?$/;

/**
 * Opens a fresh browser context for one scenario and records, across navigations, what the
 * top-level page receives through postMessage, its errors, its documents and any create-payment
 * it sends itself.
 */
export async function openShopper(browser: Browser, checkoutUrl: string): Promise<BrowserShopper> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 820 }, locale: 'ru-RU' });
  const page = await context.newPage();
  const shopper: BrowserShopper = {
    context,
    page,
    checkoutUrl,
    messages: [],
    problems: [],
    lastDocument: undefined,
    create: undefined,
  };
  await page.exposeFunction('__ktpayRunnerMessage', (data: unknown) => {
    shopper.messages.push(typeof data === 'string' ? data : JSON.stringify(data));
  });
  await page.addInitScript(() => {
    if (window.parent !== window) return;
    window.addEventListener('message', (e: MessageEvent) =>
      (window as unknown as { __ktpayRunnerMessage: (d: unknown) => void }).__ktpayRunnerMessage(e.data),
    );
  });
  page.on('console', (m) => {
    if (m.type() === 'error') shopper.problems.push(`console: ${m.text()}`.slice(0, 300));
  });
  page.on('pageerror', (err) => shopper.problems.push(`page error: ${err.message}`.slice(0, 300)));
  page.on('response', (res) => {
    const req = res.request();
    if (req.isNavigationRequest() && res.frame() === page.mainFrame())
      shopper.lastDocument = { url: res.url(), status: res.status() };
    if (req.method() === 'POST' && CREATE_PATH_RE.test(new URL(res.url()).pathname)) {
      res
        .json()
        .then((body: unknown) => (shopper.create = { status: res.status(), body }))
        .catch(() => (shopper.create = { status: res.status(), body: undefined }));
    }
  });
  return shopper;
}
