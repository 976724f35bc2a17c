import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { testConfig } from '../helpers/sandbox.js';
import { CORRECT_CONFIG, runInProcess, suiteNames } from './helpers.js';

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

  it('runs the whole built-in suite against that sandbox and exits 0', async () => {
    // A scenario already active for the merchant would break every check: the run sets it aside.
    const put = await fetch(`${server.url}/__admin/merchants/e2d3d70d53c67bcd377266f74e98587c/scenario`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ci-secret' },
      body: JSON.stringify({ name: 'create-5000105' }),
    });
    expect(put.status).toBe(200);
    const res = await runInProcess({
      config: CORRECT_CONFIG,
      sandbox: server.url,
      adminToken: 'ci-secret',
      reporters: ['json'],
      out: outDir(),
      seed: 5,
    });
    expect(
      res.code,
      JSON.stringify(
        res.report?.scenarios.filter((s) => s.status !== 'passed'),
        null,
        1,
      ),
    ).toBe(0);
    expect(res.report!.sandbox).toEqual({ mode: 'external', url: server.url });
    expect(res.report!.scenarios.map((s) => s.name)).toEqual(suiteNames());
    // The payments really went through this sandbox: its store holds every scenario's transaction.
    const ctx = server.app.sandbox;
    for (const s of res.report!.scenarios.filter((x) => x.transaction_hash)) {
      expect((await ctx.store.getTransaction(s.transaction_hash!))?.order_id).toBe(s.order_id);
    }
    // … and puts it back afterwards.
    expect((await ctx.merchants.get(res.report!.merchant.app_id))?.scenario).toBe('create-5000105');
  }, 120_000);

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
