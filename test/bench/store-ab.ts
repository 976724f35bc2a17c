import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type autocannon from 'autocannon';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { startCallbackReceiver } from './callback-receiver.js';
import { API } from './journey.js';
import { load, type LoadResult } from './load.js';
import { cpuMsOf, startProcess } from './processes.js';
import { buildSealedPool, type SealedOrder } from './sealed-pool.js';
import { median } from './stats.js';

const HASH_IN_BODY = /"transaction_hash":"([0-9a-f]{40})"/;
const APP_ID = DEFAULT_MERCHANT.app_id;

/**
 * An interleaved A/B of two builds of the sandbox (each a project root with a built dist/):
 * create-payment and status-GET throughput per store, a fresh sandbox process per measurement,
 * A and B alternating (ABBA…) so neither always runs on a hotter machine. Used to show that a
 * change (issue 17's asynchronous Store) costs the memory and SQLite stores nothing measurable.
 *
 * @example
 * node --import tsx test/bench/store-ab.ts --a /tmp/main --b . --stores memory,sqlite --rounds 4
 */
/** `KEY=value,KEY=value` as an environment object. */
function envPairs(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--env-a/--env-b: ${pair} is not KEY=value`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

async function main() {
  const { values } = parseArgs({
    options: {
      a: { type: 'string' },
      b: { type: 'string', default: '.' },
      stores: { type: 'string', default: 'memory,sqlite' },
      rounds: { type: 'string', default: '4' },
      seconds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      connections: { type: 'string', default: '50' },
      pool: { type: 'string', default: '40000' },
      // Extra environment for one side, `KEY=value,KEY=value`: an A/B of a setting on one build
      // (e.g. --a . --b . --env-b CRYPTO_WORKERS=0).
      'env-a': { type: 'string', default: '' },
      'env-b': { type: 'string', default: '' },
    },
  });
  if (!values.a) throw new Error('--a <project root of the baseline build> is required');
  const roots = { A: resolve(values.a), B: resolve(values.b) };
  const sideEnv = { A: envPairs(values['env-a']), B: envPairs(values['env-b']) };
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const warmup = Number(values.warmup);
  const connections = Number(values.connections);
  const stores = values.stores.split(',');
  const dir = mkdtempSync(join(tmpdir(), 'ktpay-store-ab-'));
  const receiver = await startCallbackReceiver();
  const log = (s: string) => process.stdout.write(`${s}\n`);
  try {
    const pool: SealedOrder[] = await buildSealedPool({
      count: Number(values.pool),
      prefix: `ab-${Date.now().toString(36)}`,
      callbackUrl: receiver.url,
      appKey: DEFAULT_MERCHANT.app_key,
      secretKey: DEFAULT_MERCHANT.server_secret_key,
    });
    log(`A = ${roots.A} ${values['env-a']}\nB = ${roots.B} ${values['env-b']}\n${pool.length} sealed orders; ${rounds} rounds × ${seconds} s`);
    const results: Record<string, { create: Measured[]; status: Measured[] }> = {};
    let file = 0;
    for (const store of stores) {
      for (let r = 0; r < rounds; r++) {
        const order: ('A' | 'B')[] = r % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
        for (const side of order) {
          const key = `${store} ${side}`;
          results[key] ??= { create: [], status: [] };
          const storeEnv =
            store === 'sqlite'
              ? `sqlite:${join(dir, `ab-${++file}.db`)}`
              : store === 'memory'
                ? 'memory'
                : store;
          const root = roots[side];
          const sb = await startProcess(
            { command: process.execPath, args: [join(root, 'dist/mock-server/cli.js'), 'serve'], cwd: root },
            {
              env: { LOG_LEVEL: 'warn', STORE: storeEnv, CLEARING_DELAY_MS: 'manual', ...sideEnv[side] },
              readyPath: '/__admin/health',
            },
          );
          try {
            let next = 0;
            const hashes: string[] = [];
            const create: autocannon.Request[] = [
              {
                method: 'POST',
                path: `${API}/payment`,
                headers: { 'auth-identifier': APP_ID, 'content-type': 'text/plain' },
                setupRequest: (req) => {
                  req.body = pool[next++ % pool.length]!.body;
                  return req;
                },
                onResponse: (_s, body) => {
                  const m = HASH_IN_BODY.exec(body);
                  if (m) hashes.push(m[1]!);
                },
              },
            ];
            const c = await measured(sb.pid, {
              url: sb.url,
              requests: create,
              duration: seconds,
              warmup,
              connections,
            });
            let i = 0;
            const status: autocannon.Request[] = [
              {
                method: 'GET',
                path: `${API}/payment/${hashes[0]}`,
                headers: { 'auth-identifier': APP_ID },
                setupRequest: (req) => {
                  req.path = `${API}/payment/${hashes[i++ % hashes.length]}`;
                  return req;
                },
              },
            ];
            const s = await measured(sb.pid, {
              url: sb.url,
              requests: status,
              duration: seconds,
              warmup,
              connections,
            });
            results[key].create.push(c);
            results[key].status.push(s);
            log(
              `${store.padEnd(6)} round ${r + 1} ${side}: create ${c.rps.toFixed(0)}/s ${c.cpuUs.toFixed(0)} µs CPU/req (p99 ${c.p99} ms, bad ${c.bad}) · status ${s.rps.toFixed(0)}/s ${s.cpuUs.toFixed(0)} µs CPU/req (p99 ${s.p99} ms, bad ${s.bad})`,
            );
          } finally {
            await sb.stop();
          }
        }
      }
    }
    log('\nmedians (req/s; p99 ms)');
    for (const store of stores) {
      for (const what of ['create', 'status'] as const) {
        const a = results[`${store} A`]![what];
        const b = results[`${store} B`]![what];
        const ma = median(a.map((x) => x.rps))!;
        const mb = median(b.map((x) => x.rps))!;
        const ca = median(a.map((x) => x.cpuUs))!;
        const cb = median(b.map((x) => x.cpuUs))!;
        log(
          `${store.padEnd(6)} ${what.padEnd(6)} A ${ma.toFixed(0)} [${a.map((x) => x.rps.toFixed(0)).join(', ')}] p99 ${median(a.map((x) => x.p99))} · B ${mb.toFixed(0)} [${b.map((x) => x.rps.toFixed(0)).join(', ')}] p99 ${median(b.map((x) => x.p99))} · B/A ${(mb / ma).toFixed(3)}`,
        );
        log(
          `${''.padEnd(13)} sandbox CPU per request: A ${ca.toFixed(0)} µs [${a.map((x) => x.cpuUs.toFixed(0)).join(', ')}] · B ${cb.toFixed(0)} µs [${b.map((x) => x.cpuUs.toFixed(0)).join(', ')}] · B/A ${(cb / ca).toFixed(3)}`,
        );
      }
    }
  } finally {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Measured extends LoadResult {
  /** The sandbox process's CPU time (user + system, all threads) per answered request, in µs. */
  cpuUs: number;
}

/**
 * One load run plus the sandbox's CPU per request over the measured window: on a machine other
 * work shares, req/s says how much CPU the sandbox got, CPU per request what each request cost.
 */
async function measured(pid: number, opts: Parameters<typeof load>[0]): Promise<Measured> {
  if (opts.warmup) await load({ ...opts, warmup: 0, duration: opts.warmup });
  const before = cpuMsOf(pid) ?? 0;
  const r = await load({ ...opts, warmup: 0 });
  const after = cpuMsOf(pid) ?? 0;
  return { ...r, cpuUs: ((after - before) * 1000) / Math.max(1, r.ok + r.bad) };
}

main().catch((err: unknown) => {
  process.stderr.write(
    `store-ab failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
