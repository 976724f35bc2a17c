import { spawn } from 'node:child_process';
import { cryptoReady, sealToBase64 } from '../../../mock-server/crypto/sealed-box.js';
import { describeAction, fireBrowser } from '../browser/browser-trigger.js';
import { CREATE_PATH, scopeOf, type RunContext, type ScenarioState, type TriggerRecord } from '../context.js';
import { findCreate, hashFromCreate } from '../correlate.js';
import { unreachable } from '../handled-failure.js';
import { CheckFailure, clip } from '../outcome.js';
import { renderString, renderValue } from '../template.js';
import type { StepImpl } from './step.js';

/** Sends the configured HTTP trigger to the merchant app. Never throws: the record says what happened. */
async function fireHttp(state: ScenarioState, run: RunContext): Promise<TriggerRecord> {
  const http = run.config.trigger!.http!;
  const scope = scopeOf(state);
  const method = http.method ?? 'POST';
  const url = renderString(http.url, scope);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(http.headers ?? {})) headers[k] = renderString(v, scope);
  const hasBody = http.body !== undefined && method !== 'GET';
  if (hasBody && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type'))
    headers['content-type'] = 'application/json';
  const body = hasBody ? JSON.stringify(renderValue(http.body, scope)) : undefined;
  const started = Date.now();
  const rec: TriggerRecord = {
    kind: 'http',
    request: `${method} ${url}${body ? ` ${clip(body, 200)}` : ''}`,
    started_at: started,
    duration_ms: 0,
  };
  try {
    const res = await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(run.config.timeouts.trigger_ms),
      ...(body !== undefined ? { body } : {}),
    });
    rec.status = res.status;
    rec.text = await res.text();
    try {
      rec.body = JSON.parse(rec.text);
    } catch {
      rec.body = undefined;
    }
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const code = e.cause?.code;
    const what = `${e.cause?.message ?? e.message}${code ? ` (${code})` : ''}`;
    if (e.name === 'TimeoutError') rec.timed_out = true;
    // Refused or no such host: nobody answers there. Reset or closed: the shop took the request and crashed.
    else if (unreachable(code) || (rec.status === undefined && !code)) rec.error = what;
    else rec.dropped = what;
  }
  rec.duration_ms = Date.now() - started;
  return rec;
}

/** Runs the configured shell command; `{{…}}` values are shell-quoted and also exported as KTPAY_RUN_*. */
async function fireCommand(state: ScenarioState, run: RunContext): Promise<TriggerRecord> {
  const command = renderString(run.config.trigger!.command!, scopeOf(state), 'shell');
  const started = Date.now();
  const rec: TriggerRecord = { kind: 'command', request: command, started_at: started, duration_ms: 0 };
  const env = {
    ...process.env,
    KTPAY_RUN_ORDER_ID: String(state.vars.order_id),
    KTPAY_RUN_AMOUNT: String(state.vars.amount),
    KTPAY_RUN_SANDBOX_URL: run.sandbox.url,
    KTPAY_RUN_APP_ID: run.merchant.app_id,
    KTPAY_RUN_APP_KEY: run.merchant.app_key,
  };
  await new Promise<void>((resolve) => {
    const child = spawn(command, {
      shell: true,
      cwd: run.config.baseDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-20_000)));
    child.stderr.on('data', (d: Buffer) => (out = (out + d.toString('utf8')).slice(-20_000)));
    const timer = setTimeout(() => {
      rec.timed_out = true;
      child.kill('SIGKILL');
    }, run.config.timeouts.trigger_ms);
    child.once('error', (err) => {
      rec.error = err.message;
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      rec.exit_code = code;
      rec.text = out;
      try {
        rec.body = JSON.parse(out);
      } catch {
        rec.body = undefined;
      }
      resolve();
    });
  });
  rec.duration_ms = Date.now() - started;
  return rec;
}

/** No trigger: the runner is the merchant. It seals a faker order itself, so only the callback side is checked. */
async function createAsMerchant(state: ScenarioState, run: RunContext): Promise<TriggerRecord> {
  await cryptoReady();
  const f = state.faker;
  const callback = run.config.callbackUrl ? renderString(run.config.callbackUrl, scopeOf(state)) : undefined;
  const payload = {
    order: {
      order_id: state.vars.order_id,
      amount: state.vars.amount,
      description: f.commerce.productName(),
      type: 'ecom',
      ...(callback ? { callback_post_url: callback } : {}),
    },
    user: {
      merchant_user_id: f.string.numeric(6),
      email: f.internet.email(),
      phone: `+7707${f.string.numeric(7)}`,
    },
  };
  const url = `${run.sandbox.url}${CREATE_PATH}`;
  const started = Date.now();
  const rec: TriggerRecord = {
    kind: 'runner',
    request: `POST ${url} (sealed by the runner)`,
    started_at: started,
    duration_ms: 0,
  };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'auth-identifier': run.merchant.app_id, 'content-type': 'text/plain' },
      body: sealToBase64(JSON.stringify(payload), run.merchant.app_key),
      signal: AbortSignal.timeout(run.config.timeouts.trigger_ms),
    });
    rec.status = res.status;
    rec.text = await res.text();
    try {
      const hash = hashFromCreate(JSON.parse(rec.text));
      if (hash) rec.body = { transaction_hash: hash };
    } catch {
      // not JSON: the create step's checks say what the sandbox answered
    }
  } catch (err) {
    rec.error = (err as Error).message;
  }
  rec.duration_ms = Date.now() - started;
  return rec;
}

/** The trigger kind a check config uses. */
export function triggerKind(run: Pick<RunContext, 'config'>): TriggerRecord['kind'] {
  const t = run.config.trigger;
  return t?.http ? 'http' : t?.command ? 'command' : t?.browser ? 'browser' : 'runner';
}

export const triggerStep: StepImpl<'trigger'> = {
  explain: (step, run) => {
    const t = run.config.trigger;
    const then = step.await_create === false ? '' : ', then find its create-payment in the sandbox journal';
    if (t?.http) return `make the shop create a payment: ${t.http.method ?? 'POST'} ${t.http.url}${then}`;
    if (t?.command) return `make the shop create a payment: run \`${t.command}\`${then}`;
    if (t?.browser)
      return `a shopper in Chromium opens ${t.browser.url}${t.browser.actions?.length ? `, ${t.browser.actions.map(describeAction).join(', ')}` : ''} and waits for the widget iframe #iframe_widget${then}`;
    return 'create a payment as the merchant (no trigger configured: only the callback side is checked)';
  },
  async run(step, state, run) {
    state.mark = await run.sandbox.journalMark();
    const kind = triggerKind(run);
    state.trigger =
      kind === 'http'
        ? await fireHttp(state, run)
        : kind === 'command'
          ? await fireCommand(state, run)
          : kind === 'browser'
            ? await fireBrowser(state, run)
            : await createAsMerchant(state, run);
    const t = state.trigger;
    state.vars.trigger = { status: t.status ?? null, body: t.body ?? null, duration_ms: t.duration_ms };
    state.notes.unshift(
      `${t.request} → ${t.timed_out ? `no answer within ${run.config.timeouts.trigger_ms} ms` : t.error ? `failed: ${t.error}` : t.dropped ? `connection dropped: ${t.dropped}` : kind === 'command' ? `exit ${t.exit_code}` : `${t.status}`} (${t.duration_ms} ms)`,
    );
    if (t.error && kind !== 'command') {
      throw new CheckFailure({
        check: 'trigger_failed',
        message:
          kind === 'runner'
            ? 'the runner could not reach the sandbox to create a payment'
            : 'the shop could not be reached',
        expected: `an answer to ${t.request}`,
        actual: t.error,
        evidence: { request: t.request },
        hint:
          kind === 'runner'
            ? 'check --sandbox'
            : `start the shop first (or set app.command in the check config) and check trigger.${kind}.url`,
      });
    }
    if (kind === 'command' && t.exit_code !== 0 && !t.timed_out) {
      throw new CheckFailure({
        check: 'trigger_failed',
        message: `the trigger command exited ${t.exit_code}`,
        expected: 'exit 0',
        actual: `exit ${t.exit_code}: ${clip(t.text ?? t.error ?? '', 400)}`,
        evidence: { request: t.request },
        hint: 'run the command by hand; {{…}} values are shell-quoted and KTPAY_RUN_ORDER_ID / KTPAY_RUN_AMOUNT are set',
      });
    }
    if (step.await_create === false) return;
    const found = await findCreate(state, run, run.config.timeouts.create_ms);
    if (!found) {
      throw new CheckFailure({
        check: 'no_create',
        message: 'the trigger did not lead to a create-payment request',
        expected: `POST ${CREATE_PATH} at the sandbox within ${run.config.timeouts.create_ms} ms of the trigger`,
        actual: `${t.request} answered ${t.status ?? t.exit_code ?? t.dropped ?? t.error ?? 'nothing'}${t.text ? `: ${clip(t.text, 200)}` : ''}; the journal shows no create-payment`,
        evidence: { request: t.request, ...(t.text ? { response: clip(t.text, 300) } : {}) },
        hint: `point the shop's ktpay API URL at ${run.sandbox.url}/api/v1/merchant-widget (it must POST /payment there) and make the trigger create a payment`,
      });
    }
    const entry = found.entry;
    state.create = entry;
    if (entry.transaction_hash) state.hash = entry.transaction_hash;
    const orderId = (entry.decrypted as { order?: { order_id?: unknown } } | null)?.order?.order_id;
    if (typeof orderId === 'string' && !run.orderIds.has(orderId))
      run.orderIds.set(orderId, state.scenario.name);
    state.vars.payment = {
      order_id:
        entry.order_id ??
        (entry.decrypted as { order?: { order_id?: unknown } } | null)?.order?.order_id ??
        null,
      transaction_hash: entry.transaction_hash ?? null,
      journal_entry: entry.id,
    };
    state.notes.push(
      `create-payment: journal entry ${entry.id}, order_id ${entry.order_id ?? '(none)'} → ${entry.response.status}${entry.verdict.error_code ? ` ${entry.verdict.error_code}` : ''}${entry.transaction_hash ? `, transaction ${entry.transaction_hash}` : ''}; found by ${found.by}${found.others > 0 ? ` (${found.others} more create-payment${found.others === 1 ? '' : 's'} matched: the newest one that made a payment was taken)` : ''}`,
    );
  },
};
