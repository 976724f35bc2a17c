import { ID_BASE, httpUrl } from './common.js';

/** The sandbox configuration after env, file and flags are merged (all optional; defaults apply). */
export const sandboxConfig = {
  $id: `${ID_BASE}sandbox-config.json`,
  title: 'ktpay-mock configuration (config file, merged with environment)',
  type: 'object',
  additionalProperties: false,
  properties: {
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    host: { type: 'string', minLength: 1 },
    public_url: { ...httpUrl, pattern: '^https?://[^/]+$', description: 'Origin only, no path.' },
    admin_token: { type: 'string', minLength: 1 },
    log_level: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    crypto: {
      type: 'string',
      enum: ['auto', 'wasm'],
      description:
        'auto: open sealed boxes with sodium-native when the optional dependency is installed, else libsodium-wrappers; wasm: always libsodium-wrappers.',
    },
    crypto_workers: {
      type: 'integer',
      minimum: 0,
      maximum: 16,
      description:
        'Worker threads that open sealed request bodies (create, cancel, refund), beside the main thread that serves HTTP. Default: 1 when the process can use 2 or more CPUs (the cores it may run on, capped by the CPU quota of its cgroup), else 0; 0 opens them on the main thread. Same library, same checks, same answers.',
    },
    store: {
      type: 'string',
      pattern: '^(memory|sqlite:.+|postgres(ql)?://.+)$',
      description:
        'memory (default), sqlite:<path> for a durable file, or postgres://user:pass@host:5432/db for a store shared by several replicas.',
    },
    envelope: {
      type: 'string',
      enum: ['reference', 'widget'],
      description: 'Dialect for requests whose merchant is unknown.',
    },
    body_limit: { type: 'integer', minimum: 1024, maximum: 10485760 },
    max_header_size: {
      type: 'integer',
      minimum: 1024,
      maximum: 1048576,
      description:
        "Largest request head (request line + headers) in bytes; Node's maxHeaderSize. Over it: 431.",
    },
    journal_size: { type: 'integer', minimum: 1, maximum: 1000000 },
    clearing_delay_ms: { oneOf: [{ type: 'integer', minimum: 0 }, { const: 'manual' }] },
    default_merchant: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: {
          type: 'boolean',
          description: 'false: no built-in merchant (the demo shop then says it is off).',
        },
        domains: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description: "Domains added to the built-in merchant's (localhost, 127.0.0.1, shop.example.kz).",
        },
        envelope: {
          type: 'string',
          enum: ['reference', 'widget'],
          description: "The built-in merchant's dialect (default: `envelope`).",
        },
        locale: {
          type: 'string',
          enum: ['ru', 'en'],
          description: "Language of the built-in merchant's field validation messages.",
        },
        callback_post_url: httpUrl,
        callback_back_url: { ...httpUrl, description: "The built-in merchant's default back URL." },
        callback_success_url: { ...httpUrl, description: "The built-in merchant's default success URL." },
        callback_failed_url: { ...httpUrl, description: "The built-in merchant's default failed URL." },
        notify_on: {
          type: 'array',
          items: { type: 'string', enum: ['cancelled', 'refunded'] },
          description: 'Also send callbacks for these statuses.',
        },
      },
    },
    merchants: {
      type: 'array',
      items: { $ref: 'merchant-input.json' },
      description:
        'Extra merchants, each as `POST /__admin/merchants` takes it; `MERCHANTS_JSON` adds to them.',
    },
    callbacks: {
      type: 'object',
      additionalProperties: false,
      properties: {
        timeout_ms: { type: 'integer', minimum: 1, maximum: 600000 },
        schedule_ms: { type: 'array', items: { type: 'integer', minimum: 0 }, maxItems: 50 },
        time_scale: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
        concurrency: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          description: 'Callback attempts in flight at once.',
        },
        allow_hosts: { type: 'array', items: { type: 'string', minLength: 1 } },
        max_pending: {
          type: 'integer',
          minimum: 1,
          description:
            'Open deliveries held; beyond it a new delivery is recorded as failed with a note, and nothing is sent.',
        },
      },
    },
    scenario: { type: 'string', minLength: 1, description: 'A scenario active for every merchant.' },
    tls: {
      type: 'object',
      additionalProperties: false,
      description:
        'An HTTPS listener beside the HTTP one, with a certificate from the local CA (off unless port is set).',
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        host: { type: 'string', minLength: 1, description: 'Interface to bind (default: host).' },
        dir: {
          type: 'string',
          minLength: 1,
          description: 'Folder of the local CA and the server certificate.',
        },
        names: {
          type: 'array',
          maxItems: 100,
          description: 'Names the certificate covers besides the ktpay test hosts, localhost and 127.0.0.1.',
          items: {
            type: 'string',
            minLength: 1,
            maxLength: 253,
            pattern: '^(\\*\\.)?[A-Za-z0-9.:-]+$|^\\[[0-9A-Fa-f:.]+\\]$',
          },
        },
      },
    },
    rate_limit: {
      type: 'object',
      additionalProperties: false,
      description: 'Per-merchant rate limit on the merchant API (off unless max is set).',
      properties: {
        max: { type: 'integer', minimum: 1 },
        window_ms: { type: 'integer', minimum: 1 },
      },
    },
  },
} as const;
