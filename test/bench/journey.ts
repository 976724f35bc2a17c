import { request } from 'undici';

/*
 * Finds, against a running sandbox, how the shopper-side requests look (status GET, widget page,
 * bank card page and its form, the headless admin pay route), from the documented entry points
 * only: acquirer-options v2 `payment_page` and the HTML forms it serves. A part that is not in
 * this build comes back as `unavailable` with the reason, and the bench prints that instead of a
 * figure.
 */

export const API = '/api/v1/merchant-widget';

/** An approved, frictionless test card (spec §8). */
export const APPROVED_CARD = {
  pan: '4405639704015096',
  exp_month: '12',
  exp_year: String(new Date().getUTCFullYear() + 3),
  cvc: '123',
  cardholder: 'BENCH SHOPPER',
  email: 'bench.shopper@example.kz',
};

export type Probe<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The card form as served by the bank page, with the transaction hash turned into a template. */
export interface CardFormTemplate {
  /** Path (and query) to POST to, for a given hash. */
  path: (hash: string) => string;
  /** The urlencoded body for a given hash: hidden fields as served, plus the card. */
  body: (hash: string) => string;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { method: 'GET', headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

/** Attributes of one HTML tag, entity-decoded. */
function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    out[m[1]!.toLowerCase()] = (m[3] ?? m[4] ?? '')
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'");
  }
  return out;
}

/** GET /payment/{hash} with the owner's Auth-Identifier answers 200 with the status object. */
export async function probeStatus(
  base: string,
  hash: string,
  appId: string,
): Promise<Probe<(h: string) => string>> {
  const path = (h: string) => `${API}/payment/${h}`;
  const res = await get(base + path(hash), { 'auth-identifier': appId });
  if (res.status !== 200 || !res.text.includes(hash)) {
    return {
      ok: false,
      reason: `GET ${API}/payment/{hash} answered ${res.status}: ${res.text.slice(0, 120)}`,
    };
  }
  return { ok: true, value: path };
}

/** GET /payment-card?hash=… answers 200 or a redirect to the bank page. */
export async function probeWidget(
  base: string,
  hash: string,
): Promise<Probe<{ path: (h: string) => string; status: number }>> {
  const path = (h: string) => `/payment-card?hash=${h}`;
  const res = await get(base + path(hash));
  if (res.status !== 200 && !(res.status >= 300 && res.status < 400)) {
    return { ok: false, reason: `GET /payment-card?hash= answered ${res.status}: ${res.text.slice(0, 120)}` };
  }
  return { ok: true, value: { path, status: res.status } };
}

/**
 * acquirer-options v2 → `payment_page` → the form holding `pan`. Returns the page path template
 * (GET) and the form template (POST), both keyed by the transaction hash.
 */
export async function probeBankPage(
  base: string,
  hash: string,
  appId: string,
): Promise<Probe<{ page: (h: string) => string; form: CardFormTemplate }>> {
  const opts = await get(`${base}${API}/payment/${hash}/acquirer-options`, { 'auth-identifier': appId });
  const m = /"payment_page"\s*:\s*"([^"]+)"/.exec(opts.text);
  if (opts.status !== 200 || !m) {
    return {
      ok: false,
      reason: `acquirer-options answered ${opts.status} without payment_page: ${opts.text.slice(0, 120)}`,
    };
  }
  const pageUrl = new URL(m[1]!.replace(/\\\//g, '/'), base);
  const pagePath = pageUrl.pathname + pageUrl.search;
  if (!pagePath.includes(hash))
    return { ok: false, reason: `payment_page ${pagePath} does not name the transaction` };
  const page = await get(base + pagePath);
  const form = page.text.split(/<form\b/i).find((chunk) => /name=["']pan["']/.test(chunk));
  if (page.status !== 200 || !form)
    return { ok: false, reason: `payment_page answered ${page.status} without a card form` };
  const formTag = attrs(form.slice(0, form.indexOf('>')));
  if ((formTag.method ?? 'get').toLowerCase() !== 'post')
    return { ok: false, reason: 'the card form is not method="post"' };
  const action = new URL(formTag.action ?? pagePath, base + pagePath);
  const hidden: Array<[string, string]> = [];
  for (const tag of form.split('</form>')[0]!.match(/<input\b[^>]*>/gi) ?? []) {
    const a = attrs(tag);
    if ((a.type ?? '').toLowerCase() === 'hidden' && a.name) hidden.push([a.name, a.value ?? '']);
  }
  const actionPath = action.pathname + action.search;
  if (!actionPath.includes(hash) && !hidden.some(([, v]) => v.includes(hash))) {
    return { ok: false, reason: 'the card form carries no transaction hash to template' };
  }
  const swap = (s: string, h: string) => s.split(hash).join(h);
  return {
    ok: true,
    value: {
      page: (h) => swap(pagePath, h),
      form: {
        path: (h) => swap(actionPath, h),
        body: (h) => {
          const p = new URLSearchParams();
          for (const [k, v] of hidden) p.append(k, swap(v, h));
          for (const [k, v] of Object.entries(APPROVED_CARD)) p.append(k, v);
          return p.toString();
        },
      },
    },
  };
}

/** The admin status of a transaction (for checks after a run), or undefined. */
export async function adminStatus(base: string, hash: string): Promise<string | undefined> {
  const res = await get(`${base}/__admin/transactions/${hash}`);
  if (res.status !== 200) return undefined;
  return (JSON.parse(res.text) as { status?: string }).status;
}

/** POST /__admin/transactions/{hash}/pay with the approved card: the headless pay route (issue 3). */
export async function probeAdminPay(base: string, hash: string): Promise<Probe<(h: string) => string>> {
  const path = (h: string) => `/__admin/transactions/${h}/pay`;
  const res = await request(base + path(hash), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(APPROVED_CARD),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200)
    return {
      ok: false,
      reason: `POST /__admin/transactions/{hash}/pay answered ${res.statusCode}: ${text.slice(0, 120)}`,
    };
  return { ok: true, value: path };
}
