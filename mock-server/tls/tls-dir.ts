import { homedir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';

/**
 * The host names the public ktpay clients hardcode for the test environment [doc]: the PHP SDK's
 * `URL_TEST` and the JS widget client's API host, the widget host, and the api-reference's host.
 */
export const KTPAY_TEST_HOSTS = [
  'fintech.test.nplus.tech',
  'widget.test.nplus.tech',
  'card.test.nplus.tech',
] as const;

/** Names every server certificate covers: the ktpay test hosts, then this machine's loopback names. */
export const DEFAULT_TLS_NAMES: readonly string[] = [...KTPAY_TEST_HOSTS, 'localhost', '127.0.0.1'];

/** The HTTPS port `serve --tls` uses when no port is given. */
export const DEFAULT_TLS_PORT = 8443;

/** The files of a TLS folder. Keys are private (0600); certificates and the bundle are 0644. */
export interface TlsFiles {
  dir: string;
  /** The local CA's certificate: what clients trust. */
  ca: string;
  caKey: string;
  /** The server certificate followed by the CA certificate (the chain the listener presents). */
  cert: string;
  key: string;
  /** The CA followed by Node's bundled public roots, for settings that replace the trust store. */
  bundle: string;
}

export function tlsFiles(dir: string): TlsFiles {
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server-key.pem'),
    bundle: join(dir, 'ca-bundle.pem'),
  };
}

/**
 * Where the local CA lives when `TLS_DIR` is not set: the XDG data folder,
 * `$XDG_DATA_HOME/ktpay-mock/tls` (default `~/.local/share/ktpay-mock/tls`); on Windows
 * `%LOCALAPPDATA%\ktpay-mock\tls`. The Docker image sets `TLS_DIR=/tls`.
 *
 * @example
 * defaultTlsDir({ XDG_DATA_HOME: '/data' }); // '/data/ktpay-mock/tls'
 */
export function defaultTlsDir(
  env: Record<string, string | undefined>,
  platform: NodeJS.Platform = process.platform,
  home: () => string = homedir,
): string {
  if (platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'ktpay-mock', 'tls');
  const data = env.XDG_DATA_HOME?.startsWith('/') ? env.XDG_DATA_HOME : join(home(), '.local', 'share');
  return join(data, 'ktpay-mock', 'tls');
}

/** The TLS folder named by `TLS_DIR`, else {@link defaultTlsDir}. */
export function tlsDirFrom(env: Record<string, string | undefined>): string {
  return env.TLS_DIR && env.TLS_DIR.trim() !== '' ? env.TLS_DIR : defaultTlsDir(env);
}

const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Checks and normalizes certificate names (lower case, no duplicates, defaults first). A name is
 * a DNS name (a leading `*.` allowed), an IPv4 address or an IPv6 address.
 *
 * @example
 * certificateNames(['Shop.Test']); // [...DEFAULT_TLS_NAMES, 'shop.test']
 */
export function certificateNames(extra: readonly string[] = []): string[] {
  const names: string[] = [];
  for (const raw of [...DEFAULT_TLS_NAMES, ...extra]) {
    const name = raw
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    if (name === '') continue;
    if (!isIP(name) && (name.length > 253 || !DNS_NAME.test(name))) {
      throw new Error(`"${raw}" is not a host name or an IP address`);
    }
    if (!names.includes(name)) names.push(name);
  }
  return names;
}
