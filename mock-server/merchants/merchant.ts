import type { Dialect, Locale } from '../envelope/ktpay-error.js';

export interface ServerKey {
  public_key: string;
  secret_key: string;
  /** ISO-8601, or null for a key that never expires [mock]. */
  expires_at: string | null;
}

export type NotifyExtra = 'cancelled' | 'refunded';

/** A merchant as the sandbox holds it, secrets included. Never serialised to a client as is. */
export interface Merchant {
  app_id: string;
  merchant_id: number;
  name: string;
  domains: string[];
  /** The merchant's own box public key [doc]; stored and validated, not used by the protocol. */
  public_key: string;
  /** Newest first. `app_key` is the public half of the first key that has not expired. */
  server_keys: ServerKey[];
  callback_post_url?: string;
  callback_back_url?: string;
  callback_success_url?: string;
  callback_failed_url?: string;
  envelope: Dialect;
  locale: Locale;
  strict_domains: boolean;
  acquirer_options_version: 1 | 2;
  notify_on: NotifyExtra[];
  /** Name of the scenario active for this merchant (issue 6). */
  scenario?: string;
  builtin: boolean;
  created_at: number;
  /**
   * An ephemeral merchant's end (epoch ms; `ttl` at creation) [mock]: from then on it is unknown,
   * and the expiry sweep purges it with all its data. Absent: the merchant stays until deleted.
   */
  expires_at?: number;
}

/** Whether an ephemeral merchant's time is up. */
export function isMerchantExpired(m: Pick<Merchant, 'expires_at'>, now: number): boolean {
  return m.expires_at !== undefined && m.expires_at <= now;
}

export function isKeyExpired(key: ServerKey, now: number): boolean {
  return key.expires_at !== null && Date.parse(key.expires_at) <= now;
}

/** The app_key a merchant seals with: the first unexpired server key, else the newest one. */
export function appKeyOf(m: Merchant, now: number): string {
  const live = m.server_keys.find((k) => !isKeyExpired(k, now)) ?? m.server_keys[0];
  if (!live) throw new Error(`merchant ${m.app_id} holds no server key`);
  return live.public_key;
}

/** The admin API's view: no secret key ever leaves the sandbox this way. */
export function merchantView(m: Merchant, now: number) {
  const view: Record<string, unknown> = {
    app_id: m.app_id,
    app_key: appKeyOf(m, now),
    merchant_id: m.merchant_id,
    name: m.name,
    domains: m.domains,
    public_key: m.public_key,
    server_keys: m.server_keys.map((k) => ({
      public_key: k.public_key,
      expires_at: k.expires_at,
      expired: isKeyExpired(k, now),
    })),
    envelope: m.envelope,
    locale: m.locale,
    strict_domains: m.strict_domains,
    acquirer_options_version: m.acquirer_options_version,
    notify_on: m.notify_on,
    builtin: m.builtin,
  };
  for (const k of [
    'callback_post_url',
    'callback_back_url',
    'callback_success_url',
    'callback_failed_url',
  ] as const) {
    if (m[k]) view[k] = m[k];
  }
  if (m.scenario) view.scenario = m.scenario;
  if (m.expires_at !== undefined) view.expires_at = new Date(m.expires_at).toISOString();
  return view;
}
