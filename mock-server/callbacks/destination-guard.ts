import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { hostInDomains } from '../merchants/domain-check.js';
import type { Merchant } from '../merchants/merchant.js';

/** Resolves a host name to every address it has (injectable so tests need no DNS server). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

// Fixed address tables, built once and never changed afterwards. BlockList also matches the
// IPv4-mapped IPv6 forms (::ffff:169.254.169.254, ::ffff:a9fe:a9fe) that a URL parser produces.
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
// 0.0.0.0 and :: reach the local machine when connected to, so they count as loopback.
LOOPBACK.addSubnet('0.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::', 'ipv6');

export type AddressClass = 'link-local' | 'loopback' | 'other';

/** Sorts an IP address into the classes the callback rules care about. */
export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip);
  if (family === 0) return 'other';
  if (family === 4) {
    // A dotted quad isIP accepted: its first two octets decide. BlockList.check builds a
    // SocketAddress per call, which was ~4 % of a create-payment in the bench's profile (issue 10).
    const dot = ip.indexOf('.');
    const a = Number(ip.slice(0, dot));
    const b = Number(ip.slice(dot + 1, ip.indexOf('.', dot + 1)));
    if (a === 169 && b === 254) return 'link-local';
    return a === 127 || a === 0 ? 'loopback' : 'other';
  }
  if (LINK_LOCAL.check(ip, 'ipv6')) return 'link-local';
  if (LOOPBACK.check(ip, 'ipv6')) return 'loopback';
  return 'other';
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** What the address rules need to know about one merchant. */
export interface AddressRules {
  /** The merchant's domains include localhost or 127.0.0.1 [mock, issue 4]. */
  loopbackAllowed: boolean;
  /** `callbacks.allow_hosts`: hosts or IPs exempt from the link-local/metadata rule (not from domains or loopback). */
  allowHosts: readonly string[];
}

export function addressRulesFor(
  merchant: Pick<Merchant, 'domains'>,
  allowHosts: readonly string[],
): AddressRules {
  return {
    loopbackAllowed: merchant.domains.some((d) => LOOPBACK_NAMES.has(d.toLowerCase())),
    allowHosts: allowHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')),
  };
}

/**
 * Why `ip` (reached through `host`) may not receive a callback, or undefined when it may.
 *
 * @example
 * addressVerdict('169.254.169.254', '169.254.169.254', { loopbackAllowed: true, allowHosts: [] });
 * // '169.254.169.254 is a link-local/metadata address …'
 */
export function addressVerdict(ip: string, host: string, rules: AddressRules): string | undefined {
  const cls = classifyAddress(ip);
  if (cls === 'other') return undefined;
  const bare = ip.toLowerCase();
  const subject = bare === host.toLowerCase() ? `${bare} is` : `${host} resolves to ${bare}, which is`;
  if (cls === 'link-local') {
    if (rules.allowHosts.includes(bare) || rules.allowHosts.includes(host.toLowerCase())) return undefined;
    return `${subject} a link-local/metadata address (169.254.0.0/16, fe80::/10, fd00:ec2::254); callbacks never go there unless callbacks.allow_hosts (CALLBACK_ALLOW_HOSTS) lists it`;
  }
  if (rules.loopbackAllowed) return undefined;
  return `${subject} a loopback address; callbacks reach loopback only for merchants whose domains include localhost or 127.0.0.1`;
}

/** A destination refused by the callback safety rules; nothing was sent. */
export class BlockedDestinationError extends Error {
  override name = 'BlockedDestinationError';
  readonly code = 'KTPAY_BLOCKED_DESTINATION';
}

export type UrlCheck = { ok: true; host: string } | { ok: false; reason: string };

/**
 * The checks that need no DNS: an http(s) URL, a host inside the merchant's `domains` (always, not
 * only under strict_domains), and, for a literal IP, the address rules. Names are checked again
 * after resolution by {@link guardedLookup}, at connect time, so a name cannot be re-pointed
 * between the check and the connection. Takes the URL as text, or already parsed (the dispatcher
 * parses each callback URL once).
 */
export function checkDestination(
  url: string | URL,
  merchant: Pick<Merchant, 'domains' | 'app_id'>,
  rules: AddressRules,
): UrlCheck {
  let u: URL;
  if (url instanceof URL) u = url;
  else {
    try {
      u = new URL(url);
    } catch {
      return { ok: false, reason: `${JSON.stringify(url)} is not a valid URL` };
    }
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return {
      ok: false,
      reason: `${u.protocol} URLs are not allowed; a callback_post_url must be http or https`,
    };
  }
  const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (!hostInDomains(host, merchant.domains)) {
    return {
      ok: false,
      reason: `host ${host} is not inside merchant ${merchant.app_id}'s domains (${merchant.domains.join(', ')}); callbacks go only to those`,
    };
  }
  if (isIP(host)) {
    const verdict = addressVerdict(host, host, rules);
    if (verdict) return { ok: false, reason: verdict };
  }
  return { ok: true, host };
}

/**
 * A `lookup` for net/tls connect that resolves the name and refuses the connection when any of
 * its addresses breaks the rules. Works with and without `all: true` (Node's autoSelectFamily
 * asks for all addresses).
 */
export function guardedLookup(rules: AddressRules, resolve: Resolver): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    resolve(hostname).then(
      (addresses) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = family ? addresses.filter((a) => a.family === family) : addresses;
        if (usable.length === 0) {
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
            code: 'ENOTFOUND',
            hostname,
          });
          callback(err, '', 0);
          return;
        }
        for (const a of addresses) {
          const verdict = addressVerdict(a.address, hostname, rules);
          if (verdict) {
            callback(new BlockedDestinationError(verdict), '', 0);
            return;
          }
        }
        if (options.all) callback(null, usable);
        else callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: unknown) => callback(err, '', 0),
    );
  }) as LookupFunction;
}
