import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import type { MerchantInput, SandboxConfigInput } from '../../contracts/types.js';
import type { Dialect, Locale } from '../envelope/ktpay-error.js';
import { MAX_JSON_DEPTH, valueDepth } from '../shared/json-depth.js';
import { setOwn } from '../shared/own-property.js';
import { usableCpus } from '../shared/usable-cpus.js';
import { certificateNames, defaultTlsDir, DEFAULT_TLS_PORT, KTPAY_TEST_HOSTS } from '../tls/tls-dir.js';

/** `yaml` costs ~45 ms of startup to import; only YAML files need it, so it loads with the first one. */
const parseYaml = (text: string): unknown =>
  (createRequire(import.meta.url)('yaml') as typeof Yaml).parse(text);

/** The documented retry schedule after a failed callback delivery (spec §10): 7 attempts in all. */
export const DOCUMENTED_RETRY_SCHEDULE_MS = [15_000, 60_000, 180_000, 600_000, 1_800_000, 3_600_000];

/** Configuration after defaults, file, environment and flags are merged. Frozen. */
export interface SandboxConfig {
  readonly port: number;
  readonly host: string;
  readonly public_url: string | undefined;
  readonly admin_token: string | undefined;
  readonly log_level: NonNullable<SandboxConfigInput['log_level']>;
  readonly crypto: NonNullable<SandboxConfigInput['crypto']>;
  /** Worker threads opening sealed bodies; 0 = the main thread (see crypto/crypto-workers.ts). */
  readonly crypto_workers: number;
  readonly store: string;
  readonly envelope: Dialect;
  readonly body_limit: number;
  /** Node's `maxHeaderSize` for the listening server: a larger request head gets 431 / 4310126. */
  readonly max_header_size: number;
  readonly journal_size: number;
  readonly clearing_delay_ms: number | 'manual';
  readonly default_merchant: {
    readonly enabled: boolean;
    readonly domains: readonly string[];
    readonly envelope: Dialect;
    readonly locale: Locale;
    readonly callback_post_url?: string;
    readonly callback_back_url?: string;
    readonly callback_success_url?: string;
    readonly callback_failed_url?: string;
    readonly notify_on: readonly ('cancelled' | 'refunded')[];
  };
  readonly merchants: readonly MerchantInput[];
  readonly callbacks: {
    readonly timeout_ms: number;
    readonly schedule_ms: readonly number[];
    readonly time_scale: number;
    readonly concurrency: number;
    readonly allow_hosts: readonly string[];
    readonly max_pending: number;
  };
  readonly scenario: string | undefined;
  /** Per-merchant rate limit on the merchant API; undefined = off (the default). */
  readonly rate_limit: { readonly max: number; readonly window_ms: number } | undefined;
  /** The HTTPS listener beside the HTTP one; undefined = off (the default). */
  readonly tls: SandboxTlsConfig | undefined;
  /** Where the file part came from, for the startup banner. */
  readonly config_file: string | undefined;
}

export interface SandboxTlsConfig {
  readonly port: number;
  readonly host: string;
  /** Folder of the local CA and the server certificate (see mock-server/tls/tls-dir.ts). */
  readonly dir: string;
  /** Every name the certificate covers: the ktpay test hosts, localhost, 127.0.0.1, then `tls.names`. */
  readonly names: readonly string[];
}

export const DEFAULT_PORT = 8077;
export const DEFAULT_DOMAINS = ['localhost', '127.0.0.1', 'shop.example.kz'];
/** Node's default `maxHeaderSize` (16 KiB). */
export const DEFAULT_MAX_HEADER_SIZE = 16_384;
/** The rate-limit window when `RATE_LIMIT_MAX` is set without one. */
export const DEFAULT_RATE_LIMIT_WINDOW_MS = 60_000;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** The environment variable that names the config file (also `serve --config`). */
export const CONFIG_FILE_ENV = {
  name: 'KTPAY_MOCK_CONFIG',
  doc: 'Path of a YAML or JSON config file (also `serve --config`).',
} as const;

/**
 * Environment variable → config field, with a parser. `npm run docs` writes docs/configuration.md
 * from this table and the config schema: `doc` is Markdown (links relative to docs/), and
 * `default` is the text shown when the loaded default alone would mislead (a setting that only
 * applies once another is set, or one that depends on the machine).
 */
export const ENV_VARS: Record<
  string,
  { field: string; parse: (v: string) => unknown; doc: string; default?: string }
> = {
  PORT: {
    field: 'port',
    parse: numberish,
    doc: `Port to listen on (default ${DEFAULT_PORT}; 0 picks a free one).`,
  },
  HOST: {
    field: 'host',
    parse: String,
    doc: 'Interface to bind (default 127.0.0.1; the container sets 0.0.0.0).',
  },
  PUBLIC_URL: {
    field: 'public_url',
    parse: String,
    doc: "Origin used in links the sandbox hands out over plain HTTP. Unset: taken from each request's scheme and Host header (`X-Forwarded-Proto`/`-Host` count). Answers on the HTTPS listener always use their request's own.",
  },
  ADMIN_TOKEN: {
    field: 'admin_token',
    parse: String,
    doc: 'When set, every /__admin route needs `Authorization: Bearer <token>`.',
  },
  LOG_LEVEL: {
    field: 'log_level',
    parse: String,
    doc: 'fatal, error, warn, info (default), debug, trace or silent.',
  },
  CRYPTO: {
    field: 'crypto',
    parse: String,
    doc: '`auto` (default): open sealed boxes with the optional native `sodium-native` when it is installed, else `libsodium-wrappers` (WASM); `wasm`: always libsodium-wrappers. Both are libsodium; see [Benchmarks](benchmarks.md).',
  },
  CRYPTO_WORKERS: {
    field: 'crypto_workers',
    parse: numberish,
    doc: 'Worker threads that open sealed request bodies beside the main thread (0-16). Default: 1 when the process can use 2 or more CPUs, else 0 (the main thread opens them); the CPUs counted are the cores it may run on, capped by the CPU quota of its cgroup (a container started with `--cpus 1` counts 1). See [Benchmarks](benchmarks.md).',
  },
  STORE: {
    field: 'store',
    parse: String,
    doc: '`memory` (default), `sqlite:<path>` for a durable SQLite file, e.g. `sqlite:./data/ktpay.db` (relative to the working directory; missing directories are created), or `postgres://user:pass@host:5432/db` for a database shared by several replicas. See [Persistence](persistence.md) and [The cluster](cluster.md).',
  },
  ENVELOPE: {
    field: 'envelope',
    parse: String,
    doc: 'Dialect for replies when the merchant is unknown: `reference` (default) or `widget`.',
  },
  BODY_LIMIT: {
    field: 'body_limit',
    parse: numberish,
    doc: 'Largest accepted request body in bytes (default 65536).',
  },
  JOURNAL_SIZE: { field: 'journal_size', parse: numberish, doc: 'Request journal ring size (default 1000).' },
  MAX_HEADER_SIZE: {
    field: 'max_header_size',
    parse: numberish,
    doc: `Largest request line + headers in bytes (default ${DEFAULT_MAX_HEADER_SIZE}, Node's own \`maxHeaderSize\`); larger answers 431 / \`4310126\`. See [Limits](reliability.md#limits).`,
  },
  RATE_LIMIT_MAX: {
    field: 'rate_limit.max',
    parse: numberish,
    doc: 'Requests per merchant per window on the merchant API (`/api/v1/merchant-widget/*`); unset = no rate limit (default). Over it: 429 / `4290118` with `Retry-After`. See [Limits](reliability.md#limits).',
  },
  RATE_LIMIT_WINDOW_MS: {
    field: 'rate_limit.window_ms',
    parse: numberish,
    doc: `The rate-limit window in ms (default ${DEFAULT_RATE_LIMIT_WINDOW_MS}); used only with \`RATE_LIMIT_MAX\`.`,
    default: `\`${DEFAULT_RATE_LIMIT_WINDOW_MS}\``,
  },
  CLEARING_DELAY_MS: {
    field: 'clearing_delay_ms',
    parse: (v) => (v === 'manual' ? v : numberish(v)),
    doc: 'Delay before `success` clears to `completed` (default 3000), or `manual`.',
  },
  DEFAULT_MERCHANT_DOMAINS: {
    field: 'default_merchant.domains',
    parse: (v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    doc: `Comma-separated domains *added* to the built-in merchant's (${DEFAULT_DOMAINS.join(', ')}).`,
    default: 'none added',
  },
  DEFAULT_MERCHANT_CALLBACK_URL: {
    field: 'default_merchant.callback_post_url',
    parse: String,
    doc: "The built-in merchant's default callback_post_url.",
  },
  MERCHANTS_JSON: {
    field: 'merchants',
    parse: jsonish,
    doc: 'A JSON array of extra merchants (same shape as the config file).',
  },
  CALLBACK_TIMEOUT_MS: {
    field: 'callbacks.timeout_ms',
    parse: numberish,
    doc: 'Callback delivery timeout (default 10000).',
  },
  CALLBACK_TIME_SCALE: {
    field: 'callbacks.time_scale',
    parse: numberish,
    doc: 'Multiplies the retry schedule, e.g. 0.001 in CI (default 1). See [Callbacks](callbacks.md).',
  },
  CALLBACK_SCHEDULE_MS: {
    field: 'callbacks.schedule_ms',
    parse: (v) => v.split(',').map(numberish),
    doc: 'Comma-separated retry delays in ms (default 15000,60000,180000,600000,1800000,3600000).',
  },
  CALLBACK_ALLOW_HOSTS: {
    field: 'callbacks.allow_hosts',
    parse: (v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    doc: 'Hosts or IPs callbacks may reach even though they are link-local/metadata addresses.',
  },
  SCENARIO: { field: 'scenario', parse: String, doc: 'A scenario active for every merchant.' },
  TLS_PORT: {
    field: 'tls.port',
    parse: numberish,
    doc: `Port of an HTTPS listener beside the HTTP one (\`serve --tls [port]\`, ${DEFAULT_TLS_PORT} when no port is given); unset = no HTTPS (default). Links in its answers keep its host and scheme. See [Drop-in for unmodified clients](drop-in.md).`,
  },
  TLS_HOST: {
    field: 'tls.host',
    parse: String,
    doc: 'Interface the HTTPS listener binds (default: `HOST`).',
    default: '`HOST`',
  },
  TLS_DIR: {
    field: 'tls.dir',
    parse: String,
    doc: 'Folder of the local CA and the server certificate (default `$XDG_DATA_HOME/ktpay-mock/tls`, i.e. `~/.local/share/ktpay-mock/tls`; the image sets `/tls`). Filled by `ktpay-mock tls init`, or at the first HTTPS start.',
    default: '`~/.local/share/ktpay-mock/tls`',
  },
  TLS_NAMES: {
    field: 'tls.names',
    parse: (v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    doc: 'Comma-separated names the server certificate covers besides the ktpay test hosts, `localhost` and `127.0.0.1`.',
  },
};

function numberish(v: string): unknown {
  return v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
}
function jsonish(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown) {
  const parts = path.split('.');
  let node = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof node[p] !== 'object' || node[p] === null) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

/**
 * The reason when a parser ran out of stack on deeply nested text (the `yaml` package recurses):
 * the nesting limit's message instead of "Maximum call stack size exceeded".
 */
export function nestingProblem(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : '';
  return err instanceof RangeError || /Maximum call stack size exceeded/.test(message)
    ? `nested too deeply to read; at most ${MAX_JSON_DEPTH} levels of mappings and lists are accepted`
    : undefined;
}

/** Refuses a parsed document nested deeper than {@link MAX_JSON_DEPTH} levels (issue 22). */
export function checkNesting(value: unknown, what: string): void {
  const depth = valueDepth(value, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) {
    throw new ConfigError(
      `${what}: nested more than ${MAX_JSON_DEPTH} levels deep; at most ${MAX_JSON_DEPTH} levels of mappings and lists are accepted`,
    );
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `config file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${path}: ${nestingProblem(err) ?? `not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message}`}`,
    );
  }
  checkNesting(parsed, `config file ${path}`);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path}: the top level must be a mapping of settings`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Merges defaults < config file < environment < flags, validates the result against
 * `contracts/schemas/config-file.ts`, and freezes it. A bad value throws a {@link ConfigError}
 * that names the field and where it came from.
 *
 * @example
 * const config = loadConfig({ env: process.env, flags: { port: 0 } });
 */
export function loadConfig(
  opts: {
    env?: Env;
    file?: string;
    flags?: SandboxConfigInput;
    /** `serve --tls` without a port: HTTPS on, on `tls.port` if one is set, else on 8443. */
    enableTls?: boolean;
  } = {},
): SandboxConfig {
  const env = opts.env ?? {};
  const sources = new Map<string, string>();
  const filePath = opts.file ?? env[CONFIG_FILE_ENV.name];
  const merged: Record<string, unknown> = {};
  if (filePath) {
    const fromFile = readConfigFile(resolve(filePath));
    for (const [k, v] of Object.entries(fromFile)) {
      // setOwn: a `__proto__` key stays a key (refused below as an unknown setting) instead of
      // becoming the prototype of `merged`, whose settings the schema and the defaults would then read.
      setOwn(merged, k, v);
      sources.set(k, `config file ${filePath}`);
    }
  }
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value = spec.parse(raw);
    if (name === 'MERCHANTS_JSON' && Array.isArray(merged.merchants) && Array.isArray(value)) {
      value = [...(merged.merchants as unknown[]), ...value];
    }
    if (name === 'DEFAULT_MERCHANT_DOMAINS') {
      const existing = (merged.default_merchant as { domains?: unknown } | undefined)?.domains;
      if (Array.isArray(existing) && Array.isArray(value)) value = [...existing, ...value];
    }
    setPath(merged, spec.field, value);
    sources.set(spec.field.split('.')[0]!, `environment variable ${name}`);
  }
  for (const [k, v] of Object.entries(opts.flags ?? {})) {
    if (v === undefined) continue;
    // A flag that sets part of a group (`--tls 443` is tls.port) keeps the group's other settings.
    setOwn(merged, k, isPlainObject(v) && isPlainObject(merged[k]) ? { ...merged[k], ...v } : v);
    sources.set(k, `command-line flag --${k.replace(/_/g, '-')}`);
  }

  if (opts.enableTls) {
    const current = isPlainObject(merged.tls) ? merged.tls : {};
    if (current.port === undefined) {
      merged.tls = { ...current, port: DEFAULT_TLS_PORT };
      sources.set('tls', 'command-line flag --tls');
    }
  }

  // The environment can carry nesting too (MERCHANTS_JSON); the file was checked as it was read.
  checkNesting(merged, 'configuration');
  const { validator } = createSchemaRegistry();
  const validate = validator('sandboxConfig');
  if (!validate(merged)) {
    const lines = (validate.errors ?? []).slice(0, 5).map((e) => {
      const field =
        (e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '') +
        (e.keyword === 'additionalProperties'
          ? `${e.instancePath ? '.' : ''}${(e.params as { additionalProperty: string }).additionalProperty}`
          : '');
      const top = field.split('.')[0] ?? '';
      const from = sources.get(top) ?? 'configuration';
      const what =
        e.keyword === 'additionalProperties' ? 'is not a known setting' : (e.message ?? 'is invalid');
      return `  - ${field || '(root)'} ${what} (from ${from})`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const input = merged as SandboxConfigInput;
  const host = input.host ?? '127.0.0.1';
  const tls = tlsConfig(input, host, env, sources.get('tls'));
  const dm = input.default_merchant ?? {};
  // With HTTPS on, the sandbox answers as the ktpay hosts: its own pages there (the demo shop, a
  // page on one host calling the API on the other) count as the built-in merchant's.
  const domains = [...new Set([...DEFAULT_DOMAINS, ...(tls ? KTPAY_TEST_HOSTS : []), ...(dm.domains ?? [])])];
  const config: SandboxConfig = {
    port: input.port ?? DEFAULT_PORT,
    host,
    public_url: input.public_url,
    admin_token: input.admin_token,
    log_level: input.log_level ?? 'info',
    crypto: input.crypto ?? 'auto',
    crypto_workers: input.crypto_workers ?? defaultCryptoWorkers(),
    store: input.store ?? 'memory',
    envelope: input.envelope ?? 'reference',
    body_limit: input.body_limit ?? 65_536,
    max_header_size: input.max_header_size ?? DEFAULT_MAX_HEADER_SIZE,
    journal_size: input.journal_size ?? 1000,
    clearing_delay_ms: input.clearing_delay_ms ?? 3000,
    default_merchant: {
      enabled: dm.enabled ?? true,
      domains,
      envelope: dm.envelope ?? input.envelope ?? 'reference',
      locale: dm.locale ?? 'ru',
      ...(dm.callback_post_url ? { callback_post_url: dm.callback_post_url } : {}),
      ...(dm.callback_back_url ? { callback_back_url: dm.callback_back_url } : {}),
      ...(dm.callback_success_url ? { callback_success_url: dm.callback_success_url } : {}),
      ...(dm.callback_failed_url ? { callback_failed_url: dm.callback_failed_url } : {}),
      notify_on: dm.notify_on ?? [],
    },
    merchants: input.merchants ?? [],
    callbacks: {
      timeout_ms: input.callbacks?.timeout_ms ?? 10_000,
      schedule_ms: input.callbacks?.schedule_ms ?? DOCUMENTED_RETRY_SCHEDULE_MS,
      time_scale: input.callbacks?.time_scale ?? 1,
      concurrency: input.callbacks?.concurrency ?? 16,
      allow_hosts: input.callbacks?.allow_hosts ?? [],
      max_pending: input.callbacks?.max_pending ?? 100_000,
    },
    scenario: input.scenario,
    rate_limit: input.rate_limit?.max
      ? { max: input.rate_limit.max, window_ms: input.rate_limit.window_ms ?? DEFAULT_RATE_LIMIT_WINDOW_MS }
      : undefined,
    tls,
    config_file: filePath,
  };
  return deepFreeze(config);
}

/**
 * One crypto worker when there is a core for it beside the main thread: measured with the bench's
 * create-payment case on 2 cores (BENCHMARKS.md); on one core a worker only adds hand-offs. The
 * cores counted are those a container's CPU quota leaves (`--cpus 1` is one core on any host).
 */
export function defaultCryptoWorkers(cpus: number = usableCpus()): number {
  return cpus >= 2 ? 1 : 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The HTTPS settings, when `tls.port` is set; the names are checked here, at the edge. */
function tlsConfig(
  input: SandboxConfigInput,
  host: string,
  env: Env,
  source: string | undefined,
): SandboxTlsConfig | undefined {
  if (input.tls?.port === undefined) return undefined;
  let names: string[];
  try {
    names = certificateNames(input.tls.names ?? []);
  } catch (err) {
    throw new ConfigError(
      `invalid configuration:\n  - tls.names: ${(err as Error).message} (from ${source ?? 'configuration'})`,
    );
  }
  return {
    port: input.tls.port,
    host: input.tls.host ?? host,
    dir: input.tls.dir ?? defaultTlsDir(env),
    names,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
