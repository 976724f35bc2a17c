import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { RunReport } from '../../scenarios/runner/outcome.js';
import { JSON_FILE } from '../../scenarios/runner/run-command.js';
import { foreignRuntime } from '../helpers/foreign-runtime.js';
import {
  findPostgresBin,
  POSTGRES_RUNTIME,
  startPostgres,
  type PostgresServer,
} from '../helpers/postgres-server.js';
import { API, orderPayload, seal } from '../helpers/sandbox.js';
import { startSandboxProcess, type SandboxProcess } from '../helpers/sandbox-process.js';
import { CORRECT_CONFIG, runCli, suiteNames } from '../runner/helpers.js';
import { startRoundRobin, type RoundRobin } from './round-robin.js';

/**
 * Issue 17 §5 acceptance: two CI pipelines run `ktpay-mock run --sandbox <url>` at the same moment
 * against one shared sandbox — here two `serve` replicas on one PostgreSQL database behind a
 * round-robin front, every request going to the other replica than the last. Both pass, and
 * neither sees the other's payments, scenarios or callbacks: a watcher reads the admin API per
 * merchant all along (a run's merchant is purged when the run ends). Then the per-merchant admin
 * routes (delete, reset, ttl) on the cluster, with the data on one replica and the call on another.
 */

const pgBin = findPostgresBin();
const withPostgres = foreignRuntime(POSTGRES_RUNTIME, 'Concurrent runs on a cluster', pgBin !== undefined);
const PUBLIC_KEY = '0X/Tkqu9KnZDgKEJb7LUgoIFOrZgvk2Z4XPYoLvVC3Y=';

interface MerchantSeen {
  name: string;
  expires_at?: string;
  /** Transactions the admin API listed for it (`?app_id=`). */
  transactions: Set<string>;
  /** Its callback deliveries: transaction and destination. */
  deliveries: Map<string, string>;
  /** User scenarios that belonged to it, and the scenarios it had active. */
  scenarios: Set<string>;
  active: Set<string>;
}

describe.skipIf(!withPostgres)('two `ktpay-mock run --sandbox` at once on a cluster of two replicas', () => {
  const dirs: string[] = [];
  let pg: PostgresServer;
  let replicas: SandboxProcess[] = [];
  let front: RoundRobin;

  /**
   * The correct shop's check config, with its gateway timeout raised from 1.5 s to 5 s: on a loaded
   * 2-core machine a status read through the front and the shared database can take longer than 1.5 s,
   * and the shop then (rightly) answers a callback 503. create-timeout still holds: the sandbox keeps
   * that create for 20 s, and the shop must answer within 10.
   */
  let checkConfig: string;

  beforeAll(async () => {
    const config = parse(readFileSync(CORRECT_CONFIG, 'utf8')) as {
      app: { env: Record<string, string>; cwd?: string };
    };
    config.app.env.KTPAY_TIMEOUT_MS = '5000';
    config.app.cwd = dirname(CORRECT_CONFIG);
    const dir = mkdtempSync(join(tmpdir(), 'ktpay-concurrent-config-'));
    dirs.push(dir);
    checkConfig = join(dir, 'ktpay-mock.check.yaml');
    writeFileSync(checkConfig, stringify(config));
    pg = await startPostgres({ bin: pgBin! });
    const url = await pg.createDatabase('concurrent_runs');
    // As the container runs for CI: the runner clears by hand, callback retries are fast.
    replicas = await Promise.all(
      [0, 1].map(() =>
        startSandboxProcess({
          STORE: url,
          CLEARING_DELAY_MS: 'manual',
          CALLBACK_TIME_SCALE: '0.001',
          CALLBACK_TIMEOUT_MS: '2000',
        }),
      ),
    );
    front = await startRoundRobin(replicas.map((r) => r.url));
  }, 120_000);

  afterAll(async () => {
    await front?.close();
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
    await pg?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }, 60_000);

  const admin = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${front.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as T };
  };

  /** Reads, per merchant a run made, what the admin API shows of it; until `stop` is set. */
  function watch(stop: { done: boolean }) {
    const seen = new Map<string, MerchantSeen>();
    const loop = (async () => {
      while (!stop.done) {
        const { json } = await admin<{ merchants: { app_id: string; name: string; expires_at?: string }[] }>(
          'GET',
          '/__admin/merchants',
        );
        const catalog = (
          await admin<{
            custom: { name: string; app_id: string | null }[];
            merchants: Record<string, string | null>;
          }>('GET', '/__admin/scenarios')
        ).json;
        for (const m of json.merchants.filter((x) => x.name.startsWith('ktpay-mock run'))) {
          let s = seen.get(m.app_id);
          if (!s) {
            s = {
              name: m.name,
              ...(m.expires_at ? { expires_at: m.expires_at } : {}),
              transactions: new Set(),
              deliveries: new Map(),
              scenarios: new Set(),
              active: new Set(),
            };
            seen.set(m.app_id, s);
          }
          const [txs, cbs] = await Promise.all([
            admin<{ transactions: { transaction_hash: string; app_id: string }[] }>(
              'GET',
              `/__admin/transactions?app_id=${m.app_id}&limit=1000`,
            ),
            admin<{ deliveries: { transaction_hash: string; url: string }[] }>(
              'GET',
              `/__admin/callbacks?app_id=${m.app_id}&limit=1000`,
            ),
          ]);
          for (const t of txs.json.transactions ?? []) {
            expect(t.app_id).toBe(m.app_id);
            s.transactions.add(t.transaction_hash);
          }
          for (const d of cbs.json.deliveries ?? []) s.deliveries.set(d.transaction_hash, d.url);
          for (const c of catalog.custom) if (c.app_id === m.app_id) s.scenarios.add(c.name);
          const active = catalog.merchants[m.app_id];
          if (active) s.active.add(active);
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    return { seen, loop };
  }

  it('both pass, each with an ephemeral merchant of its own, and neither sees the other’s payments, scenarios or callbacks', async () => {
    const stop = { done: false };
    const watcher = watch(stop);
    const runs = await Promise.all(
      [
        ['--seed', '15'],
        ['--seed', '16', '--parallel', '4'],
      ].map(async (extra) => {
        const out = mkdtempSync(join(tmpdir(), 'ktpay-concurrent-'));
        dirs.push(out);
        const res = await runCli([
          '--config',
          checkConfig,
          '--sandbox',
          front.url,
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
    stop.done = true;
    await watcher.loop;
    const { seen } = watcher;

    for (const { code, stderr, report } of runs) {
      const failed = report.scenarios.filter((s) => s.status === 'failed');
      expect(code, `${stderr}\n${JSON.stringify(failed, null, 1)}`).toBe(0);
      expect(report.scenarios.map((s) => s.name)).toEqual(suiteNames());
      expect(report.merchant.created).toBe(true);
    }
    const [a, b] = runs.map((r) => r.report) as [RunReport, RunReport];
    expect(a.merchant.app_id).not.toBe(b.merchant.app_id);
    // Both replicas served requests.
    expect(front.served.every((n) => n > 0)).toBe(true);

    for (const [mine, theirs] of [
      [a, b],
      [b, a],
    ] as const) {
      const me = seen.get(mine.merchant.app_id);
      const other = seen.get(theirs.merchant.app_id);
      expect(me, `the watcher saw merchant ${mine.merchant.app_id}`).toBeDefined();
      // Ephemeral: created with the runner's ttl of 6 h.
      const left = Date.parse(me!.expires_at!) - Date.now();
      expect(left).toBeGreaterThan(5 * 3600_000);
      expect(left).toBeLessThanOrEqual(6 * 3600_000);
      // Payments: every one the run made is its merchant's, none is the other's.
      const paid = mine.scenarios.filter((s) => s.transaction_hash).map((s) => s.transaction_hash!);
      expect(paid.length).toBeGreaterThan(15);
      for (const hash of paid)
        expect(other!.transactions.has(hash), `${hash} listed for the other merchant`).toBe(false);
      // The watcher reads every 150 ms (slower on a loaded machine): it may miss the last payments
      // before the run deleted its merchant, but it sees most of them, and only under this merchant.
      const listed = paid.filter((h) => me!.transactions.has(h)).length;
      expect(listed, `payments of the run listed for its merchant`).toBeGreaterThanOrEqual(paid.length / 2);
      // Callbacks: its merchant's deliveries are for its own payments, to its own shop only.
      expect(me!.deliveries.size).toBeGreaterThan(0);
      for (const hash of me!.deliveries.keys()) expect(other!.transactions.has(hash)).toBe(false);
      const myShop = new Set([...me!.deliveries.values()].map((u) => new URL(u).port));
      const theirShop = new Set([...other!.deliveries.values()].map((u) => new URL(u).port));
      expect(myShop.size).toBe(1);
      expect([...myShop].some((p) => theirShop.has(p))).toBe(false);
      // Scenarios: its sandbox scenarios belonged to its merchant, and it only ever had its own active.
      expect(me!.scenarios.size).toBeGreaterThan(0);
      for (const name of me!.scenarios) expect(other!.scenarios.has(name), name).toBe(false);
      for (const name of me!.active) expect(me!.scenarios.has(name), `active ${name}`).toBe(true);
    }

    // At the end each run deleted its merchant: nothing of either is left on the shared sandbox.
    for (const r of [a, b]) {
      const id = r.merchant.app_id;
      expect((await admin('GET', `/__admin/merchants/${id}`)).status).toBe(404);
      expect(
        (await admin<{ transactions: unknown[] }>('GET', `/__admin/transactions?app_id=${id}`)).json
          .transactions,
      ).toEqual([]);
      expect(
        (await admin<{ deliveries: unknown[] }>('GET', `/__admin/callbacks?app_id=${id}`)).json.deliveries,
      ).toEqual([]);
      // The journal keeps nothing from before the delete. A request that names the app_id after it is
      // journaled like any request (create-timeout's create, held 20 s by slow-gateway, may end after
      // the run): it was answered as for an unknown merchant, and stored no payment.
      const late = (
        await admin<{
          entries: { transaction_hash: string | null; verdict: { error_code: number | null } }[];
        }>('GET', `/__admin/journal?app_id=${id}`)
      ).json.entries;
      for (const e of late)
        expect(e).toMatchObject({ transaction_hash: null, verdict: { error_code: 4220103 } });
    }
    const catalog = (await admin<{ custom: { app_id: string | null }[] }>('GET', '/__admin/scenarios')).json;
    expect(
      catalog.custom.filter((c) => c.app_id === a.merchant.app_id || c.app_id === b.merchant.app_id),
    ).toEqual([]);
  }, 300_000);

  /** A merchant through the front, and a payment of it through the front (another replica). */
  async function merchantWithPayment(extra: Record<string, unknown> = {}) {
    const { json: m } = await admin<{ app_id: string; app_key: string }>('POST', '/__admin/merchants', {
      name: 'Cluster shop',
      domains: ['shop.kz'],
      public_key: PUBLIC_KEY,
      ...extra,
    });
    const res = await fetch(`${front.url}${API}/payment`, {
      method: 'POST',
      headers: { 'auth-identifier': m.app_id, 'content-type': 'text/plain' },
      body: await seal(orderPayload(), m.app_key),
    });
    const hash = ((await res.json()) as { payload: { transaction_hash: string } }).payload.transaction_hash;
    return { ...m, hash };
  }

  it('delete, reset and an expired ttl act on one merchant, whichever replica holds the call', async () => {
    const keep = await merchantWithPayment();
    const gone = await merchantWithPayment();
    const reset = await merchantWithPayment();
    const eph = await merchantWithPayment({ ttl: 2 });

    const deleted = await admin<{ purged: { transactions: number } }>(
      'DELETE',
      `/__admin/merchants/${gone.app_id}`,
    );
    expect(deleted.status).toBe(200);
    expect(deleted.json.purged.transactions).toBe(1);
    const wasReset = await admin<{ purged: { transactions: number } }>(
      'POST',
      `/__admin/merchants/${reset.app_id}/reset`,
    );
    expect(wasReset.json.purged.transactions).toBe(1);
    for (const [hash, status] of [
      [gone.hash, 404],
      [reset.hash, 404],
      [keep.hash, 200],
    ] as const) {
      // Twice: once on each replica.
      for (let i = 0; i < 2; i++)
        expect((await admin('GET', `/__admin/transactions/${hash}`)).status).toBe(status);
    }
    expect((await admin('GET', `/__admin/merchants/${reset.app_id}`)).status).toBe(200);

    // An ephemeral merchant whose time is up is unknown on every replica at once.
    await new Promise((r) => setTimeout(r, 2100));
    for (let i = 0; i < 2; i++) {
      const res = await admin<{ error: { code: number } }>('GET', `/__admin/merchants/${eph.app_id}`);
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe(4040123);
    }
    expect((await admin('GET', `/__admin/transactions/${keep.hash}`)).status).toBe(200);
  }, 60_000);
});
