import type { FastifyInstance } from 'fastify';
import { APP_ID } from '../helpers/sandbox.js';

/** A card form as a shopper fills it (spec §8 field names); fields override. */
export function card(over: Record<string, string> = {}): Record<string, string> {
  return {
    pan: '4405 6397 0401 5096',
    exp_month: '12',
    exp_year: '2030',
    cvc: '123',
    cardholder: 'IVAN IVANOV',
    email: '',
    ...over,
  };
}

export const urlencoded = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** POSTs an HTML form through inject(). */
export function postForm(app: FastifyInstance, url: string, fields: Record<string, string>) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: urlencoded(fields),
  });
}

/** A Location header as an inject()-able path (absolute URLs to the sandbox are made relative). */
export function pathOf(location: string | string[] | number | undefined): string {
  if (typeof location !== 'string') throw new Error(`no Location header (${String(location)})`);
  if (location.startsWith('/')) return location;
  const u = new URL(location);
  return `${u.pathname}${u.search}`;
}

/** Follows 303s inside the sandbox until a page answers; returns it and the chain of locations. */
export async function followRedirects(
  app: FastifyInstance,
  first: Awaited<ReturnType<FastifyInstance['inject']>>,
) {
  const chain: string[] = [];
  let res = first;
  while (res.statusCode === 303 || res.statusCode === 302) {
    const loc = String(res.headers.location);
    chain.push(loc);
    if (/^https?:\/\//.test(loc) && !/^https?:\/\/localhost(:80)?\//.test(loc)) break; // left the sandbox
    res = await app.inject({ method: 'GET', url: pathOf(loc) });
  }
  return { res, chain };
}

/** The status of a transaction through the admin API. */
export async function adminTx(app: FastifyInstance, hash: string) {
  const res = await app.inject({ method: 'GET', url: `/__admin/transactions/${hash}` });
  if (res.statusCode !== 200) throw new Error(`admin read failed: ${res.statusCode} ${res.body}`);
  return res.json() as {
    status: string;
    error: { error_type: string; error_message: string; code?: string } | null;
    card: { masked: string } | null;
    history: { status: string; at: string; event: string; detail?: string }[];
    acquirer: { mode: string; attempts: number; challenge_pending: boolean; notice: string | null } | null;
  };
}

export const AUTH = { 'auth-identifier': APP_ID };

/** The value of `<input name=…>` or an attribute in a page, for plain-HTTP flows. */
export function attrOf(html: string, selectorRegex: RegExp): string | undefined {
  return selectorRegex.exec(html)?.[1]?.replace(/&amp;/g, '&');
}
