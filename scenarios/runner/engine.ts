import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { base, en, Faker, ru } from '@faker-js/faker';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { startSandbox } from '../../mock-server/index.js';
import { packageVersion } from '../../mock-server/shared/project-root.js';
import { createBrowserSource } from './browser/browser-session.js';
import type { CheckConfig } from './check-config.js';
import type { RunContext, ScenarioState } from './context.js';
import { createIsolation, INLINE } from './isolation.js';
import { freePort, startMerchantApp, type MerchantApp } from './merchant-app.js';
import {
  CheckFailure,
  StepNotApplicable,
  type FailureReport,
  type RunReport,
  type ScenarioResult,
  type StepResult,
} from './outcome.js';
import { resolveRunMerchant, RunSetupError } from './run-merchant.js';
import { createSandboxClient, SandboxError, type SandboxClient } from './sandbox-client.js';
import { schedule } from './scheduler.js';
import { explainStep, runStep } from './steps/index.js';
import { triggerKind } from './steps/trigger-step.js';
import { loadSuites, type RunnerScenario } from './suite-loader.js';
import { renderString } from './template.js';

export { RunSetupError } from './run-merchant.js';

/** Live progress for reporters (the pretty reporter draws scenario N/M with a spinner from these). */
export interface RunObserver {
  onRunStart?(info: {
    total: number;
    sandbox: string;
    mode: 'embedded' | 'external';
    merchant: string;
    seed: number;
    parallel: number;
  }): void;
  onScenarioStart?(index: number, total: number, scenario: RunnerScenario): void;
  onStep?(index: number, total: number, scenario: RunnerScenario, step: number, explain: string): void;
  onScenarioEnd?(index: number, total: number, result: ScenarioResult): void;
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

/** Whether every order the trigger makes carries the runner's `{{amount}}` (unique per scenario in a run). */
function triggerSendsAmount(config: CheckConfig): boolean {
  const t = config.trigger;
  if (!t) return true; // the runner is the merchant and uses it itself
  const where = [t.http?.url, t.http?.headers, t.http?.body, t.command, t.browser?.actions];
  return /\{\{\s*amount\s*\}\}/.test(JSON.stringify(where));
}

/** Why a scenario cannot run with this config, or undefined. */
function missingRequirement(s: RunnerScenario, config: CheckConfig): string | undefined {
  if (config.trigger?.browser && !s.browser)
    return 'not a browser scenario (its suite file does not set browser: true); it runs with an http or command trigger';
  for (const r of s.requires) {
    if (r === 'trigger' && !config.trigger)
      return 'needs a trigger (the runner acts as the merchant without one)';
    if (r === 'verify' && !config.verify) return 'needs verify (an order view URL) in the check config';
    if ((r === 'cancel' || r === 'refund' || r === 'status') && !config.trigger?.[r])
      return `needs trigger.${r} in the check config`;
    if (r === 'browser' && !config.trigger?.browser)
      return 'needs a browser trigger (trigger.browser: your checkout page with the widget)';
  }
  return undefined;
}

/** One scenario's seeded data, drawn before anything runs so that a run repeats under its seed whatever the order. */
interface Plan {
  scenario: RunnerScenario;
  index: number;
  faker: Faker;
  stem: string;
  amount: number;
}

function planScenarios(scenarios: RunnerScenario[], seed: number): Plan[] {
  const amounts = new Set<number>();
  return scenarios.map((scenario, i) => {
    const faker = new Faker({ locale: [ru, en, base] });
    faker.seed([seed, i + 1]);
    const stem = `kmc-${faker.string.alphanumeric({ length: 10, casing: 'upper' })}`;
    // Unique within the run: the amount may tie an order to its scenario (correlation, scoped scenarios).
    let amount = faker.number.int({ min: 500, max: 150_000 });
    while (amounts.has(amount)) amount += 1;
    amounts.add(amount);
    return { scenario, index: i + 1, faker, stem, amount };
  });
}

/** A fresh order id for the scenario, deterministic under the seed; stepped past ids the sandbox already has. */
async function orderIdFor(stem: string, sandbox: SandboxClient, appId: string): Promise<string> {
  for (let n = 1; ; n++) {
    const id = n === 1 ? stem : `${stem}-${n}`;
    if ((await sandbox.transactionsByOrder(id, appId)).length === 0) return id;
  }
}

/** A thrown error as the failure of the step it ended. */
function failureOf(err: unknown, hint: string | undefined): FailureReport {
  if (err instanceof CheckFailure) return { ...err.report, ...(hint ? { hint } : {}) };
  const message = (err as Error).message ?? String(err);
  return {
    check: 'sandbox',
    message: `${err instanceof SandboxError ? 'the sandbox API failed' : 'the runner could not do this step'}: ${message}`,
    expected: 'the step to run',
    actual: message,
    evidence: {},
    hint:
      err instanceof SandboxError
        ? 'check --sandbox and --admin-token; the runner needs the admin API of the same ktpay-mock version'
        : 'check the check config (templates, URLs)',
  };
}

async function runScenario(
  plan: Plan,
  total: number,
  run: RunContext,
  observer: RunObserver,
): Promise<ScenarioResult> {
  const { scenario: s, index } = plan;
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
  const state: ScenarioState = {
    scenario: s,
    index,
    faker: plan.faker,
    vars: {
      ...run.vars,
      order_id: await orderIdFor(plan.stem, run.sandbox, run.merchant.app_id),
      amount: plan.amount,
      scenario: s.name,
    },
    used: new Set(),
    mark: 0,
    sandboxScenario: null,
    notes: [],
    cleanups: [],
  };
  let failed = false;
  try {
    if (s.sandboxSteps.length > 0) {
      try {
        await run.isolation.activate(state, INLINE);
      } catch (err) {
        failed = true;
        result.failure = { ...failureOf(err, undefined), step: 0, step_type: 'activate' };
      }
    }
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
          result.failure = { ...failureOf(err, step.hint), step: i + 1, step_type: step.type };
        }
      }
      r.duration_ms = Date.now() - t0;
    }
    result.status = failed ? 'failed' : 'passed';
  } finally {
    await run.isolation.end(state).catch(() => undefined);
    for (const c of state.cleanups.reverse()) await c().catch(() => undefined);
    result.sandbox_scenario = state.sandboxScenario;
  }
  const created = state.create;
  result.order_id = created?.order_id ?? null;
  result.transaction_hash = state.hash ?? null;
  result.duration_ms = Date.now() - started;
  return result;
}

/** Starts the shop for the run (`app` in the check config), its settings rendered with the run's variables. */
async function launchApp(
  config: CheckConfig,
  vars: Record<string, unknown>,
): Promise<MerchantApp | undefined> {
  if (!config.app) return undefined;
  const scope = { vars, faker: new Faker({ locale: [en, base] }) };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.app.env ?? {})) env[k] = renderString(v, scope);
  try {
    return await startMerchantApp({
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
}

/**
 * Runs the configured suites against the merchant: starts (or reaches) the sandbox, resolves the
 * merchant (its own for the run against a running sandbox), starts the merchant app when
 * configured, then runs the scenarios, `parallel` at a time: each has its own order, and its
 * sandbox scenario touches only its own payments (see isolation.ts).
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
  const tag = randomBytes(3).toString('hex');
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
    const resolved = await resolveRunMerchant(config, sandbox, vars, { external: mode === 'external', tag });
    cleanups.push(() => resolved.release());
    const { merchant } = resolved;
    vars.merchant = { app_id: merchant.app_id, app_key: merchant.app_key };
    if (!config.trigger && !config.callbackUrl && !merchant.callback_post_url) {
      throw new RunSetupError(
        'nothing of your shop would be checked: set trigger (how your shop creates a payment, --trigger) or, to check only your callback endpoint, callback_url in the check config',
      );
    }
    const isolation = await createIsolation({
      sandbox,
      appId: merchant.app_id,
      tag,
      scenarios,
      parallel: config.parallel,
      amountScoped: triggerSendsAmount(config),
    });
    cleanups.push(() => isolation.close());
    const browser = createBrowserSource();
    cleanups.push(() => browser.close());
    if (config.trigger?.browser) {
      try {
        await browser.get();
      } catch (err) {
        throw new RunSetupError((err as Error).message);
      }
    }

    const app = await launchApp(config, vars);
    if (app) cleanups.push(() => app.stop());

    const run: RunContext = {
      config,
      sandbox,
      merchant,
      schemas,
      vars,
      orderIds: new Map(),
      callbackTimeoutMs,
      claimed: new Set(),
      isolation,
      browser,
    };
    observer.onRunStart?.({
      total: scenarios.length,
      sandbox: sandboxUrl,
      mode,
      merchant: merchant.app_id,
      seed: config.seed,
      parallel: config.parallel,
    });
    const plans = planScenarios(scenarios, config.seed);
    const results: ScenarioResult[] = new Array<ScenarioResult>(plans.length);
    // In parallel, scenarios whose sandbox holds requests back start first, so that their wait
    // overlaps the others instead of ending the run (the report keeps the suite's order).
    const order =
      config.parallel > 1
        ? [
            ...plans.filter((p) => isolation.waits(p.scenario)),
            ...plans.filter((p) => !isolation.waits(p.scenario)),
          ]
        : plans;
    await schedule(
      order,
      config.parallel,
      (p) => isolation.exclusive(p.scenario),
      async (p) => {
        observer.onScenarioStart?.(p.index, plans.length, p.scenario);
        const r = await runScenario(p, plans.length, run, observer);
        if (r.status === 'failed' && app?.exited()) {
          r.failure!.actual += `\n(the merchant app has exited with code ${app.exited()!.code}; its last lines:\n${app.tail()})`;
        }
        results[p.index - 1] = r;
        observer.onScenarioEnd?.(p.index, plans.length, r);
      },
    );
    return {
      tool: 'ktpay-mock run',
      version: packageVersion(),
      seed: config.seed,
      started_at: startedAt.toISOString(),
      duration_ms: Date.now() - startedAt.getTime(),
      sandbox: { mode, url: sandboxUrl },
      merchant: { app_id: merchant.app_id, created: resolved.source === 'created' },
      trigger: ((k) => (k === 'runner' ? 'none' : k))(triggerKind({ config })),
      parallel: config.parallel,
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
