import type { FrameLocator } from 'playwright-core';
import type { CardInput, ShopperResult } from '../shopper.js';
import { ShopperError } from '../shopper.js';
import type { BrowserShopper } from './browser-session.js';

/** How long the shop's page has to act on a widget message (navigate, remove the iframe). */
const REACT_MS = 5000;

const FRAME = '#iframe_widget';

/**
 * Resolves true once the top-level page has started a new document other than `from` (or already
 * has), false after `ms`. Only the start of the navigation counts against `ms`, which measures the
 * shop's reaction, not how fast a busy machine loads the next page.
 */
function leaves(shopper: BrowserShopper, from: string, ms: number): Promise<boolean> {
  if (shopper.page.url() !== from) return Promise.resolve(true);
  return shopper.page
    .waitForURL((u) => u.href !== from, { timeout: ms, waitUntil: 'commit' })
    .then(
      () => true,
      () => false,
    );
}

/**
 * Waits until the widget page's script has run (it marks `<html class="js framed">`): before that a
 * click on × or "Продолжить" would follow the plain link instead of posting the message, and the
 * check would test the link, not the shop's message listener.
 */
async function scriptReady(frame: FrameLocator): Promise<void> {
  await frame
    .locator('html.framed')
    .waitFor({ state: 'attached', timeout: REACT_MS })
    .catch(() => undefined);
}

/** True as soon as one of the waits succeeds, false when all failed (no rejection is left unhandled). */
function anyOf(waits: Promise<unknown>[]): Promise<boolean> {
  return new Promise((resolve) => {
    let pending = waits.length;
    for (const w of waits)
      w.then(
        () => resolve(true),
        () => {
          if (--pending === 0) resolve(false);
        },
      );
  });
}

/** The visible text of the widget frame, shortened (for a report when the page is not the expected one). */
async function frameText(shopper: BrowserShopper): Promise<string> {
  try {
    const text = await shopper.page.frameLocator(FRAME).locator('body').innerText({ timeout: 1000 });
    return text.replace(/\s+/g, ' ').trim().slice(0, 200);
  } catch {
    return '(no widget frame)';
  }
}

/**
 * Pays inside the shop's widget iframe as a shopper would: the card form, 3-D Secure (an OTP, or
 * Cancel), the receipt's "Продолжить"; the widget then posts the shop's URL to the page, which must
 * navigate there. The answer has the shape of the HTTP shopper's, so the pay step judges both alike:
 * `landing.url` is the URL the widget sent, `landing.status` the status of the page the shop ended on.
 *
 * @example
 * const walk = await payInWidget(state.browser, card, { otp: '1111', timeoutMs: 15000 });
 */
export async function payInWidget(
  shopper: BrowserShopper,
  card: CardInput,
  opts: { otp?: string | undefined; timeoutMs: number; isSandbox: (url: URL) => boolean },
): Promise<ShopperResult & { stuck?: string }> {
  const { page } = shopper;
  const frame = page.frameLocator(FRAME);
  const hops: string[] = [`page ${page.url()}`];
  const timeout = opts.timeoutMs;
  try {
    await frame.locator('#pan').waitFor({ timeout });
  } catch {
    throw new ShopperError(`the widget iframe shows no card form: "${await frameText(shopper)}"`, [
      ...hops,
      ...shopper.messages.map((m) => `message ${m}`),
    ]);
  }
  hops.push('widget: card form');
  await scriptReady(frame);
  await frame.locator('#pan').fill(card.pan);
  await frame.locator('#exp_month').fill(card.exp_month);
  await frame.locator('#exp_year').fill(card.exp_year);
  await frame.locator('#cvc').fill(card.cvc);
  await frame.locator('#cardholder').fill(card.cardholder);
  const start = page.url();
  const before = shopper.messages.length;
  await frame.locator('#pay').click({ timeout });
  // The next page inside the widget, or the shop's page (a force URL skips the receipt).
  const next = async (selectors: string) =>
    Promise.race([
      frame
        .locator(selectors)
        .first()
        .waitFor({ timeout })
        .then(
          () => 'frame' as const,
          () => 'timeout' as const,
        ),
      leaves(shopper, start, timeout).then((gone) =>
        gone ? ('left' as const) : new Promise<never>(() => undefined),
      ),
    ]);
  let where = await next('#otp, #continue, .field-error');
  let challenged = false;
  if (where === 'frame' && (await frame.locator('.field-error').count()) > 0) {
    const errors = await frame.locator('.field-error').allInnerTexts();
    throw new ShopperError(`the bank showed the card form again: ${errors.join('; ')}`, hops);
  }
  if (where === 'frame' && (await frame.locator('#otp').count()) > 0) {
    challenged = true;
    hops.push('widget: 3-D Secure');
    if (opts.otp && opts.otp !== 'cancel') {
      await frame.locator('#otp').fill(opts.otp);
      await frame.locator('#confirm').click({ timeout });
    } else {
      await frame.locator('#cancel').click({ timeout });
    }
    where = await next('#continue');
  }
  if (where === 'timeout')
    throw new ShopperError(`the widget did not reach the receipt: "${await frameText(shopper)}"`, hops);
  if (where === 'frame') {
    hops.push('widget: receipt, "Продолжить"');
    await scriptReady(frame);
    await frame.locator('#continue').click({ timeout });
    where = (await leaves(shopper, start, REACT_MS)) ? 'left' : 'timeout';
  }
  const posted = shopper.messages.slice(before).filter((m) => m.includes('http'));
  for (const m of shopper.messages.slice(before)) hops.push(`message to the page: ${m}`);
  if (where !== 'left') {
    return {
      hops,
      challenged,
      stuck: `the page stayed on ${page.url()}${posted.length ? ` although the widget posted ${posted.at(-1)}` : ' and the widget posted no URL'}`,
    };
  }
  await page.waitForLoadState('load', { timeout }).catch(() => undefined);
  const sent = posted.at(-1) ?? page.url();
  hops.push(`page ${page.url()}`);
  let sentUrl: URL | undefined;
  try {
    sentUrl = new URL(sent);
  } catch {
    sentUrl = undefined;
  }
  if (sentUrl && opts.isSandbox(sentUrl)) return { hops, challenged, sandbox_result_page: sent };
  const doc = shopper.lastDocument;
  const body = await page
    .content()
    .then((html) => html.slice(0, 2000))
    .catch(() => '');
  return {
    hops,
    challenged,
    landing: {
      url: sent,
      status: doc?.status ?? 0,
      body,
      redirects: doc && doc.url !== sent ? [doc.url] : [],
    },
  };
}

/**
 * Presses × in the widget. The widget posts "close"; the shop's page must remove `#iframe_widget`.
 * Resolves with what happened (never throws for the shop's behaviour; the step judges it).
 */
export async function closeWidget(
  shopper: BrowserShopper,
  timeoutMs: number,
): Promise<{ button: boolean; removed: boolean; left: boolean; url: string; messages: string[] }> {
  const { page } = shopper;
  const frame = page.frameLocator(FRAME);
  await frame.locator('#pan').waitFor({ timeout: timeoutMs });
  await scriptReady(frame);
  const close = frame.locator('a.close');
  const before = shopper.messages.length;
  const start = page.url();
  if ((await close.count()) === 0)
    return { button: false, removed: false, left: false, url: start, messages: [] };
  await close.click({ timeout: timeoutMs });
  // Removed from the page, or the page went elsewhere (a shop may show its cart instead).
  const removed = await anyOf([
    page.waitForSelector(FRAME, { state: 'detached', timeout: REACT_MS }),
    leaves(shopper, start, REACT_MS).then((gone) => (gone ? true : Promise.reject(new Error('stayed')))),
  ]);
  const url = page.url();
  return { button: true, removed, left: url !== start, url, messages: shopper.messages.slice(before) };
}
