/**
 * The shopper, played over plain HTTP (spec §8: every page is a form that works without
 * JavaScript): the widget page, the bank's card form, the 3-D Secure page, the back link, the
 * receipt's "Продолжить", then the merchant's own page, which must answer 2xx.
 */

export interface CardInput {
  pan: string;
  exp_month: string;
  exp_year: string;
  cvc: string;
  cardholder: string;
}

export interface ShopperResult {
  /** Every URL the shopper was sent to, in order. */
  hops: string[];
  /** True when a 3-D Secure page was shown. */
  challenged: boolean;
  /** The page the shopper ends on outside the sandbox (undefined: the sandbox's own result page). */
  landing?: { url: string; status: number; body: string; redirects: string[] };
  /** The sandbox's default result page, when the merchant set no URL for this outcome. */
  sandbox_result_page?: string;
}

export class ShopperError extends Error {
  override name = 'ShopperError';
  constructor(
    message: string,
    readonly hops: string[],
  ) {
    super(message);
  }
}

const SANDBOX_PAGE = /^\/(payment-card|acquirer)(\/|\?|$)|^\/api\/v1\/merchant-widget\//;

/**
 * Tells the sandbox's pages from the merchant's: the sandbox may hand out links under its
 * PUBLIC_URL, not the URL the runner uses, so its page paths count too.
 */
export function isSandboxPage(sandboxUrl: string): (url: URL) => boolean {
  const origin = new URL(sandboxUrl).origin;
  return (url) => url.origin === origin || SANDBOX_PAGE.test(url.pathname);
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The first POST form of a page: its action and hidden fields. */
export function readForm(html: string): { action: string; hidden: Record<string, string> } | undefined {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) return undefined;
  const hidden: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    hidden[m[1]!] = unescapeHtml(m[2]!);
  return { action: unescapeHtml(action), hidden };
}

/** The inline errors a card form shows (for the report when the bank re-shows the form). */
function formErrors(html: string): string {
  const errs = [...html.matchAll(/class="field-error"[^>]*>([^<]+)</g)].map((m) => m[1]!.trim());
  return errs.length > 0 ? errs.join('; ') : 'the bank page came back without a result';
}

/**
 * Walks one payment as a shopper over plain HTTP.
 *
 * @example
 * await walkShopper({ sandboxUrl, hash, card, otp: '1111' });
 */
export async function walkShopper(opts: {
  sandboxUrl: string;
  hash: string;
  card: CardInput;
  otp?: string;
  timeoutMs?: number;
}): Promise<ShopperResult> {
  const hops: string[] = [];
  const signal = () => AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  const isSandbox = isSandboxPage(opts.sandboxUrl);
  /** Sandbox links go to the runner's sandbox URL even when the page names its public origin. */
  const toSandbox = (url: URL) => new URL(`${url.pathname}${url.search}`, opts.sandboxUrl);

  async function get(url: URL): Promise<Response> {
    hops.push(`GET ${url.href}`);
    try {
      return await fetch(url, { redirect: 'manual', signal: signal() });
    } catch (err) {
      throw new ShopperError(`GET ${url.href} failed: ${(err as Error).message}`, hops);
    }
  }
  async function post(url: URL, fields: Record<string, string>): Promise<Response> {
    hops.push(`POST ${url.href}`);
    try {
      return await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
        signal: signal(),
      });
    } catch (err) {
      throw new ShopperError(`POST ${url.href} failed: ${(err as Error).message}`, hops);
    }
  }
  const locationOf = (res: Response, from: URL): URL => {
    const loc = res.headers.get('location');
    if (!loc) throw new ShopperError(`${from.href} answered ${res.status} without a Location header`, hops);
    return new URL(loc, from);
  };
  const expectRedirect = async (res: Response, from: URL, what: string): Promise<URL> => {
    if (res.status === 303 || res.status === 302 || res.status === 301 || res.status === 307)
      return locationOf(res, from);
    const text = await res.text();
    throw new ShopperError(
      `${what}: expected a redirect from ${from.href}, got ${res.status}${res.status === 422 ? ` (${formErrors(text)})` : ''}`,
      hops,
    );
  };

  // 1. The widget page sends a pending payment to the bank.
  const widget = new URL(`/payment-card?hash=${opts.hash}`, opts.sandboxUrl);
  let url = toSandbox(await expectRedirect(await get(widget), widget, 'widget page'));
  // 2. The bank's card form.
  let res = await get(url);
  if (res.status !== 200)
    throw new ShopperError(
      `the bank page ${url.href} answered ${res.status}: is the payment still pending?`,
      hops,
    );
  const cardForm = readForm(await res.text());
  if (!cardForm) throw new ShopperError(`the bank page ${url.href} has no card form`, hops);
  const cardAction = toSandbox(new URL(cardForm.action, url));
  url = await expectRedirect(
    await post(cardAction, { ...cardForm.hidden, ...opts.card, email: '' }),
    cardAction,
    'card form',
  );
  // 3. 3-D Secure, when the bank asks.
  let challenged = false;
  if (isSandbox(url) && url.pathname.startsWith('/acquirer/3ds')) {
    challenged = true;
    const acsUrl = toSandbox(url);
    res = await get(acsUrl);
    const acs = readForm(await res.text());
    if (!acs) throw new ShopperError(`the 3-D Secure page ${acsUrl.href} has no form`, hops);
    const action = toSandbox(new URL(acs.action, acsUrl));
    const answer =
      opts.otp === 'cancel' || !opts.otp ? { action: 'cancel' } : { otp: opts.otp, action: 'confirm' };
    url = await expectRedirect(await post(action, { ...acs.hidden, ...answer }), action, '3-D Secure form');
  }
  // 4. The back link, then the receipt's "Продолжить" (or a force URL straight away).
  if (isSandbox(url)) {
    const back = toSandbox(url);
    url = await expectRedirect(await get(back), back, 'back link');
  }
  if (isSandbox(url) && url.pathname === '/payment-card/receipt') {
    const receiptUrl = toSandbox(url);
    res = await get(receiptUrl);
    const html = await res.text();
    const cont = /id="continue" href="([^"]+)"/.exec(html)?.[1];
    if (!cont) throw new ShopperError(`the receipt page ${receiptUrl.href} has no "Продолжить" link`, hops);
    url = new URL(unescapeHtml(cont), receiptUrl);
  }
  if (isSandbox(url)) {
    hops.push(`(sandbox result page) ${url.href}`);
    return { hops, challenged, sandbox_result_page: url.href };
  }
  // 5. The merchant's page: follow its own redirects (up to 5); the last answer must be 2xx.
  const redirects: string[] = [];
  const first = url.href;
  for (let i = 0; ; i++) {
    res = await get(url);
    if (res.status >= 300 && res.status < 400 && res.headers.get('location') && i < 5) {
      url = locationOf(res, url);
      redirects.push(url.href);
      continue;
    }
    const body = await res.text();
    return {
      hops,
      challenged,
      landing: { url: first, status: res.status, body: body.slice(0, 2000), redirects },
    };
  }
}
