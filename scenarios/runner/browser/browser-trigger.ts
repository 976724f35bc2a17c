import { scopeOf, sleep, type RunContext, type ScenarioState, type TriggerRecord } from '../context.js';
import { CheckFailure, clip } from '../outcome.js';
import { renderString } from '../template.js';
import { hashFromCreate } from '../correlate.js';
import { openShopper, type BrowserShopper } from './browser-session.js';

type BrowserTrigger = NonNullable<NonNullable<RunContext['config']['trigger']>['browser']>;
type Action = NonNullable<BrowserTrigger['actions']>[number];

/** One action in words, for reports: `click #buy`, `fill #email`, `select #qty = 2`. */
export function describeAction(a: Action): string {
  if ('click' in a) return `click ${a.click}`;
  if ('fill' in a) return `fill ${a.fill.selector}`;
  return `select ${a.select.selector} = ${a.select.value}`;
}

/** The widget iframe's URL once it names a payment (`/payment-card?hash=…`), else undefined. */
async function widgetSrc(shopper: BrowserShopper): Promise<string | undefined> {
  try {
    const src = await shopper.page.evaluate(() => {
      const frame = document.getElementById('iframe_widget') as HTMLIFrameElement | null;
      return frame ? frame.src || frame.getAttribute('src') || '' : null;
    });
    return src && /[?&]hash=[0-9a-f]{40}/.test(src) ? src : src === null ? undefined : '';
  } catch {
    return undefined; // the page is navigating
  }
}

const problemsOf = (s: BrowserShopper) =>
  s.problems.length > 0 ? `; the page reported: ${clip(s.problems.slice(0, 3).join(' | '), 300)}` : '';

/**
 * The browser trigger: a shopper in Chromium opens the shop's checkout page, performs the configured
 * actions (click, fill, select; values are templates), and waits until the page opens the widget
 * iframe `#iframe_widget` on `/payment-card?hash=…`. The record's body carries the payment's
 * transaction_hash (from the create-payment the page sent, or from the iframe URL), so the
 * create-payment is found exactly.
 */
export async function fireBrowser(state: ScenarioState, run: RunContext): Promise<TriggerRecord> {
  const cfg = run.config.trigger!.browser!;
  const scope = scopeOf(state);
  const url = renderString(cfg.url, scope);
  const actions = cfg.actions ?? [];
  const timeout = run.config.timeouts.trigger_ms;
  const started = Date.now();
  const rec: TriggerRecord = {
    kind: 'browser',
    request: `open ${url} in Chromium${actions.length ? `, then ${actions.map(describeAction).join(', ')}` : ''}`,
    started_at: started,
    duration_ms: 0,
  };
  const shopper = await openShopper(await run.browser.get(), url);
  state.browser = shopper;
  state.cleanups.push(() => shopper.context.close());
  const { page } = shopper;
  try {
    const res = await page.goto(url, { timeout, waitUntil: 'load' });
    rec.status = res?.status() ?? 0;
  } catch (err) {
    rec.error = clip((err as Error).message.split('\n')[0] ?? String(err), 300);
    rec.duration_ms = Date.now() - started;
    return rec;
  }
  for (const [i, a] of actions.entries()) {
    try {
      if ('click' in a) await page.click(renderString(a.click, scope), { timeout });
      else if ('fill' in a)
        await page.fill(renderString(a.fill.selector, scope), renderString(a.fill.value, scope), { timeout });
      else {
        const value = renderString(a.select.value, scope);
        await page
          .selectOption(renderString(a.select.selector, scope), value, { timeout: Math.min(timeout, 2000) })
          .catch(() =>
            page.selectOption(renderString(a.select.selector, scope), { label: value }, { timeout }),
          );
      }
    } catch (err) {
      throw new CheckFailure({
        check: 'trigger_failed',
        message: `the checkout page: action ${i + 1} (${describeAction(a)}) failed`,
        expected: `${describeAction(a)} on ${url}`,
        actual: `${clip((err as Error).message.split('\n')[0] ?? '', 300)} (page ${page.url()})${problemsOf(shopper)}`,
        evidence: { request: rec.request },
        hint: 'check trigger.browser.actions: each selector must match a visible element of your checkout page',
      });
    }
  }
  // The public client opens an empty #iframe_widget first and points it at the widget once the
  // create-payment answered; a shop may also create the payment on its server and only frame it.
  let src: string | undefined;
  for (const deadline = Date.now() + timeout; Date.now() < deadline; await sleep(40)) {
    src = await widgetSrc(shopper);
    if (src) break;
    if (shopper.create && !hashFromCreate(shopper.create.body)) break; // the gateway refused: no widget to wait for
  }
  const fromCreate = shopper.create ? hashFromCreate(shopper.create.body) : undefined;
  const fromSrc = src ? /[?&]hash=([0-9a-f]{40})/.exec(src)?.[1] : undefined;
  // The payment the shopper is shown is the one to pay (a page may have created more than one).
  const hash = fromSrc ?? fromCreate;
  rec.body = hash ? { transaction_hash: hash } : {};
  rec.text = shopper.create ? JSON.stringify(shopper.create.body ?? null) : '';
  rec.duration_ms = Date.now() - started;
  state.notes.push(
    src
      ? `the page opened #iframe_widget on ${src}`
      : `the page did not open the widget${shopper.create ? ` (its create-payment answered ${shopper.create.status})` : ''}`,
  );
  if (!src && !(shopper.create && !fromCreate)) {
    throw new CheckFailure({
      check: 'widget_iframe',
      message: 'the checkout page did not open the ktpay widget in an iframe #iframe_widget',
      expected: `an <iframe id="iframe_widget"> on ${run.sandbox.url}/payment-card?hash=<transaction_hash>&show_close_button… within ${timeout / 1000} s`,
      actual: `page ${page.url()}: ${src === '' ? 'an #iframe_widget without a /payment-card?hash=… URL' : 'no #iframe_widget'}; ${shopper.create ? `the page's create-payment answered ${shopper.create.status}` : 'the page sent no create-payment itself'}${problemsOf(shopper)}`,
      evidence: { request: rec.request, path: shopper.messages },
      hint: 'after the create-payment, open /payment-card?hash=<transaction_hash> in an iframe with id "iframe_widget", as the public widget client does',
    });
  }
  return rec;
}
