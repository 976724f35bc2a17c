import { ID_BASE, httpUrl } from './common.js';

const base64Key = { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$' } as const;

export const serverKeyInput = {
  $id: `${ID_BASE}server-key.json`,
  title: 'Server box keypair held by the sandbox for one merchant',
  type: 'object',
  required: ['public_key', 'secret_key'],
  additionalProperties: false,
  properties: {
    public_key: base64Key,
    secret_key: base64Key,
    expires_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

/** The merchant settings accepted by POST /__admin/merchants and by the config file. */
export const merchantInput = {
  $id: `${ID_BASE}merchant-input.json`,
  title: 'Merchant (admin create / config file)',
  type: 'object',
  required: ['name', 'domains', 'public_key'],
  additionalProperties: false,
  properties: {
    app_id: { type: 'string', pattern: '^[0-9a-f]{32}$' },
    merchant_id: { type: 'integer', minimum: 1 },
    name: { type: 'string', minLength: 1, maxLength: 255 },
    domains: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'string',
        minLength: 1,
        maxLength: 253,
        pattern: '^[A-Za-z0-9.-]+$|^\\[?[0-9a-fA-F:]+\\]?$',
      },
    },
    public_key: { ...base64Key, description: "The merchant's own box public key [doc]: base64 of 32 bytes." },
    server_keys: { type: 'array', minItems: 1, items: { $ref: 'server-key.json' } },
    callback_post_url: httpUrl,
    callback_back_url: httpUrl,
    callback_success_url: httpUrl,
    callback_failed_url: httpUrl,
    envelope: { type: 'string', enum: ['reference', 'widget'] },
    locale: { type: 'string', enum: ['ru', 'en'] },
    strict_domains: { type: 'boolean' },
    acquirer_options_version: { type: 'integer', enum: [1, 2] },
    notify_on: {
      type: 'array',
      items: { type: 'string', enum: ['cancelled', 'refunded'] },
      uniqueItems: true,
    },
    scenario: { type: 'string', minLength: 1 },
  },
} as const;

/** The longest `ttl` an ephemeral merchant may have: 30 days. */
export const MERCHANT_TTL_MAX_S = 30 * 24 * 3600;

/**
 * The body of POST /__admin/merchants: the merchant settings, plus `ttl` [mock] for an ephemeral
 * merchant (a config-file merchant is permanent, so `ttl` is not one of its settings).
 */
export const merchantCreate = {
  ...merchantInput,
  $id: `${ID_BASE}merchant-create.json`,
  title: 'Merchant (admin create)',
  properties: {
    ...merchantInput.properties,
    ttl: {
      type: 'integer',
      minimum: 1,
      maximum: MERCHANT_TTL_MAX_S,
      description:
        'Seconds [mock]: an ephemeral merchant. From then on it is unknown, and within a minute it is purged with its transactions, callback deliveries, journal entries and scenarios. Without it, the merchant stays until deleted.',
    },
  },
} as const;

/** A merchant as the admin API shows it: never any secret key. */
export const merchantView = {
  $id: `${ID_BASE}merchant-view.json`,
  title: 'Merchant as shown by the admin API',
  type: 'object',
  required: [
    'app_id',
    'app_key',
    'merchant_id',
    'name',
    'domains',
    'public_key',
    'server_keys',
    'envelope',
    'locale',
    'strict_domains',
    'acquirer_options_version',
    'notify_on',
    'builtin',
  ],
  additionalProperties: false,
  properties: {
    app_id: { type: 'string' },
    app_key: { type: 'string' },
    merchant_id: { type: 'integer' },
    name: { type: 'string' },
    domains: { type: 'array', items: { type: 'string' } },
    public_key: { type: 'string' },
    server_keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['public_key', 'expires_at', 'expired'],
        additionalProperties: false,
        properties: {
          public_key: { type: 'string' },
          expires_at: { type: ['string', 'null'] },
          expired: { type: 'boolean' },
        },
      },
    },
    callback_post_url: { type: 'string' },
    callback_back_url: { type: 'string' },
    callback_success_url: { type: 'string' },
    callback_failed_url: { type: 'string' },
    envelope: { type: 'string', enum: ['reference', 'widget'] },
    locale: { type: 'string', enum: ['ru', 'en'] },
    strict_domains: { type: 'boolean' },
    acquirer_options_version: { type: 'integer', enum: [1, 2] },
    notify_on: { type: 'array', items: { type: 'string' } },
    scenario: { type: 'string' },
    builtin: { type: 'boolean' },
    expires_at: {
      type: 'string',
      format: 'date-time',
      description: 'An ephemeral merchant (created with `ttl`): when it and its data are purged.',
    },
  },
} as const;
