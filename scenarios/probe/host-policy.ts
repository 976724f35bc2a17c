/**
 * Which upstreams `ktpay-mock probe` may talk to. By default only test hosts: the public test
 * environment (`*.test.nplus.tech`), this machine, and hosts the user names with `--allow-host`.
 * Production (`ktpay.kz`, and the `nplus.tech` hosts outside `test.`) needs `--allow-production`
 * as well, whatever else is allowed: the battery is harmless, but it creates (and cancels) a real
 * payment record.
 */

export interface HostPolicy {
  /** Extra hosts: `shop-gw.example.kz`, or `*.example.kz` for its subdomains. */
  allowHosts: readonly string[];
  allowProduction: boolean;
}

export type HostVerdict = { ok: true; host: string } | { ok: false; reason: string };

const LOCAL = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
const TEST_SUFFIX = '.test.nplus.tech';

/** `ktpay.kz` and its subdomains; `nplus.tech` and its subdomains outside `test.nplus.tech`. */
export function isProductionHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'ktpay.kz' || h.endsWith('.ktpay.kz')) return true;
  if (h === 'test.nplus.tech' || h.endsWith(TEST_SUFFIX)) return false;
  return h === 'nplus.tech' || h.endsWith('.nplus.tech');
}

const matchesPattern = (host: string, pattern: string) => {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  return p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p;
};

/**
 * Checks an upstream URL against the policy.
 *
 * @example
 * checkUpstream('https://card.test.nplus.tech', { allowHosts: [], allowProduction: false }) // { ok: true, … }
 * checkUpstream('https://ktpay.kz', { allowHosts: [], allowProduction: false }).ok          // false
 */
export function checkUpstream(upstream: string, policy: HostPolicy): HostVerdict {
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    return { ok: false, reason: `--upstream ${JSON.stringify(upstream)} is not a URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, reason: `--upstream must be http(s), not ${url.protocol}` };
  if (url.username || url.password)
    return { ok: false, reason: '--upstream must not carry credentials; use --app-id and --app-key' };
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (isProductionHost(host)) {
    return policy.allowProduction
      ? { ok: true, host }
      : {
          ok: false,
          reason: `${host} is a production ktpay host: the probe creates (and cancels) a real payment record there. Add --allow-production if that is what you mean`,
        };
  }
  if (LOCAL.has(host) || host.endsWith(TEST_SUFFIX) || policy.allowHosts.some((p) => matchesPattern(host, p)))
    return { ok: true, host };
  return {
    ok: false,
    reason: `${host} is not a known test host (*.test.nplus.tech, localhost): add --allow-host ${host} if it is one`,
  };
}
