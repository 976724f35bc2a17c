import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import type { CheckConfigInput } from '../../contracts/types.js';

export type ReporterName = 'pretty' | 'junit' | 'json' | 'html';
type Trigger = NonNullable<CheckConfigInput['trigger']>;
export type HttpAction = NonNullable<Trigger['http']>;

/** The flags of `ktpay-mock run`; each overrides the config file. */
export interface RunFlags {
  /** Suite files given as arguments. */
  files?: string[];
  config?: string;
  sandbox?: string;
  merchant?: string;
  trigger?: string;
  app?: string;
  suites?: string[];
  reporters?: ReporterName[];
  out?: string;
  seed?: number;
  adminToken?: string;
  /** Only scenarios whose name contains one of these. */
  only?: string[];
  /** How many scenarios run at once. */
  parallel?: number;
}

/** The check configuration after file and flags are merged, validated and given defaults. Frozen. */
export interface CheckConfig {
  readonly configFile: string | undefined;
  /** Paths in the config file are relative to this folder. */
  readonly baseDir: string;
  readonly sandbox: 'embedded' | string;
  readonly embedded: NonNullable<CheckConfigInput['embedded']>;
  readonly adminToken: string | undefined;
  readonly merchant: NonNullable<CheckConfigInput['merchant']>;
  readonly app: (NonNullable<CheckConfigInput['app']> & { cwd: string }) | undefined;
  readonly trigger: Trigger | undefined;
  readonly callbackUrl: string | undefined;
  readonly verify: CheckConfigInput['verify'];
  /** `merchant-checks` or absolute suite file paths. */
  readonly suites: readonly string[];
  readonly reporters: readonly ReporterName[];
  readonly out: string;
  readonly seed: number;
  readonly timeouts: {
    readonly trigger_ms: number;
    readonly create_ms: number;
    readonly callback_ms: number;
  };
  readonly only: readonly string[];
  /** How many scenarios run at once (1: one after another). */
  readonly parallel: number;
  /** The 5xx statuses a shop may answer when the gateway fails (`status: handled`). */
  readonly gatewayErrorStatuses: readonly number[];
}

export class CheckConfigError extends Error {
  override name = 'CheckConfigError';
}

export const CONFIG_FILE_NAMES = ['ktpay-mock.check.yaml', 'ktpay-mock.check.yml', 'ktpay-mock.check.json'];
export const BUILTIN_SUITES = ['merchant-checks'] as const;

/** RFC 9110 §15.6.3–15.6.5: what a service answers when the service behind it failed or timed out. */
export const DEFAULT_GATEWAY_ERROR_STATUSES = [502, 503, 504] as const;

/** Parses `--trigger`: `POST http://…`, a bare URL (POST), or anything else as a shell command. */
export function parseTriggerFlag(value: string, fromFile: Trigger | undefined): Trigger {
  const m = /^(?:(GET|POST|PUT|PATCH|DELETE)\s+)?(https?:\/\/\S+)$/i.exec(value.trim());
  const keep = {
    ...(fromFile?.cancel ? { cancel: fromFile.cancel } : {}),
    ...(fromFile?.refund ? { refund: fromFile.refund } : {}),
    ...(fromFile?.status ? { status: fromFile.status } : {}),
    ...(fromFile?.correlate ? { correlate: fromFile.correlate } : {}),
    ...(fromFile?.gateway_error ? { gateway_error: fromFile.gateway_error } : {}),
  };
  const timeout = fromFile?.timeout_ms !== undefined ? { timeout_ms: fromFile.timeout_ms } : {};
  if (m) {
    const body = fromFile?.http?.body ?? { order_id: '{{order_id}}', amount: '{{amount}}' };
    return {
      ...keep,
      ...timeout,
      http: {
        method: (m[1]?.toUpperCase() ?? 'POST') as HttpAction['method'] & string,
        url: m[2]!,
        ...(fromFile?.http?.headers ? { headers: fromFile.http.headers } : {}),
        body,
      },
    };
  }
  return { ...keep, ...timeout, command: value };
}

function readFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CheckConfigError(
      `check config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  try {
    const data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
    return data ?? {};
  } catch (err) {
    throw new CheckConfigError(
      `check config ${path}: not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
}

/**
 * Loads `ktpay-mock.check.yaml` (from `--config`, else from the working folder when present),
 * merges the flags over it, validates the result against `contracts/schemas/check-config.ts`
 * and applies defaults (DESIGN.md house style 9: validate once, at the edge).
 *
 * @example
 * const config = loadCheckConfig({ config: 'ktpay-mock.check.yaml', seed: 42 }, process.cwd());
 */
export function loadCheckConfig(flags: RunFlags, cwd: string): CheckConfig {
  const configFile = flags.config
    ? resolve(cwd, flags.config)
    : CONFIG_FILE_NAMES.map((n) => resolve(cwd, n)).find((p) => existsSync(p));
  const data = configFile ? readFile(configFile) : {};
  const validate = createSchemaRegistry().validator('checkConfig');
  if (!validate(data)) {
    const lines = (validate.errors ?? []).slice(0, 6).map((e) => {
      const where = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)';
      const extra =
        e.keyword === 'additionalProperties'
          ? ` (${(e.params as { additionalProperty: string }).additionalProperty})`
          : '';
      return `  - ${where}: ${e.message}${extra}`;
    });
    throw new CheckConfigError(`check config ${configFile ?? '(none)'} is invalid:\n${lines.join('\n')}`);
  }
  const file = data as CheckConfigInput;
  const baseDir = configFile ? dirname(configFile) : cwd;
  const fromBase = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const fromCwd = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));

  const kinds = (['http', 'command', 'browser'] as const).filter((k) => file.trigger?.[k]);
  if (kinds.length > 1) {
    throw new CheckConfigError(`check config: trigger has ${kinds.join(' and ')}; keep one`);
  }
  const trigger = flags.trigger ? parseTriggerFlag(flags.trigger, file.trigger) : file.trigger;
  if (trigger && !trigger.http && !trigger.command && !trigger.browser) {
    throw new CheckConfigError(
      'check config: trigger needs http (a request to your shop), command (a shell command) or browser (your checkout page)',
    );
  }
  const sandbox = flags.sandbox ?? file.sandbox ?? 'embedded';
  if (sandbox !== 'embedded' && !/^https?:\/\/[^/]+/.test(sandbox)) {
    throw new CheckConfigError(
      `--sandbox must be "embedded" or the URL of a running sandbox, e.g. http://127.0.0.1:8077 (got "${sandbox}")`,
    );
  }
  if (flags.merchant !== undefined && !/^[0-9a-f]{32}$/.test(flags.merchant)) {
    throw new CheckConfigError(`--merchant must be an app_id (32 hex characters); got "${flags.merchant}"`);
  }
  const merchant = flags.merchant ? { app_id: flags.merchant } : (file.merchant ?? {});
  if (merchant.app_id && merchant.create)
    throw new CheckConfigError('check config: merchant has both app_id and create; keep one');

  const command = flags.app ?? file.app?.command;
  const app = command
    ? { ...(file.app ?? {}), command, cwd: file.app?.cwd ? fromBase(file.app.cwd) : baseDir }
    : undefined;

  const named = [...(flags.suites ?? [])];
  const files = (flags.files ?? []).map(fromCwd);
  const suites =
    named.length > 0 || files.length > 0
      ? [...named.map((s) => ((BUILTIN_SUITES as readonly string[]).includes(s) ? s : fromCwd(s))), ...files]
      : (file.suites ?? ['merchant-checks']).map((s) =>
          (BUILTIN_SUITES as readonly string[]).includes(s) ? s : fromBase(s),
        );

  const reporters =
    flags.reporters && flags.reporters.length > 0 ? flags.reporters : (file.reporters ?? ['pretty']);
  const seed = flags.seed ?? file.seed ?? Math.floor(Math.random() * 1_000_000);
  if (!Number.isInteger(seed) || seed < 0)
    throw new CheckConfigError(`--seed must be a whole number ≥ 0 (got ${seed})`);
  const parallel = flags.parallel ?? file.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 32)
    throw new CheckConfigError(`--parallel must be a whole number from 1 to 32 (got ${parallel})`);

  return Object.freeze({
    configFile,
    baseDir,
    sandbox,
    embedded: file.embedded ?? {},
    adminToken: flags.adminToken ?? file.admin_token,
    merchant,
    app,
    trigger,
    callbackUrl: file.callback_url,
    verify: file.verify,
    suites,
    reporters: [...new Set(reporters)],
    out: flags.out ? fromCwd(flags.out) : file.out ? fromBase(file.out) : resolve(cwd, 'ktpay-mock-report'),
    seed,
    timeouts: {
      trigger_ms: file.trigger?.timeout_ms ?? file.timeouts?.trigger_ms ?? 15_000,
      create_ms: file.timeouts?.create_ms ?? 10_000,
      callback_ms: file.timeouts?.callback_ms ?? 10_000,
    },
    only: flags.only ?? [],
    parallel,
    gatewayErrorStatuses: trigger?.gateway_error?.status ?? [...DEFAULT_GATEWAY_ERROR_STATUSES],
  });
}
