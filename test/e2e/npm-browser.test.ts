import type { Browser, Frame, FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../mock-server/server.js';
import { DEBIAN_CHROMIUM, findChromium } from '../../scenarios/runner/find-chromium.js';
import { launchTestBrowser } from '../helpers/browser.js';
import { createOrder, fillCard, shot, startSandbox, txOf } from './browser.js';

/**
 * The npm fallback (`@sparticuz/chromium`), on every run, even where Debian's chromium exists: a
 * fresh machine with only Node gets this browser, so it must drive a whole widget journey and draw
 * every letter a shopper sees with the fonts that come with npm packages (it is given no system
 * fonts, so this holds on a machine that has none).
 */
let server: RunningServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startSandbox({ clearing_delay_ms: 'manual' });
  browser = await launchTestBrowser('npm');
  page = await browser.newPage({ viewport: { width: 900, height: 860 } });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const KAZAKH = 'Әә Ғғ Ққ Ңң Өө Ұұ Үү Һһ Іі';

/**
 * The characters of `text` that the page cannot draw: each is drawn alone on a canvas in the
 * page's own font stack, and one that leaves no ink, or looks exactly like a private-use code point
 * (which no font has: a blank or a box), is missing from every font the browser has.
 */
async function undrawable(frame: Frame, text: string): Promise<string[]> {
  const chars = [...new Set(text.replace(/\s/g, ''))];
  return frame.evaluate((chars) => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 64;
    const g = canvas.getContext('2d', { willReadFrequently: true })!;
    const font = `40px ${getComputedStyle(document.body).fontFamily}`;
    const draw = (ch: string) => {
      g.clearRect(0, 0, 64, 64);
      g.font = font;
      g.textBaseline = 'top';
      g.fillText(ch, 8, 8);
      const alpha = g.getImageData(0, 0, 64, 64).data.filter((_, i) => i % 4 === 3);
      return { ink: alpha.some((a) => a > 0), pixels: alpha.join(',') };
    };
    const missing = draw('\uE000').pixels;
    return chars.filter((ch) => {
      const d = draw(ch);
      return !d.ink || d.pixels === missing;
    });
  }, chars);
}

/** The font faces Chromium used for an element's text on a page (DevTools' CSS.getPlatformFontsForNode). */
async function fontsOf(url: string, selector: string): Promise<string[]> {
  const tab = await browser.newPage();
  try {
    await tab.goto(url);
    const cdp = await tab.context().newCDPSession(tab);
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    return fonts.map((f) => f.familyName);
  } finally {
    await tab.close();
  }
}

describe('the npm browser (@sparticuz/chromium), launched on every run', () => {
  it('is the build inside the npm package, not a system browser', async () => {
    const npm = await findChromium({ only: 'npm' });
    expect(npm.source).toBe('npm');
    expect(npm.executablePath).not.toBe(DEBIAN_CHROMIUM);
    const packageVersion = /@sparticuz\/chromium (\d+)\./.exec(npm.description)?.[1];
    expect(browser.version().split('.')[0]).toBe(packageVersion);
  });

  it('pays with 3-D Secure in the widget, and draws Cyrillic, Kazakh letters and ₸ with npm fonts', async () => {
    const hash = await createOrder(server.url, { amount: 1500.5, description: `Қайтару: ${KAZAKH}` });
    await page.goto(`${server.url}/demo?hash=${hash}&show_close_button=true`);
    const widget: FrameLocator = page.frameLocator('#iframe_widget');
    await fillCard(widget, { pan: '5522 0427 0506 6736' });
    await widget.locator('#otp').fill('1111');
    await widget.locator('#confirm').click();
    await widget.locator('#continue').waitFor();
    expect((await txOf(server.url, hash)).status).toBe('success');

    const frame = page.frames().find((f) => f.url().includes('/payment-card'))!;
    const receipt = (await frame.locator('dl.receipt').innerText()).trim();
    expect(receipt).toContain('Тестовый магазин');
    expect(receipt).toContain(KAZAKH);
    expect(receipt).toMatch(/1\s500,5\s₸/);
    await shot(page, 'npm-browser-receipt');

    // Every letter on the receipt (the merchant, the Kazakh description, ₸), and the pages' headings.
    const heading = await frame.locator('h1').innerText();
    expect(await undrawable(frame, `${receipt}${heading}${KAZAKH}₸`)).toEqual([]);
    // …drawn in DejaVu Sans, the face the pages ask for, which this browser gets from npm only.
    expect(await fontsOf(frame.url(), 'dl.receipt dd.strong')).toEqual(['DejaVu Sans']);
  });
});
