import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { cryptoReady, generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import type { Dialect } from '../../mock-server/envelope/ktpay-error.js';
import { PROJECT_ROOT, projectPath } from '../../mock-server/shared/project-root.js';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { expectErrorReply, expectSuccessReply } from '../helpers/envelope-assert.js';
import { API, APP_ID, APP_KEY, nextOrderId, testConfig } from '../helpers/sandbox.js';

/**
 * The client matrix (issue 15 §4): every client runs the same plan in its own process against a
 * sandbox on a real socket, and this module checks the replies it printed. A plan step is one flat
 * JSON object of strings, so even the JDK (which has no JSON parser) can read it line by line.
 */
export interface PlanStep {
  id: string;
  method: 'GET' | 'POST';
  /** Under the sandbox's origin; `{step}` is the transaction_hash of that step's reply. */
  path: string;
  /** Auth-Identifier; empty: not sent. */
  auth: string;
  /** Content-Type; empty: whatever the client sends by itself. */
  type: string;
  /** X-Ktpay-Mock-Scenario; empty: not sent. */
  scenario: string;
  /** The plaintext to seal (with `key`) or the raw body; empty: no body. */
  body: string;
  /** The app_key to seal `body` to; empty: `body` goes as it is. */
  key: string;
}

/** What a client printed for one step. */
export interface StepReply {
  id: string;
  status: number;
  content_type: string;
  content_disposition: string;
  body_b64: string;
}

export interface ClientRun {
  /** The `_client` line: what the client is and the versions it runs on. */
  client: Record<string, unknown>;
  replies: Map<string, StepReply>;
}

/** Small enough that a too-large body fits a socket buffer, big enough for every real body. */
export const MATRIX_BODY_LIMIT = 16_384;
const UNKNOWN_APP_ID = 'f'.repeat(32);
export const CLI = projectPath('dist/mock-server/cli.js');

export interface MatrixSandbox {
  dialect: Dialect;
  server: RunningServer;
  url: string;
}

/**
 * A sandbox on a real socket whose built-in merchant (and default) speaks `dialect`; payments wait
 * for the plan to clear them.
 */
export async function startMatrixSandbox(dialect: Dialect): Promise<MatrixSandbox> {
  const server = await startServer(
    testConfig({ port: 0, envelope: dialect, clearing_delay_ms: 'manual', body_limit: MATRIX_BODY_LIMIT }),
    { logger: false },
  );
  return { dialect, server, url: server.url };
}

/**
 * The plan every client runs: create two payments, read one, cancel it, pay and clear the other
 * (admin API), refund it, download its receipt, then the failures a merchant must handle: an
 * unknown app_id, a foreign key, a validation error, a duplicate order_id, a scenario fault and a
 * body over the size limit.
 */
export async function matrixPlan(label: string): Promise<{ steps: PlanStep[]; orderA: string }> {
  await cryptoReady();
  const orderA = nextOrderId(label);
  const order = (order_id: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      order: {
        amount: 1000,
        order_id,
        description: 'Тестовая оплата ₸',
        type: 'ecom',
        callback_back_url: 'https://shop.example.kz/return?from=ktpay',
        ...extra,
      },
      user: { merchant_user_id: 'user1', phone: '+77001234567', email: 'test@example.com' },
    });
  const step = (s: Partial<PlanStep> & Pick<PlanStep, 'id' | 'path'>): PlanStep => ({
    method: 'POST',
    auth: APP_ID,
    type: '',
    scenario: '',
    body: '',
    key: '',
    ...s,
  });
  const sealed = (body: string, key: string = APP_KEY) => ({ body, key });
  const steps: PlanStep[] = [
    step({ id: 'create_a', path: `${API}/payment`, ...sealed(order(orderA)) }),
    step({ id: 'create_b', path: `${API}/payment`, ...sealed(order(nextOrderId(label))) }),
    step({ id: 'status_a', method: 'GET', path: `${API}/payment/{create_a}` }),
    step({
      id: 'cancel_a',
      path: `${API}/payment/{create_a}/cancel`,
      ...sealed(JSON.stringify({ reason: 'Покупатель передумал' })),
    }),
    step({
      id: 'pay_b',
      path: '/__admin/transactions/{create_b}/pay',
      auth: '',
      type: 'application/json',
      body: JSON.stringify({ pan: '4405639704015096', exp_month: '12', exp_year: '2035', cvc: '123' }),
    }),
    step({ id: 'clear_b', path: '/__admin/transactions/{create_b}/clear', auth: '' }),
    step({
      id: 'refund_b',
      path: `${API}/payment/{create_b}/refund`,
      ...sealed(JSON.stringify({ reason: 'Возврат товара' })),
    }),
    step({ id: 'pdf_b', method: 'GET', path: `${API}/payment/{create_b}/pdf` }),
    step({
      id: 'unknown_app',
      path: `${API}/payment`,
      auth: UNKNOWN_APP_ID,
      ...sealed(order(nextOrderId(label))),
    }),
    step({
      id: 'foreign_key',
      path: `${API}/payment`,
      ...sealed(order(nextOrderId(label)), generateKeypair().publicKey),
    }),
    step({
      id: 'invalid',
      path: `${API}/payment`,
      ...sealed(order(nextOrderId(label), { amount: -5, type: 'barter' })),
    }),
    step({ id: 'duplicate', path: `${API}/payment`, ...sealed(order(orderA)) }),
    step({
      id: 'scenario_fault',
      path: `${API}/payment`,
      scenario: 'create-5000105',
      ...sealed(order(nextOrderId(label))),
    }),
    step({ id: 'too_large', path: `${API}/payment`, body: 'A'.repeat(MATRIX_BODY_LIMIT + 1000) }),
  ];
  return { steps, orderA };
}

/** A scratch folder, removed with `cleanup`. */
export function scratch(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ktpay-clients-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a plan as JSON Lines and returns its path. */
export function writePlan(dir: string, name: string, steps: PlanStep[]): string {
  const file = join(dir, `${name}.jsonl`);
  writeFileSync(file, steps.map((s) => JSON.stringify(s)).join('\n') + '\n');
  return file;
}

/** Runs a program to its end; rejects with its stderr when it exits non-zero. */
export function runProcess(
  command: string,
  args: string[],
  opts: { input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? PROJECT_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(' ')} exited ${code ?? signal}:\n${stderr}\n${stdout}`));
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** The JSON lines a client printed, as a run. */
export function parseRun(stdout: string): ClientRun {
  const lines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StepReply & Record<string, unknown>);
  const [client, ...replies] = lines;
  expect(client?.id, stdout).toBe('_client');
  return { client: client!, replies: new Map(replies.map((r) => [r.id, r])) };
}

/** Runs a client program on a plan: `command args… <base-url> <plan-file>`. */
export async function runClient(
  command: string,
  args: string[],
  sandbox: MatrixSandbox,
  planFile: string,
): Promise<ClientRun> {
  const { stdout } = await runProcess(command, [...args, sandbox.url, planFile], { timeoutMs: 90_000 });
  return parseRun(stdout);
}

/**
 * The plan with every sealed body sealed by `ktpay-mock seal` (the built CLI in dist/), as a curl or
 * JDK user does: one CLI run per app_key, all of that key's bodies at once (one body a line).
 */
export async function presealed(steps: PlanStep[], dir: string): Promise<PlanStep[]> {
  const byKey = new Map<string, PlanStep[]>();
  for (const s of steps) if (s.key) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  const sealed = new Map<PlanStep, string>();
  await Promise.all(
    [...byKey].map(async ([key, group]) => {
      const files = group.map((s) => {
        const file = join(dir, `${randomUUID()}.json`);
        writeFileSync(file, s.body);
        return file;
      });
      const { stdout } = await runProcess(process.execPath, [CLI, 'seal', '-k', key, ...files]);
      const lines = stdout.split('\n');
      group.forEach((s, i) => sealed.set(s, lines[i]!));
    }),
  );
  return steps.map((s) => (sealed.has(s) ? { ...s, body: sealed.get(s)!, key: '' } : s));
}

const registry = createSchemaRegistry();

/**
 * Request headers the client is expected to send by itself on create, as the journal recorded them
 * (lower-case name → value; undefined: not sent). Every entry names `content-type`.
 */
export type SentHeaders = { 'content-type': string | undefined } & Record<string, string | undefined>;

/**
 * Checks every reply of one client's run in the sandbox's dialect, and what the sandbox's journal
 * recorded of it: the headers the client sent, and no contract warning (its base64 is clean).
 */
export async function checkRun(run: ClientRun, sandbox: MatrixSandbox, sent: SentHeaders): Promise<void> {
  const { dialect } = sandbox;
  const reply = (id: string) => {
    const r = run.replies.get(id);
    expect(r, `no reply for step ${id}`).toBeDefined();
    return r!;
  };
  const json = (id: string) => {
    const r = reply(id);
    expect(r.content_type, id).toMatch(/^application\/json/);
    return [r.status, JSON.parse(Buffer.from(r.body_b64, 'base64').toString('utf8'))] as const;
  };
  const ok = (id: string) => expectSuccessReply(...json(id), dialect);
  const fails = (id: string, code: number) => expectErrorReply(...json(id), dialect, code);

  const hashA = ok('create_a').transaction_hash as string;
  const hashB = ok('create_b').transaction_hash as string;
  expect(hashA).toMatch(/^[0-9a-f]{40}$/);
  expect(registry.validator('createPaymentResult')(ok('create_b'))).toBe(true);

  const status = ok('status_a');
  expect(registry.validator('paymentStatus')(status), JSON.stringify(status)).toBe(true);
  expect(status).toMatchObject({ transaction_hash: hashA, status: { status: 'pending' } });
  expect(ok('cancel_a')).toMatchObject({ transaction_hash: hashA, status: { status: 'cancelled' } });

  const [payStatus, paid] = json('pay_b');
  expect(payStatus, JSON.stringify(paid)).toBe(200);
  expect(paid).toMatchObject({ outcome: 'approved' });
  const [clearStatus, cleared] = json('clear_b');
  expect(clearStatus, JSON.stringify(cleared)).toBe(200);
  expect(cleared).toMatchObject({ status: 'completed' });
  expect(ok('refund_b')).toMatchObject({ transaction_hash: hashB, status: { status: 'refunded' } });

  const pdf = reply('pdf_b');
  expect(pdf.status).toBe(200);
  expect(pdf.content_type).toBe('application/pdf');
  expect(pdf.content_disposition).toMatch(/^attachment; filename="payment\d+-\d{14}\.pdf"/);
  const bytes = Buffer.from(pdf.body_b64, 'base64');
  expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  expect(bytes.subarray(-6).toString('latin1')).toContain('%%EOF');

  if (dialect === 'widget') fails('unknown_app', 4010103);
  else expect(fails('unknown_app', 4220103).fields).toHaveProperty('app_id');
  expect(fails('foreign_key', 4220102).hint).toContain('is app_key set to');
  expect(Object.keys(fails('invalid', 4220002).fields).sort()).toEqual(['order.amount', 'order.type']);
  expect(Object.keys(fails('duplicate', 4220002).fields)).toEqual(['order.order_id']);
  fails('scenario_fault', 5000105);
  fails('too_large', 4130120);

  // The sandbox's side: what arrived, and that the base64 needed no tolerance.
  for (const hash of [hashA, hashB]) {
    const res = await sandbox.server.app.inject({ url: `/__admin/journal?transaction_hash=${hash}` });
    const entries = res.json().entries as {
      method: string;
      path: string;
      headers: Record<string, string>;
      verdict: { contract_warnings: string[] };
    }[];
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const e of entries.filter((x) => x.method !== 'CALLBACK'))
      expect(e.verdict.contract_warnings, `${e.method} ${e.path}`).toEqual([]);
    const create = entries.find((e) => e.method === 'POST' && e.path === `${API}/payment`)!;
    for (const [name, value] of Object.entries(sent)) expect(create.headers[name], name).toBe(value);
  }
}

/** One client of the matrix: how to run a plan with it, and what it sends by itself. */
export interface MatrixClient {
  /** What the test is called, e.g. `Guzzle 7, curl handler`. */
  name: string;
  /** Runs the plan file against the sandbox in its own process(es). */
  run(sandbox: MatrixSandbox, planFile: string, dir: string): Promise<ClientRun>;
  sent: SentHeaders;
  /** The client has no libsodium: its bodies are sealed by `ktpay-mock seal` first. */
  presealed?: boolean;
  /** Checks the `_client` line (which library and handler really ran). */
  client?: Record<string, unknown>;
  /** False when a runtime this client alone needs is missing (from `foreignRuntime`): skipped. */
  present?: boolean;
}

/** `clients` marked missing (skipped) when the runtime they all need is not `present`. */
export function whenPresent(present: boolean, clients: MatrixClient[]): MatrixClient[] {
  return clients.map((c) => ({ ...c, present: present && c.present !== false }));
}

/**
 * The matrix as one suite: a reference and a widget sandbox on real sockets, and every client run on
 * both, concurrently (each its own process and its own orders). A client whose runtime is missing
 * (`present: false`, from test/helpers/foreign-runtime.ts, which printed the line naming it) is
 * skipped; the sandboxes start only when some client can run.
 */
export function describeClientMatrix(suite: string, clients: MatrixClient[]): void {
  describe.skipIf(clients.every((c) => c.present === false))(suite, () => {
    const sandboxes = new Map<Dialect, MatrixSandbox>();
    const dir = scratch();
    beforeAll(async () => {
      for (const dialect of ['reference', 'widget'] as const)
        sandboxes.set(dialect, await startMatrixSandbox(dialect));
    });
    afterAll(async () => {
      for (const s of sandboxes.values()) await s.server.close();
      dir.cleanup();
    });

    for (const c of clients) {
      for (const dialect of ['reference', 'widget'] as const) {
        it.skipIf(c.present === false).concurrent(
          `${c.name} (${dialect} dialect)`,
          async () => {
            const sandbox = sandboxes.get(dialect)!;
            const label = `${c.name.replace(/[^A-Za-z0-9]+/g, '-')}-${dialect}`;
            const { steps } = await matrixPlan(label);
            const planFile = writePlan(dir.dir, label, c.presealed ? await presealed(steps, dir.dir) : steps);
            const run = await c.run(sandbox, planFile, dir.dir);
            if (c.client) expect(run.client).toMatchObject(c.client);
            await checkRun(run, sandbox, c.sent);
          },
          120_000,
        );
      }
    }
  });
}
