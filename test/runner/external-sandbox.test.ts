import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { testConfig } from '../helpers/sandbox.js';
import type { RunReport } from '../../scenarios/runner/outcome.js';
import { JSON_FILE } from '../../scenarios/runner/run-command.js';
import { CORRECT_CONFIG, runCli, runInProcess, suiteNames } from './helpers.js';

const BUILTIN = 'e2d3d70d53c67bcd377266f74e98587c';

/** Acceptance: with `--sandbox <url>` the runner checks against an already running sandbox. */
describe('ktpay-mock run --sandbox <url>', () => {
  let server: RunningServer;
  const dirs: string[] = [];
  beforeAll(async () => {
    // As the container would run it for CI: clearing by hand (the runner clears), fast retries,
    // and an admin token.
    server = await startServer(
      testConfig({
        port: 0,
        clearing_delay_ms: 'manual',
        admin_token: 'ci-secret',
        callbacks: { time_scale: 0.001, timeout_ms: 2000 },
      }),
      { logger: false },
    );
  });
  afterAll(async () => {
    await server.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const outDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'ktpay-run-ext-'));
    dirs.push(d);
    return d;
  };

  it('two `ktpay-mock run --sandbox` processes at once (one serial, one --parallel 4) both pass, each with a merchant of its own', async () => {
    // A scenario active for the built-in merchant would break every check if a run used it: each run
    // makes its own merchant, so this one is never touched.
    const put = await fetch(`${server.url}/__admin/merchants/${BUILTIN}/scenario`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ci-secret' },
      body: JSON.stringify({ name: 'create-5000105' }),
    });
    expect(put.status).toBe(200);
    // Who created which payment, seen as it happens (a merchant's payments may go with it when it is deleted).
    const ctx = server.app.sandbox;
    const owner = new Map<string, string>();
    const off = ctx.activity.on((c) => {
      if (c.kind === 'transaction' && c.created) owner.set(c.hash, c.app_id);
    });
    const runs = await Promise.all(
      [
        ['--seed', '5'],
        ['--seed', '6', '--parallel', '4'],
      ].map(async (extra) => {
        const out = outDir();
        const res = await runCli([
          '--config',
          CORRECT_CONFIG,
          '--sandbox',
          server.url,
          '--admin-token',
          'ci-secret',
          '--reporter',
          'json',
          '--out',
          out,
          ...extra,
        ]);
        const report = JSON.parse(readFileSync(join(out, JSON_FILE), 'utf8')) as RunReport;
        return { ...res, report };
      }),
    );
    off();
    for (const { code, stderr, report } of runs) {
      expect(
        code,
        `${stderr}\n${JSON.stringify(
          report.scenarios.filter((s) => s.status === 'failed'),
          null,
          1,
        )}`,
      ).toBe(0);
      expect(report.sandbox).toEqual({ mode: 'external', url: server.url });
      expect(report.scenarios.map((s) => s.name)).toEqual(suiteNames());
      expect(report.merchant.created).toBe(true);
      expect(report.merchant.app_id).not.toBe(BUILTIN);
      // The payments really went through this sandbox, for the run's own merchant …
      const paid = report.scenarios.filter((x) => x.transaction_hash);
      expect(paid.length).toBeGreaterThan(15);
      for (const s of paid) expect(owner.get(s.transaction_hash!), s.name).toBe(report.merchant.app_id);
      // Each create-payment was tied to its scenario by a key, never by when it arrived.
      for (const s of report.scenarios) {
        const found = s.steps
          .find((st) => st.type === 'trigger')
          ?.notes.find((n) => n.includes(' found by '));
        if (found)
          expect(found, s.name).toMatch(/found by (transaction_hash|order_id) \S+ in the shop's answer/);
      }
      // … and the merchant is gone afterwards.
      expect(await ctx.merchants.get(report.merchant.app_id)).toBeUndefined();
    }
    expect(runs[0]!.report.merchant.app_id).not.toBe(runs[1]!.report.merchant.app_id);
    expect(runs[1]!.report.parallel).toBe(4);
    expect((await ctx.merchants.get(BUILTIN))?.scenario).toBe('create-5000105');
  }, 180_000);

  it('--merchant uses a given merchant instead: its scenario is set aside for the run and put back', async () => {
    const res = await runInProcess({
      config: CORRECT_CONFIG,
      sandbox: server.url,
      adminToken: 'ci-secret',
      merchant: BUILTIN,
      reporters: ['json'],
      out: outDir(),
      seed: 8,
      only: ['happy-path', 'create-5000001'],
    });
    expect(res.code, JSON.stringify(res.report?.scenarios.map((s) => s.failure))).toBe(0);
    expect(res.report!.merchant).toEqual({ app_id: BUILTIN, created: false });
    expect((await server.app.sandbox.merchants.get(BUILTIN))?.scenario).toBe('create-5000105');
  }, 60_000);

  it('without the admin token the run cannot start, and says which flag is missing (exit 2)', async () => {
    const res = await runInProcess({
      config: CORRECT_CONFIG,
      sandbox: server.url,
      reporters: ['json'],
      out: outDir(),
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/401 \(set --admin-token to the sandbox ADMIN_TOKEN\)/);
  });

  it('an unreachable sandbox URL is a setup error (exit 2), not a failed scenario', async () => {
    const res = await runInProcess({
      config: CORRECT_CONFIG,
      sandbox: 'http://127.0.0.1:9',
      reporters: ['json'],
      out: outDir(),
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/the sandbox at http:\/\/127\.0\.0\.1:9 is not answering/);
  });
});

/** Without a trigger the runner is the merchant: only the shop's callback endpoint is checked. */
describe('ktpay-mock run without a trigger (callback side only)', () => {
  let receiver: Server;
  let received: { order_id: string; status: { status: string } }[] = [];
  let dir: string;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    dir = mkdtempSync(join(tmpdir(), 'ktpay-run-notrigger-'));
  });
  afterAll(async () => {
    await new Promise((r) => receiver.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the payments itself, checks every callback, and skips what needs a shop', async () => {
    received = [];
    const config = join(dir, 'ktpay-mock.check.yaml');
    writeFileSync(
      config,
      `callback_url: "http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ktpay/callback"\n`,
    );
    const res = await runInProcess({
      config,
      reporters: ['json'],
      out: dir,
      seed: 3,
      only: ['happy-path', 'decline-issuer', 'callback-duplicated', 'create-5000105'],
    });
    expect(
      res.code,
      JSON.stringify(res.report?.scenarios.map((s) => [s.name, s.status, s.failure?.message])),
    ).toBe(0);
    const r = res.report!;
    expect(r.trigger).toBe('none');
    const by = Object.fromEntries(r.scenarios.map((s) => [s.name, s]));
    expect(by['create-5000105']!.status).toBe('skipped');
    expect(by['create-5000105']!.skip_reason).toMatch(/needs a trigger/);
    expect(by['happy-path']!.status).toBe('passed');
    expect(by['happy-path']!.steps.find((s) => s.type === 'expect_request')!.status).toBe('skipped');
    expect(by['happy-path']!.steps.find((s) => s.type === 'verify')!.notes.join()).toMatch(
      /no verify.expect/,
    );
    // The receiver got the callbacks: completed for the happy path, error for the decline, and
    // 2 (sandbox) + 1 (redeliver) + 2 (runner) for the duplicated one.
    const count = (id: string | null) => received.filter((b) => b.order_id === id).length;
    expect(count(by['happy-path']!.order_id)).toBe(1);
    expect(received.find((b) => b.order_id === by['decline-issuer']!.order_id)!.status.status).toBe('error');
    expect(count(by['callback-duplicated']!.order_id)).toBe(5);
  }, 60_000);
});
