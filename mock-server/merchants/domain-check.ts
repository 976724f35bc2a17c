import { isIP } from 'node:net';

/** The hostname of an http(s) URL, lower-case and without IPv6 brackets; undefined if unparsable. */
export function urlHost(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

/**
 * True when `host` is one of `domains` or a subdomain of one [mock: subdomains count, ports are
 * ignored].
 *
 * @example
 * hostInDomains('pay.shop.kz', ['shop.kz']); // true
 */
export function hostInDomains(host: string, domains: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return domains.some((d) => {
    const dom = d.toLowerCase().replace(/^\[|\]$/g, '');
    return h === dom || (isIP(dom) === 0 && h.endsWith(`.${dom}`));
  });
}
