import { join } from 'node:path';
import { base, en, Faker, ru } from '@faker-js/faker';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { cryptoReady, generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import { startSandbox } from '../../mock-server/index.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { packageVersion } from '../../mock-server/shared/project-root.js';
import type { CheckConfig } from './check-config.js';
import type { RunContext, ScenarioState } from './context.js';
import { freePort, startMerchantApp, type MerchantApp } from './merchant-app.js';
import {
  CheckFailure,
  StepNotApplicable,
  type RunReport,
  type ScenarioResult,
  type StepResult,
} from './outcome.js';
import {
  createSandboxClient,
  SandboxError,
  type MerchantView,
  type SandboxClient,
} from './sandbox-client.js';
import { explainStep, runStep } from './steps/index.js';
import { loadSuites, type RunnerScenario } from './suite-loader.js';
import { renderString } from './template.js';

/** Live progress for reporters (the pretty reporter draws scenario N/M with a spinner from these). */
export interface RunObserver {
  onRunStart?(info: {
    total: number;
    sandbox: string;
    mode: 'embedded' | 'external';
    merchant: string;
    seed: number;
  }): void;
  onScenarioStart?(index: number, total: number, scenario: RunnerScenario): void;
  onStep?(index: number, total: number, scenario: RunnerScenario, step: number, explain: string): void;
  onScenarioEnd?(index: number, total: number, result: ScenarioResult): void;
}

/** A problem with the run itself (sandbox unreachable, app does not start): no scenario could run. */
export class RunSetupError extends Error {
  override name = 'RunSetupError';
}

/** Deep-merges the runner's defaults for an embedded sandbox under the user's settings. */
function embeddedSettings(config: CheckConfig) {
  const user = config.embedded;
  return {
    // The runner clears each payment itself, so "paid before the callback" can be observed.
    clearing_delay_ms: 'manual' as const,
    ...user,
    // Retries 1000× sooner than the documented 15 s … 1 h.
    callbacks: { time_scale: 0.001, ...(user.callbacks ?? {}) },
  };
}

async function resolveMerchant(
  config: CheckConfig,
  sandbox: SandboxClient,
  vars: Record<string, unknown>,
): Promise<{ merchant: MerchantView; created: boolean }> {
  const scope = { vars, faker: new Faker({ locale: [en, base] }) };
  try {
    if (config.merchant.create) {
      await cryptoReady();
      const c = config.merchant.create;
      const input: Record<string, unknown> = {
        name: c.name ?? 'ktpay-mock run',
        domains: c.domains,
        public_key: generateKeypair().publicKey,
      };
      for (const key of [
        'callback_post_url',
        'callback_back_url',
        'callback_success_url',
        'callback_failed_url',
      ] as const) {
        const v = c[key];
        if (v) input[key] = renderString(v, scope);
      }
      if (c.envelope) input.envelope = c.envelope;
      if (c.locale) input.locale = c.locale;
      if (c.notify_on) input.notify_on = c.notify_on;
      return { merchant: await sandbox.createMerchant(input), created: true };
    }
    return {
      merchant: await sandbox.merchant(config.merchant.app_id ?? DEFAULT_MERCHANT.app_id),
      created: false,
    };
  } catch (err) {
    if (err instanceof SandboxError) {
      throw new RunSetupError(
        config.merchant.create
          ? `could not create the merchant: ${err.message}`
          : `merchant ${config.merchant.app_id ?? `${DEFAULT_MERCHANT.app_id} (the built-in one)`} is not in the sandbox: ${err.message}. Set merchant.app_id (--merchant) or merchant.create`,
      );
    }
    throw err;
  }
}

/** A fresh order id for the scenario, deterministic under the seed; stepped past ids the sandbox already has. */
async function orderIdFor(faker: Faker, sandbox: SandboxClient, appId: string): Promise<string> {
  const stem = `kmc-${faker.string.alphanumeric({ length: 10, casing: 'upper' })}`;
  for (let n = 1; ; n++) {
    const id = n === 1 ? stem : `${stem}-${n}`;
    if ((await sandbox.transactionsByOrder(id, appId)).length === 0) return id;
  }
}

function missingRequirement(s: RunnerScenario, config: CheckConfig): string | undefined {
  for (const r of s.requires) {
    if (r === 'trigger' && !config.trigger)
      return 'needs a trigger (the runner acts as the merchant without one)';
    if (r === 'verify' && !config.verify) return 'needs verify (an order view URL) in the check config';
    if ((r === 'cancel' || r === 'refund' || r === 'status') && !config.trigger?.[r])
      return `needs trigger.${r} in the check config`;
  }
  return undefined;
}

async function runScenario(
  s: RunnerScenario,
  index: number,
  total: number,
  run: RunContext,
  observer: RunObserver,
): Promise<ScenarioResult> {
  const started = Date.now();
  const result: ScenarioResult = {
    name: s.name,
    suite: s.suite,
    file: s.file,
    description: s.description,
    status: 'passed',
    duration_ms: 0,
    order_id: null,
    transaction_hash: null,
    sandbox_scenario: null,
    steps: [],
  };
  const skip = missingRequirement(s, run.config);
  if (skip) {
    result.status = 'skipped';
    result.skip_reason = skip;
    result.steps = s.steps.map((st, i) => ({
      index: i + 1,
      type: st.type,
      explain: explainStep(st, run),
      status: 'not_run',
      duration_ms: 0,
      notes: [],
    }));
    return result;
  }
  const faker = new Faker({ locale: [ru, en, base] });
  faker.seed([run.config.seed, index]);
  const orderId = await orderIdFor(faker, run.sandbox, run.merchant.app_id);
  const state: ScenarioState = {
    scenario: s,
    index,
    faker,
    vars: {
      ...run.vars,
      order_id: orderId,
      amount: faker.number.int({ min: 500, max: 150_000 }),
      scenario: s.name,
    },
    used: new Set(),
    mark: 0,
    sandboxScenario: null,
    notes: [],
  };
  try {
    await run.sandbox.resetCounts();
    if (s.sandboxSteps.length > 0) {
      const name = `run-${s.name}`.slice(0, 80);
      await run.sandbox.defineScenario({
        name,
        description: `inline sandbox steps of runner scenario ${s.name}`,
        steps: s.sandboxSteps,
      });
      await run.sandbox.activate(run.merchant.app_id, name);
      state.sandboxScenario = name;
    }
    let failed = false;
    for (const [i, step] of s.steps.entries()) {
      const explain = explainStep(step, run);
      const r: StepResult = {
        index: i + 1,
        type: step.type,
        explain,
        status: 'not_run',
        duration_ms: 0,
        notes: [],
      };
      result.steps.push(r);
      if (failed) continue;
      observer.onStep?.(index, total, s, i + 1, explain);
      state.notes = r.notes;
      const t0 = Date.now();
      try {
        await runStep(step, state, run);
        r.status = 'passed';
      } catch (err) {
        if (err instanceof StepNotApplicable) {
          r.status = 'skipped';
          r.notes.push(`not applicable: ${err.message}`);
        } else {
          r.status = 'failed';
          failed = true;
          const report =
            err instanceof CheckFailure
              ? { ...err.report, ...(step.hint ? { hint: step.hint } : {}) }
              : {
                  check: 'sandbox' as const,
                  message: `${err instanceof SandboxError ? 'the sandbox API failed' : 'the runner could not do this step'}: ${(err as Error).message}`,
                  expected: 'the step to run',
                  actual: (err as Error).message,
                  evidence: {},
                  hint:
                    err instanceof SandboxError
                      ? 'check --sandbox and --admin-token; the runner needs the admin API of the same ktpay-mock version'
                      : 'check the check config (templates, URLs)',
                };
          result.failure = { ...report, step: i + 1, step_type: step.type };
        }
      }
      r.duration_ms = Date.now() - t0;
    }
    result.status = failed ? 'failed' : 'passed';
  } finally {
    if (state.sandboxScenario) {
      await run.sandbox.deactivate(run.merchant.app_id).catch(() => undefined);
      result.sandbox_scenario = state.sandboxScenario;
    }
  }
  const created = state.create;
  result.order_id = created?.order_id ?? null;
  result.transaction_hash = state.hash ?? null;
  if (created?.order_id && !run.orderIds.has(created.order_id)) run.orderIds.set(created.order_id, s.name);
  result.duration_ms = Date.now() - started;
  return result;
}

/**
 * Runs the configured suites against the merchant: starts (or reaches) the sandbox, resolves the
 * merchant, starts the merchant app when configured, then runs each scenario in turn (one order
 * per scenario, its sandbox scenario active for the merchant only while it runs, use counts reset
 * between scenarios).
 *
 * @example
 * const report = await runChecks(loadCheckConfig({ seed: 1 }, process.cwd()));
 * process.exitCode = report.summary.failed === 0 ? 0 : 1;
 */
export async function runChecks(config: CheckConfig, observer: RunObserver = {}): Promise<RunReport> {
  const startedAt = new Date();
  const schemas = createSchemaRegistry();
  const scenarios = loadSuites(config.suites, schemas).filter(
    (s) => config.only.length === 0 || config.only.some((o) => s.name.includes(o)),
  );
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    let sandboxUrl: string;
    let mode: 'embedded' | 'external';
    let callbackTimeoutMs = 10_000;
    if (config.sandbox === 'embedded') {
      const settings = embeddedSettings(config);
      const embedded = await startSandbox(settings);
      cleanups.push(() => embedded.close());
      sandboxUrl = embedded.url;
      mode = 'embedded';
      callbackTimeoutMs = settings.callbacks.timeout_ms ?? 10_000;
    } else {
      sandboxUrl = config.sandbox.replace(/\/+$/, '');
      mode = 'external';
    }
    const sandbox = createSandboxClient(sandboxUrl, config.adminToken);
    try {
      await sandbox.health();
    } catch (err) {
      throw new RunSetupError(`the sandbox at ${sandboxUrl} is not answering: ${(err as Error).message}`);
    }
    const port = config.app ? (config.app.port ?? (await freePort())) : undefined;
    const vars: Record<string, unknown> = {
      sandbox: { url: sandboxUrl, api_url: `${sandboxUrl}/api/v1/merchant-widget` },
      ...(port !== undefined ? { app: { port, url: `http://127.0.0.1:${port}` } } : {}),
    };
    const { merchant, created } = await resolveMerchant(config, sandbox, vars);
    vars.merchant = { app_id: merchant.app_id, app_key: merchant.app_key };
    if (!config.trigger && !config.callbackUrl && !merchant.callback_post_url) {
      throw new RunSetupError(
        'nothing of your shop would be checked: set trigger (how your shop creates a payment, --trigger) or, to check only your callback endpoint, callback_url in the check config',
      );
    }
    // A scenario the merchant already had would leak into every check: set it aside for the run.
    const previousScenario = merchant.scenario;
    if (previousScenario) await sandbox.deactivate(merchant.app_id);
    cleanups.push(async () => {
      if (previousScenario) await sandbox.activate(merchant.app_id, previousScenario).catch(() => undefined);
    });

    let app: MerchantApp | undefined;
    if (config.app) {
      const scope = { vars, faker: new Faker({ locale: [en, base] }) };
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(config.app.env ?? {})) env[k] = renderString(v, scope);
      try {
        app = await startMerchantApp({
          command: renderString(config.app.command, scope),
          cwd: config.app.cwd,
          env,
          ...(config.app.ready_url ? { readyUrl: renderString(config.app.ready_url, scope) } : {}),
          timeoutMs: config.app.ready_timeout_ms ?? 15_000,
          ...(config.reporters.some((r) => r !== 'pretty')
            ? { logFile: join(config.out, 'merchant-app.log') }
            : {}),
        });
      } catch (err) {
        throw new RunSetupError((err as Error).message);
      }
      cleanups.push(() => app!.stop());
    }

    const run: RunContext = {
      config,
      sandbox,
      merchant,
      schemas,
      vars,
      orderIds: new Map(),
      callbackTimeoutMs,
    };
    observer.onRunStart?.({
      total: scenarios.length,
      sandbox: sandboxUrl,
      mode,
      merchant: merchant.app_id,
      seed: config.seed,
    });
    const results: ScenarioResult[] = [];
    for (const [i, s] of scenarios.entries()) {
      observer.onScenarioStart?.(i + 1, scenarios.length, s);
      const r = await runScenario(s, i + 1, scenarios.length, run, observer);
      if (r.status === 'failed' && app?.exited()) {
        r.failure!.actual += `\n(the merchant app has exited with code ${app.exited()!.code}; its last lines:\n${app.tail()})`;
      }
      results.push(r);
      observer.onScenarioEnd?.(i + 1, scenarios.length, r);
    }
    return {
      tool: 'ktpay-mock run',
      version: packageVersion(),
      seed: config.seed,
      started_at: startedAt.toISOString(),
      duration_ms: Date.now() - startedAt.getTime(),
      sandbox: { mode, url: sandboxUrl },
      merchant: { app_id: merchant.app_id, created },
      trigger: config.trigger?.http ? 'http' : config.trigger?.command ? 'command' : 'none',
      summary: {
        total: results.length,
        passed: results.filter((r) => r.status === 'passed').length,
        failed: results.filter((r) => r.status === 'failed').length,
        skipped: results.filter((r) => r.status === 'skipped').length,
      },
      scenarios: results,
    };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}
