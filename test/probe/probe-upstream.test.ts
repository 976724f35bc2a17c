import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import { BATTERY, PROBE_ORDER_PREFIX } from '../../scenarios/probe/battery.js';
import {
  PROBE_JSON_FILE,
  PROBE_JUNIT_FILE,
  probeCommand,
  type ProbeFlags,
} from '../../scenarios/probe/probe-command.js';
import { readRecording, RECORDING_FILE } from '../../scenarios/probe/recording.js';
import type { RunReport } from '../../scenarios/runner/outcome.js';
import { startServer } from '../../mock-server/server.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { testConfig } from '../helpers/sandbox.js';

/**
 * Acceptance of issue 19. The real test environment cannot be reached from here, so the upstream is
 * a second sandbox *process* (the built CLI), configured differently on purpose: the widget
 * dialect (for the whole gateway), acquirer-options v1, English messages (locale en) and the library
 * scenario status-5000107 (the status call answers another code). The probe must report exactly those
 * differences; against an identical merchant, or one mirrored with --envelope/--acquirer-options,
 * nothing. A recording of the different run, replayed with the upstream gone, gives the same verdicts.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/mock-server/cli.js');
const dir = mkdtempSync(join(tmpdir(), 'ktpay-probe-'));
const keys = generateKeypair();
const merchant = (app_id: string, extra: Record<string, unknown> = {}) => ({
  app_id,
  name: `probe upstream ${app_id.slice(0, 4)}`,
  domains: ['localhost'],
  public_key: generateKeypair().publicKey,
  server_keys: [{ public_key: keys.publicKey, secret_key: keys.secretKey }],
  ...extra,
});
const SAME = 'a1'.repeat(16);
const MIRROR = 'b2'.repeat(16);
const DIFFERENT = 'c3'.repeat(16);
interface Upstream {
  child: ChildProcess;
  url: string;
}
/** The sandbox-wide dialect (an unknown app_id answers in it) is the reference one here… */
let upstream: Upstream;
/** …and the widget one here, as on a gateway that speaks widget to everyone. */
let widgetUpstream: Upstream;

function startUpstream(name: string, config: Record<string, unknown>): Promise<Upstream> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ clearing_delay_ms: 'manual', ...config }));
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', KTPAY_MOCK_CONFIG: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`upstream did not start:\n${output}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      output += c.toString('utf8');
      const m = /listening on (http:\/\/\S+)\n/.exec(output);
      if (m) {
        clearTimeout(timer);
        ok({ child, url: m[1]! });
      }
    });
    child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.once('exit', (code) => fail(new Error(`upstream exited (${code}):\n${output}`)));
  });
}

async function probe(flags: ProbeFlags) {
  let stdout = '';
  let stderr = '';
  const { code, report } = await probeCommand(flags, {
    cwd: dir,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    live: false,
    color: false,
  });
  return { code, report, stdout, stderr };
}

const live = (appId: string, extra: Partial<ProbeFlags> = {}, at: Upstream = upstream): ProbeFlags => ({
  upstream: at.url,
  appId,
  appKey: keys.publicKey,
  reporters: ['json'],
  out: mkdtempSync(join(dir, 'out-')),
  ...extra,
});

/** Every drift of a report, as `probe: message` (the message names the kind and the place). */
const verdicts = (r: RunReport) =>
  r.scenarios
    .flatMap((s) =>
      [s.failure, ...(s.more_failures ?? [])].filter(Boolean).map((f) => `${s.name}: ${f!.message}`),
    )
    .sort();

const VALIDATION_FIELD: Record<string, string> = {
  'create-duplicate': 'order.order_id',
  'create-no-order': 'order',
  'create-no-amount': 'order.amount',
  'create-amount-string': 'order.amount',
  'create-amount-zero': 'order.amount',
  'create-amount-decimals': 'order.amount',
  'create-order-id-long': 'order.order_id',
  'create-type-unknown': 'order.type',
  'create-service-missing': 'order.service',
  'create-url-invalid': 'order.callback_success_url',
  'create-email-invalid': 'user.email',
  'create-callback-domain': 'order.callback_success_url',
};

/** The planted differences, as the probe must report them — and nothing else. */
const PLANTED = [
  // The widget dialect, on every probe; an unknown app_id is 4010103 there, not 4220103 (spec §5).
  ...BATTERY.map((p) => `${p.id}: dialect differs`),
  'unknown-app-id: error code differs',
  'unknown-app-id: http status differs',
  // locale en: the validation texts and the [mock] code's text; documented texts stay Russian.
  ...Object.entries(VALIDATION_FIELD).map(([id, field]) => `${id}: message at ${field} differs`),
  'status-unknown: message at error differs',
  // status-5000107: the status call fails.
  'status-own: http status differs',
  'status-own: outcome differs',
  // acquirer-options v1.
  'acquirer-options: contract differs',
].sort();

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  [upstream, widgetUpstream] = await Promise.all([
    startUpstream('upstream', { merchants: [merchant(SAME)] }),
    startUpstream('widget-upstream', {
      envelope: 'widget',
      merchants: [
        merchant(MIRROR, { envelope: 'widget', acquirer_options_version: 1 }),
        merchant(DIFFERENT, {
          envelope: 'widget',
          acquirer_options_version: 1,
          locale: 'en',
          scenario: 'status-5000107',
        }),
      ],
    }),
  ]);
});
afterAll(() => {
  upstream?.child.kill();
  widgetUpstream?.child.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('ktpay-mock probe against a second sandbox process', () => {
  it('exits 0 with no drift against an identical upstream', async () => {
    const r = await probe(live(SAME));
    expect(r.stderr).toContain(`${BATTERY.length} match, 0 drifted`);
    expect(r.code).toBe(0);
    expect(verdicts(r.report!)).toEqual([]);
    expect(r.report!.summary).toMatchObject({ total: BATTERY.length, passed: BATTERY.length });
  });

  it('exits 0 against a widget-dialect, acquirer-options v1 upstream mirrored by --envelope and --acquirer-options', async () => {
    const r = await probe(live(MIRROR, { envelope: 'widget', acquirerOptions: 1 }, widgetUpstream));
    expect(verdicts(r.report!)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('with --sandbox and --admin-token it probes a running sandbox and removes the merchant it made there', async () => {
    const server = await startServer(testConfig({ port: 0, admin_token: 'probe-admin-secret' }), {
      logger: false,
    });
    try {
      const r = await probe(live(SAME, { sandbox: server.url, adminToken: 'probe-admin-secret' }));
      expect(verdicts(r.report!)).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.report!.sandbox).toEqual({ mode: 'external', url: server.url });
      const left = (await (
        await fetch(`${server.url}/__admin/merchants`, {
          headers: { authorization: 'Bearer probe-admin-secret' },
        })
      ).json()) as { merchants: { name: string }[] };
      expect(left.merchants.map((m) => m.name)).not.toContain('ktpay-mock probe');
      // As an existing sandbox merchant (the built-in one is reference, v2, like SAME).
      const builtin = await probe(
        live(SAME, {
          sandbox: server.url,
          adminToken: 'probe-admin-secret',
          sandboxMerchant: DEFAULT_MERCHANT.app_id,
        }),
      );
      expect(verdicts(builtin.report!)).toEqual([]);
      expect(builtin.report!.merchant).toEqual({ app_id: DEFAULT_MERCHANT.app_id, created: false });
      const refused = await probe(live(SAME, { sandbox: server.url, adminToken: 'not-the-token' }));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('the sandbox is not usable');
    } finally {
      await server.close();
    }
  });

  const recordDir = join(dir, 'recording');
  const out = join(dir, 'cli-out');
  let recorded: RunReport;

  it('the built CLI finds exactly the planted differences, exits 1, records, and prints no secret', async () => {
    // Credentials by environment, as docs/probe.md recommends (argv shows in `ps`).
    const child = spawn(
      process.execPath,
      [
        CLI,
        'probe',
        '--upstream',
        widgetUpstream.url,
        '--record',
        recordDir,
        '--reporter',
        'pretty',
        '--reporter',
        'json',
        '--reporter',
        'junit',
        '--out',
        out,
      ],
      {
        cwd: dir,
        env: { ...process.env, CI: '1', KTPAY_PROBE_APP_ID: DIFFERENT, KTPAY_PROBE_APP_KEY: keys.publicKey },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const code = await new Promise((done) => child.once('exit', done));
    expect(code, output).toBe(1);
    expect(output).toMatch(/FAIL 0 match, 21 drifted of 21 probes; 39 drifts/);
    expect(output).toContain('upstream: widget\n    sandbox:  reference');

    recorded = JSON.parse(readFileSync(join(out, PROBE_JSON_FILE), 'utf8')) as RunReport;
    expect(verdicts(recorded)).toEqual(PLANTED);
    const drift = recorded.scenarios.find((s) => s.name === 'acquirer-options')!.more_failures![0]!;
    expect(drift).toMatchObject({
      check: 'contract',
      expected: 'follows contracts acquirer-options-v1.json',
      actual: 'follows contracts acquirer-options-v2.json',
      hint: expect.stringContaining('spec §6'),
    });

    const junit = new XMLParser({ ignoreAttributes: false }).parse(
      readFileSync(join(out, PROBE_JUNIT_FILE), 'utf8'),
    );
    expect(junit.testsuites['@_name']).toBe('ktpay-mock probe');
    expect(junit.testsuites['@_failures']).toBe('21');
    expect(junit.testsuites.testsuite.testcase).toHaveLength(21);

    // The recording follows its contract (readRecording validates it).
    const rec = readRecording(recordDir, createSchemaRegistry());
    expect(rec.answers.map((a) => a.probe)).toEqual(BATTERY.map((p) => p.id));

    // No secret anywhere: not the credentials, and not one hash the upstream handed out.
    const hashes = (
      (await (await fetch(`${widgetUpstream.url}/__admin/transactions?app_id=${DIFFERENT}`)).json()) as {
        transactions: { transaction_hash: string }[];
      }
    ).transactions.map((t) => t.transaction_hash);
    expect(hashes.length).toBeGreaterThan(0);
    const files = [...readdirSync(out).map((f) => join(out, f)), join(recordDir, RECORDING_FILE)];
    for (const [name, text] of [
      ['output', output],
      ...files.map((f) => [f, readFileSync(f, 'utf8')]),
    ] as const) {
      for (const secret of [DIFFERENT, keys.publicKey, keys.secretKey, ...hashes])
        expect(text.includes(secret), `${name} shows ${secret.slice(0, 8)}…`).toBe(false);
    }
  });

  it('pays nothing at the upstream: each run made one marked payment, and cancelled it', async () => {
    // SAME was probed three times (embedded, --sandbox, --sandbox-merchant), the others once.
    for (const [at, appId, runs] of [
      [upstream, SAME, 3],
      [widgetUpstream, MIRROR, 1],
      [widgetUpstream, DIFFERENT, 1],
    ] as const) {
      const res = await fetch(`${at.url}/__admin/transactions?app_id=${appId}`);
      const { transactions } = (await res.json()) as {
        transactions: { order_id: string; status: string; card: unknown }[];
      };
      expect(transactions).toHaveLength(runs);
      for (const t of transactions) {
        expect(t.order_id).toMatch(new RegExp(`^${PROBE_ORDER_PREFIX}-\\d{14}-[0-9a-f]{4}-create-valid$`));
        expect(t).toMatchObject({ status: 'cancelled', card: null });
      }
    }
  });

  it('a replay of the recording, with the upstream gone, gives the same verdicts and exit code', async () => {
    widgetUpstream.child.kill();
    await new Promise((done) => widgetUpstream.child.once('exit', done));
    const r = await probe({ replay: recordDir, reporters: ['json'], out: join(dir, 'replay-out') });
    expect(r.code).toBe(1);
    expect(verdicts(r.report!)).toEqual(verdicts(recorded));
    expect(r.report!.probe).toMatchObject({ mode: 'replay', upstream: recorded.probe!.upstream });
  });
});

describe('ktpay-mock probe safety', () => {
  it('the CLI refuses a production host without --allow-production, before sending anything', async () => {
    const child = spawn(process.execPath, [CLI, 'probe', '--upstream', 'https://ktpay.kz'], {
      env: { ...process.env, KTPAY_PROBE_APP_ID: SAME, KTPAY_PROBE_APP_KEY: keys.publicKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    expect(await new Promise((done) => child.once('exit', done))).toBe(2);
    expect(output).toContain('refusing --upstream: ktpay.kz is a production ktpay host');
    expect(output).toContain('--allow-production');
    expect(output.includes(keys.publicKey) || output.includes(SAME)).toBe(false);
  });

  it('refuses other production and unknown hosts; --allow-host lets an unknown one through', async () => {
    const flags = { appId: SAME, appKey: keys.publicKey };
    for (const host of ['https://fintech.nplus.tech', 'https://pay.ktpay.kz']) {
      const r = await probe({ ...flags, upstream: host, allowHosts: [new URL(host).hostname] });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('production');
    }
    const refused = await probe({ ...flags, upstream: 'http://127.0.0.2:9' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('add --allow-host 127.0.0.2');
    // Allowed, it is tried: nothing listens there, so the probe says the upstream did not answer.
    const tried = await probe({ ...flags, upstream: 'http://127.0.0.2:9', allowHosts: ['127.0.0.2'] });
    expect(tried.code).toBe(2);
    expect(tried.stderr).toContain('the upstream did not answer create-valid');
  });

  it('refuses flags that do not go together, and an app_key that is not a key', async () => {
    const base = { upstream: 'http://localhost:9', appId: SAME };
    expect((await probe({ ...base, appKey: 'not-a-key' })).stderr).toContain(
      '--app-key must be base64 of 32 bytes',
    );
    expect((await probe({ ...base, appKey: keys.publicKey, replay: dir })).stderr).toContain(
      '--replay compares',
    );
    expect((await probe({ replay: dir, record: dir })).stderr).toContain('exclude each other');
    expect((await probe({ replay: dir, sandbox: 'localhost:8077' })).stderr).toContain('not an http(s) URL');
    expect((await probe({ replay: dir, sandboxMerchant: SAME, envelope: 'widget' })).stderr).toContain(
      "with --sandbox-merchant that merchant's settings apply",
    );
    const missing = await probe({ replay: join(dir, 'nowhere') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
  });
});
