import { createHash, randomBytes } from 'node:crypto';
import type { MerchantCreate, MerchantInput } from '../../contracts/types.js';
import { ConfigError, type SandboxConfig } from '../config/load-config.js';
import { generateKeypair, publicKeyOf } from '../crypto/sealed-box.js';
import type { Clock } from '../shared/clock.js';
import type { NewMerchant, Store } from '../store/store.js';
import { DEFAULT_MERCHANT } from './default-merchant.js';
import { isMerchantExpired, type Merchant } from './merchant.js';

export class MerchantConflictError extends Error {
  override name = 'MerchantConflictError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Builds a Merchant from validated input. Server keys are generated when not given; a given key
 * must be a real keypair (its secret half must produce its public half).
 */
export function merchantFromInput(
  input: MerchantInput,
  merchantId: number | undefined,
  builtin: boolean,
  now: number,
): NewMerchant {
  const keys = input.server_keys?.length
    ? input.server_keys.map((k, i) => {
        if (publicKeyOf(k.secret_key) !== k.public_key) {
          throw new MerchantConflictError(
            `server_keys.${i}`,
            'secret_key does not belong to public_key (they are not one box keypair)',
          );
        }
        return { public_key: k.public_key, secret_key: k.secret_key, expires_at: k.expires_at ?? null };
      })
    : [
        (() => {
          const kp = generateKeypair();
          return { public_key: kp.publicKey, secret_key: kp.secretKey, expires_at: null };
        })(),
      ];
  const id = input.merchant_id ?? merchantId;
  const m: NewMerchant = {
    app_id: input.app_id ?? randomBytes(16).toString('hex'),
    ...(id !== undefined ? { merchant_id: id } : {}),
    name: input.name,
    domains: input.domains.map((d) => d.toLowerCase()),
    public_key: input.public_key,
    server_keys: keys,
    envelope: input.envelope ?? 'reference',
    locale: input.locale ?? 'ru',
    strict_domains: input.strict_domains ?? true,
    acquirer_options_version: input.acquirer_options_version ?? 2,
    notify_on: [...(input.notify_on ?? [])],
    builtin,
    created_at: now,
  };
  for (const k of [
    'callback_post_url',
    'callback_back_url',
    'callback_success_url',
    'callback_failed_url',
  ] as const) {
    const v = input[k];
    if (v) m[k] = v;
  }
  if (input.scenario) m.scenario = input.scenario;
  return m;
}

/** The app_id of a config-file merchant that names none: derived from its name, stable across starts. */
export function configMerchantAppId(name: string): string {
  return createHash('sha256').update(`ktpay-mock config merchant:${name}`).digest('hex').slice(0, 32);
}

/** The built-in merchant, shaped by `default_merchant` in the config. */
export function defaultMerchant(config: SandboxConfig, now: number): Merchant {
  const dm = config.default_merchant;
  const m: Merchant = {
    app_id: DEFAULT_MERCHANT.app_id,
    merchant_id: DEFAULT_MERCHANT.merchant_id,
    name: DEFAULT_MERCHANT.name,
    domains: [...dm.domains],
    public_key: DEFAULT_MERCHANT.merchant_public_key,
    server_keys: [
      {
        public_key: DEFAULT_MERCHANT.app_key,
        secret_key: DEFAULT_MERCHANT.server_secret_key,
        expires_at: null,
      },
    ],
    envelope: dm.envelope,
    locale: dm.locale,
    strict_domains: true,
    acquirer_options_version: 2,
    notify_on: [...dm.notify_on],
    builtin: true,
    created_at: now,
  };
  for (const k of [
    'callback_post_url',
    'callback_back_url',
    'callback_success_url',
    'callback_failed_url',
  ] as const) {
    const v = dm[k];
    if (v) m[k] = v;
  }
  return m;
}

/**
 * Merchants: the built-in one, those from the config file, and those created at runtime.
 *
 * @example
 * const registry = createMerchantRegistry({ store, clock, config });
 * await registry.installBuiltins();
 * const m = await registry.create({ name: 'Shop', domains: ['shop.kz'], public_key: '…' });
 */
export function createMerchantRegistry(deps: { store: Store; clock: Clock; config: SandboxConfig }) {
  const { store, clock, config } = deps;

  return {
    /** Puts the default and config-file merchants in place (idempotent; runs at startup and on reset). */
    async installBuiltins(): Promise<void> {
      if (config.default_merchant.enabled) await store.putMerchant(defaultMerchant(config, clock.now()));
      for (const [i, input] of config.merchants.entries()) {
        // The config is authoritative on every start; a merchant without an app_id gets a stable
        // one derived from its name, so a persistent store does not collect a new copy per start.
        const appId = input.app_id ?? configMerchantAppId(input.name);
        const existing = await store.getMerchant(appId);
        try {
          const m = merchantFromInput({ ...input, app_id: appId }, existing?.merchant_id, true, clock.now());
          if (existing && !input.server_keys?.length) m.server_keys = existing.server_keys;
          if (existing?.scenario && !input.scenario) m.scenario = existing.scenario;
          if (m.merchant_id !== undefined) await store.putMerchant({ ...m, merchant_id: m.merchant_id });
          else if (!(await store.insertMerchant(m))) {
            // Another replica installed it a moment ago: the config's version still wins.
            await store.updateMerchant(appId, (cur) => ({ ...m, merchant_id: cur.merchant_id }));
          }
        } catch (err) {
          if (err instanceof MerchantConflictError) {
            throw new ConfigError(`invalid configuration:\n  - merchants.${i}.${err.field}: ${err.message}`);
          }
          throw err;
        }
      }
    },
    /**
     * A new runtime merchant; MerchantConflictError when its app_id is taken. With `ttl` (seconds)
     * it is ephemeral: unknown from `expires_at` on, and purged by the expiry sweep.
     */
    async create(input: MerchantCreate): Promise<Merchant> {
      const { ttl, ...settings } = input;
      const now = clock.now();
      const draft = merchantFromInput(settings, undefined, false, now);
      if (ttl !== undefined) draft.expires_at = now + ttl * 1000;
      const m = await store.insertMerchant(draft);
      if (!m)
        throw new MerchantConflictError('app_id', `a merchant with app_id ${input.app_id} already exists`);
      return m;
    },
    /** A merchant by app_id; an ephemeral one whose time is up is already gone, swept or not. */
    async get(appId: string): Promise<Merchant | undefined> {
      const m = await store.getMerchant(appId);
      return m && !isMerchantExpired(m, clock.now()) ? m : undefined;
    },
    async list(): Promise<Merchant[]> {
      const now = clock.now();
      return (await store.listMerchants()).filter((m) => !isMerchantExpired(m, now));
    },
    /** Deletes a merchant with all its data (see Store.purgeMerchant); undefined when unknown. */
    purge: (appId: string) => store.purgeMerchant(appId),
    /** Drops one merchant's data and keeps the merchant; undefined when unknown (or expired). */
    async reset(appId: string) {
      if (!(await this.get(appId))) return undefined;
      return store.purgeMerchant(appId, { keep_merchant: true });
    },
    /** Changes one merchant atomically (see Store); undefined when there is none with that app_id. */
    async update(appId: string, change: (m: Merchant) => Merchant): Promise<Merchant | undefined> {
      return (await store.updateMerchant(appId, change))?.after;
    },
  };
}

export type MerchantRegistry = ReturnType<typeof createMerchantRegistry>;
