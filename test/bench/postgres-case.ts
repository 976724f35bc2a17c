import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type autocannon from 'autocannon';
import postgres from 'postgres';
import type { Delivery } from '../../mock-server/callbacks/delivery.js';
import { projectPath } from '../../mock-server/shared/project-root.js';
import {
  findPostgresBin,
  POSTGRES_RUNTIME,
  startPostgres,
  type PostgresServer,
} from '../helpers/postgres-server.js';
import type { CallbackReceiver } from './callback-receiver.js';
import type { Row } from './harness.js';
import { load, type LoadResult } from './load.js';
import { cpuMsOf, startProcess, type BenchProcess, type Launch } from './processes.js';
import { median, percentile } from './stats.js';

/*
 * Issue 17's bench rows: create-payment and status GET on the PostgreSQL store with one replica (the
 * first of three, addressed straight) and with three behind a round-robin front, callback deliveries per second across three replicas
 * (every paid transaction acknowledged exactly once, checked on both sides), and the p99 the
 * database adds over the memory store, measured in the same run under the same settings.
 *
 * Everything runs on one machine: the PostgreSQL server (a throwaway one, test/helpers/postgres-server.ts),
 * the replicas, the front and the load generator share its cores. So the rows show that the
 * cluster is correct under load and what each request costs in CPU on each side; they cannot
 * show horizontal scaling, which needs the replicas on cores of their own.
 */

/** Every case name of these rows starts with this. */
export const POSTGRES_CASE_PREFIX = 'PostgreSQL';

export const POSTGRES_CASES = {
  one: `${POSTGRES_CASE_PREFIX} store, 1 replica`,
  three: `${POSTGRES_CASE_PREFIX} store, 3 replicas behind a round-robin front`,
  callbacks: `${POSTGRES_CASE_PREFIX} store, 3 replicas: callbacks (stream: pay → clear → deliver)`,
  baseline: `${POSTGRES_CASE_PREFIX} rows' baseline: memory store, same settings`,
  added: `${POSTGRES_CASE_PREFIX} store, 1 replica − memory store: the p99 the database adds`,
} as const;

const REPLICAS = 3;

/** What the case needs from the harness: its settings, processes and the sealed orders' requests. */
export interface PostgresCaseDeps {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  /** Callbacks per round of the 3-replica callback stream. */
  postgres_callbacks: number;
  /** How to start one sandbox (`serve`); the store is set by environment. */
  sandbox: Launch;
  receiver: CallbackReceiver;
  /** Create-payment requests over fresh sealed orders from `cursor`; answered hashes go to `hashes`. */
  createRequests(cursor: { next: number }, hashes: string[]): autocannon.Request[];
  /** Status GETs cycling over `hashes`, each with its owner's Auth-Identifier. */
  statusRequests(hashes: string[]): autocannon.Request[];
  /** Registers every merchant the sealed orders are sent as. */
  prepareMerchants(base: string): Promise<void>;
  /** Creates exactly `n` transactions; returns their hashes. */
  createMany(base: string, cursor: { next: number }, n: number, connections: number): Promise<string[]>;
  /** Pays `count` of `hashes` at full speed through the admin pay route. */
  payAll(
    base: string,
    payPath: (h: string) => string,
    hashes: string[],
    count: number,
    connections: number,
  ): Promise<{ paid: string[]; sentAt: Map<string, number> }>;
  log(line: string): void;
}

/** How the bench starts the round-robin front: test/cluster/round-robin.ts in a process of its own. */
function frontLaunch(root = projectPath()): Launch {
  return {
    command: process.execPath,
    args: ['--import', 'tsx', join(root, 'test', 'bench', 'round-robin-front.ts')],
    cwd: root,
  };
}

/** The fields of /proc/<pid>/stat after the command name (index 1 is the parent pid), or null. */
function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * CPU ms (user + system) of a process and its children, living and already reaped: PostgreSQL
 * serves each connection from a child of the postmaster. Linux /proc; null elsewhere.
 */
function treeCpuMs(pid: number): number | null {
  const own = procStat(pid);
  if (!own) return null;
  // utime, stime, cutime, cstime are fields 14-17 of /proc/<pid>/stat, in clock ticks (100 per second).
  const ticks = (f: string[], from: number, to: number) =>
    f.slice(from, to + 1).reduce((a, x) => a + Number(x), 0);
  let total = ticks(own, 11, 14);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = procStat(Number(entry));
    if (f && Number(f[1]) === pid) total += ticks(f, 11, 14);
  }
  return total * 10;
}

/** The processes of one measured configuration, whose CPU the bench reads around each run. */
interface Target {
  label: string;
  url: string;
  sandboxes: BenchProcess[];
  front?: BenchProcess;
  /** The postmaster's pid (its connections are its children), when the store is PostgreSQL. */
  postgresPid?: number;
  cursor: { next: number };
  hashes: string[];
}

/** CPU time each side used, in ms; null where /proc is not readable. */
interface CpuSnapshot {
  sandboxes: number | null;
  postgres: number | null;
  front: number | null;
  bench: NodeJS.CpuUsage;
  at: number;
}

function snapshot(t: Target): CpuSnapshot {
  const sb = t.sandboxes.map((p) => cpuMsOf(p.pid));
  return {
    sandboxes: sb.some((x) => x === null) ? null : sb.reduce<number>((a, x) => a + x!, 0),
    postgres: t.postgresPid === undefined ? null : treeCpuMs(t.postgresPid),
    front: t.front ? cpuMsOf(t.front.pid) : null,
    bench: process.cpuUsage(),
    at: performance.now(),
  };
}

/** CPU each side used since `before`: per request (µs) and as a share of one core. */
interface CpuUse {
  wallMs: number;
  /** ms of CPU per side over the window. */
  ms: { sandboxes: number | null; postgres: number | null; front: number | null; bench: number };
}

function since(before: CpuSnapshot, t: Target): CpuUse {
  const now = snapshot(t);
  const d = (a: number | null, b: number | null) => (a === null || b === null ? null : b - a);
  const bench = process.cpuUsage(before.bench);
  return {
    wallMs: now.at - before.at,
    ms: {
      sandboxes: d(before.sandboxes, now.sandboxes),
      postgres: d(before.postgres, now.postgres),
      front: d(before.front, now.front),
      bench: (bench.user + bench.system) / 1000,
    },
  };
}

interface Measured extends LoadResult {
  cpu: CpuUse;
}

/**
 * One measured throughput run, with the CPU every side used in it. No warm-up of its own: every
 * configuration had one unmeasured pass before the first round (autocannon runs last at least 1 s,
 * so a warm-up per run would double the case's time at small sizes).
 */
async function measured(t: Target, o: PostgresCaseDeps, requests: autocannon.Request[]): Promise<Measured> {
  const before = snapshot(t);
  const r = await load({ url: t.url, requests, connections: o.connections, duration: o.seconds });
  return { ...r, cpu: since(before, t) };
}

const us = (ms: number | null, n: number) => (ms === null || n === 0 ? null : (ms * 1000) / n);

/** "sandbox 412 µs · PostgreSQL 230 µs · …": the medians of CPU per answered request by side. */
function cpuPerRequest(runs: Measured[], what = 'request'): string {
  const side = (pick: (m: CpuUse['ms']) => number | null) =>
    median(
      runs.flatMap((r) => {
        const v = us(pick(r.cpu.ms), r.ok + r.bad);
        return v === null ? [] : [v];
      }),
    );
  const parts: string[] = [];
  const fmt = (label: string, v: number | null) => {
    if (v !== null) parts.push(`${label} ${Math.round(v)} µs`);
  };
  fmt(
    runs[0]?.cpu.ms.front === null ? 'sandbox' : 'replicas',
    side((m) => m.sandboxes),
  );
  fmt(
    'PostgreSQL',
    side((m) => m.postgres),
  );
  fmt(
    'front',
    side((m) => m.front),
  );
  fmt(
    'bench process',
    side((m) => m.bench),
  );
  const busy = median(
    runs.map(
      (r) =>
        ((r.cpu.ms.sandboxes ?? 0) + (r.cpu.ms.postgres ?? 0) + (r.cpu.ms.front ?? 0) + r.cpu.ms.bench) /
        r.cpu.wallMs,
    ),
  );
  return `CPU per ${what} (median of rounds): ${parts.join(' · ')}; all of them together kept ${
    busy === null ? '?' : `${(100 * busy).toFixed(0)} %`
  } of one core busy (${cpus().length} cores = ${100 * cpus().length} %)`;
}

function unavailable(why: string): Row[] {
  const note = `not available in this environment: ${why}`;
  return [
    { case: POSTGRES_CASES.one, figure: 'create-payment and status GET', unit: 'req/s' },
    { case: POSTGRES_CASES.three, figure: 'create-payment and status GET', unit: 'req/s' },
    { case: POSTGRES_CASES.callbacks, figure: 'deliveries/s', unit: '/s' },
    { case: POSTGRES_CASES.added, figure: 'create-payment and status GET p99', unit: 'ms' },
  ].map((r) => ({ ...r, median: null, rounds: [], note }));
}

/**
 * Runs the PostgreSQL rows. Without PostgreSQL server binaries, the rows say so and carry no figure.
 *
 * @example
 * const { rows, notes } = await postgresCase({ ...settings, sandbox, receiver, createRequests, … });
 */
export async function postgresCase(o: PostgresCaseDeps): Promise<{ rows: Row[]; notes: string[] }> {
  const bin = findPostgresBin();
  if (!bin) return { rows: unavailable(`no ${POSTGRES_RUNTIME}`), notes: [] };
  const started = performance.now();
  const rows: Row[] = [];
  const notes: string[] = [];
  let pg: PostgresServer;
  try {
    pg = await startPostgres({ bin });
  } catch (err) {
    const why = `PostgreSQL did not start: ${(err as Error).message.split('\n')[0]}`;
    return { rows: unavailable(why), notes: [`${POSTGRES_CASE_PREFIX} rows: ${why}`] };
  }
  const processes: BenchProcess[] = [];
  let sql: postgres.Sql | undefined;
  try {
    o.log(`PostgreSQL (${bin}): memory store, 1 replica and ${REPLICAS} replicas, interleaved rounds`);
    const db = await pg.createDatabase('bench');
    const env = (store: string) => ({
      LOG_LEVEL: 'warn',
      STORE: store,
      // No pays happen during the throughput runs; the callback stream needs clearing at once.
      CLEARING_DELAY_MS: '0',
      CALLBACK_TIMEOUT_MS: '60000',
    });
    const start = async (store: string) => {
      const p = await startProcess(o.sandbox, {
        env: env(store),
        readyPath: '/__admin/health',
        timeoutMs: 60_000,
      });
      processes.push(p);
      return p;
    };
    // Started together: the replicas of one database run its migrations once, under an advisory lock.
    // All starts settle before a failure is thrown, so every process that did start is stopped below.
    const starts = await Promise.allSettled([
      start('memory'),
      ...Array.from({ length: REPLICAS }, () => start(db)),
    ]);
    const refused = starts.find((x) => x.status === 'rejected');
    if (refused) throw refused.reason;
    const [memory, ...three] = starts.map((x) => (x as PromiseFulfilledResult<BenchProcess>).value);
    const front = await startProcess(frontLaunch(), {
      env: { REPLICAS: three.map((p) => p.url).join(',') },
      readyPath: '/__admin/health',
      timeoutMs: 60_000,
    });
    processes.push(front);
    o.log(
      `  PostgreSQL and ${processes.length} processes up in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    // One replica is the first of the three, addressed straight (the two others stay idle); both
    // configurations use one database, so they take their orders from one cursor (order_id is unique).
    const onDatabase = { next: 0 };
    const targets: Record<'memory' | 'one' | 'three', Target> = {
      memory: { label: 'memory', url: memory!.url, sandboxes: [memory!], cursor: { next: 0 }, hashes: [] },
      one: {
        label: '1 replica',
        url: three[0]!.url,
        sandboxes: [three[0]!],
        postgresPid: pg.pid,
        cursor: onDatabase,
        hashes: [],
      },
      three: {
        label: `${REPLICAS} replicas`,
        url: front.url,
        sandboxes: three,
        front,
        postgresPid: pg.pid,
        cursor: onDatabase,
        hashes: [],
      },
    };
    for (const url of [memory!.url, front.url]) await o.prepareMerchants(url);

    // ---- create and status throughput, the three configurations interleaved -------------------
    const runs: Record<keyof typeof targets, { create: Measured[]; status: Measured[] }> = {
      memory: { create: [], status: [] },
      one: { create: [], status: [] },
      three: { create: [], status: [] },
    };
    // One unmeasured pass first, all configurations at once (create, then status; 6 × the warm-up
    // each, as the three share the cores), so none meets its first measured round with a cold JIT
    // or an empty connection pool. Through the front a cold path costs several times a warm one.
    await Promise.all(
      Object.values(targets).map(async (t) => {
        const warm = { url: t.url, connections: o.connections, duration: 6 * o.warmup };
        await load({ ...warm, requests: o.createRequests(t.cursor, t.hashes) });
        await load({ ...warm, requests: o.statusRequests(t.hashes) });
      }),
    );
    for (let r = 0; r < o.rounds; r++) {
      // Alternate the order, so neither the memory store nor PostgreSQL always runs on a hotter machine.
      const order = (r % 2 === 0 ? ['memory', 'one', 'three'] : ['three', 'one', 'memory']) as Array<
        keyof typeof targets
      >;
      for (const key of order) {
        const t = targets[key];
        runs[key].create.push(await measured(t, o, o.createRequests(t.cursor, t.hashes)));
        runs[key].status.push(await measured(t, o, o.statusRequests(t.hashes)));
      }
    }
    for (const [key, r] of Object.entries(runs)) {
      const bad = [...r.create, ...r.status].filter((x) => x.bad > 0);
      if (bad.length > 0)
        notes.push(
          `${POSTGRES_CASE_PREFIX} rows (${targets[key as keyof typeof targets].label}): some answers were not 2xx: ${bad
            .map((x) => JSON.stringify(x.statuses))
            .join(', ')}`,
        );
    }
    const throughputRows = (c: string, k: keyof typeof targets, extra = '') => {
      const { create, status } = runs[k];
      return [
        {
          case: c,
          figure: 'create-payment req/s',
          unit: 'req/s',
          rounds: create.map((x) => x.rps),
          note: `${cpuPerRequest(create)}${extra}`,
        },
        { case: c, figure: 'create-payment p99 latency', unit: 'ms', rounds: create.map((x) => x.p99) },
        {
          case: c,
          figure: 'status GET req/s',
          unit: 'req/s',
          rounds: status.map((x) => x.rps),
          note: cpuPerRequest(status),
        },
        { case: c, figure: 'status GET p99 latency', unit: 'ms', rounds: status.map((x) => x.p99) },
      ].map((row) => ({ ...row, median: median(row.rounds) }));
    };
    rows.push(...throughputRows(POSTGRES_CASES.baseline, 'memory'));
    rows.push(
      ...throughputRows(POSTGRES_CASES.one, 'one', '; one of the three replicas, addressed straight'),
    );
    rows.push(...throughputRows(POSTGRES_CASES.three, 'three', '; the front is a node:http proxy'));
    // Paired by round: both ran back to back in it, alternating which went first.
    for (const [what, pick] of [
      ['create-payment p99', (x: { create: Measured[] }) => x.create],
      ['status GET p99', (x: { status: Measured[] }) => x.status],
    ] as const) {
      const pgP99 = pick(runs.one).map((x) => x.p99);
      const memP99 = pick(runs.memory).map((x) => x.p99);
      const deltas = pgP99.map((v, i) => v - memP99[i]!);
      rows.push({
        case: POSTGRES_CASES.added,
        figure: `${what} added (per round: PostgreSQL 1 replica − memory store)`,
        unit: 'ms',
        median: median(deltas),
        rounds: deltas,
        note: `p99 per round, PostgreSQL ${pgP99.join(' · ')} ms, memory ${memP99.join(' · ')} ms`,
      });
    }

    // ---- callbacks across the three replicas ---------------------------------------------------
    o.log(`PostgreSQL: callbacks across ${REPLICAS} replicas, ${o.postgres_callbacks} per round`);
    sql = postgres(db, { max: 2, onnotice: () => undefined });
    const cb: CallbackRound[] = [];
    // An unmeasured round first, so the pay path and the outbox of every replica are warm (its
    // deliveries are all acknowledged, and checked, before the first measured round starts).
    const warm = await callbackRound(o, targets.three, sql, o.connections * 2, targets.one.url);
    for (let r = 0; r < o.rounds; r++)
      cb.push(await callbackRound(o, targets.three, sql, o.postgres_callbacks, targets.one.url));
    const failed = [warm, ...cb].filter((x) => x.problems.length > 0);
    const paid = cb.reduce((a, x) => a + x.paid, 0);
    const byReplica = new Map<string, number>();
    for (const x of cb)
      for (const [k, v] of x.attemptsByReplica) byReplica.set(k, (byReplica.get(k) ?? 0) + v);
    const split = [...byReplica.values()].map((v) => v.toLocaleString('en')).join(' · ');
    rows.push({
      case: POSTGRES_CASES.callbacks,
      figure: 'deliveries/s',
      unit: '/s',
      median: median(cb.map((x) => x.rate)),
      rounds: cb.map((x) => x.rate),
      note: `${paid.toLocaleString('en')} paid over ${cb.length} round(s), ${
        failed.length === 0 ? 'each acknowledged exactly once (checked)' : 'CHECK FAILED (see the notes)'
      }; attempts made by replica: ${split} (${byReplica.size} replicas); end-to-end p99 ${cb
        .map((x) => `${Math.round(x.e2eP99)}`)
        .join(' · ')} ms; ${cpuShares(cb)}`,
    });
    notes.push(
      failed.length === 0
        ? `${POSTGRES_CASES.callbacks}: every one of ${paid} paid transactions of the measured rounds, and the ${warm.paid} of the unmeasured first round, got exactly one delivery, acknowledged exactly once (attempt 1, received once by the receiver, recorded once in the database); ${byReplica.size} replicas made attempts.`
        : `${POSTGRES_CASES.callbacks}: CHECK FAILED — ${failed.flatMap((x) => x.problems).join('; ')}`,
    );
    o.log(`  PostgreSQL rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return { rows, notes };
  } finally {
    await sql?.end();
    await Promise.all(processes.map((p) => p.stop()));
    await pg.stop();
  }
}

interface CallbackRound {
  rate: number;
  paid: number;
  e2eP99: number;
  attemptsByReplica: Map<string, number>;
  cpu: CpuUse;
  problems: string[];
}

/** "CPU during the stream, share of one core: …", medians over the rounds. */
function cpuShares(cb: CallbackRound[]): string {
  const share = (pick: (m: CpuUse['ms']) => number | null) => {
    const v = median(
      cb.flatMap((x) => {
        const ms = pick(x.cpu.ms);
        return ms === null ? [] : [ms / x.cpu.wallMs];
      }),
    );
    return v === null ? '?' : `${Math.round(100 * v)} %`;
  };
  return `CPU during the stream, share of one core: replicas ${share((m) => m.sandboxes)}, PostgreSQL ${share(
    (m) => m.postgres,
  )}, front ${share((m) => m.front)}, bench process (autocannon + receiver) ${share((m) => m.bench)}`;
}

/**
 * One callback round on the three replicas: `n` fresh transactions (created on one replica, any
 * replica serves any transaction) paid through the front at full speed; each clears at once and
 * its callback goes to the receiver. The rate counts from the first pay sent to the last callback
 * acknowledged. Then the check, on both sides: every paid transaction has exactly one delivery,
 * received once and acknowledged at attempt 1, and the database records it acknowledged with one
 * attempt by one replica.
 */
async function callbackRound(
  o: PostgresCaseDeps,
  t: Target,
  sql: postgres.Sql,
  n: number,
  /** Where the transactions are created beforehand (unmeasured): straight on one replica, faster. */
  createOn: string,
): Promise<CallbackRound> {
  const hashes = await o.createMany(createOn, t.cursor, n + o.connections * 2, o.connections);
  o.receiver.reset({ kind: 'ack' });
  const before = snapshot(t);
  const stream = await o.payAll(t.url, (h) => `/__admin/transactions/${h}/pay`, hashes, n, o.connections);
  const problems: string[] = [];
  await o.receiver.waitForAcks(stream.paid.length, 120_000).catch((err: Error) => problems.push(err.message));
  const cpu = since(before, t);
  const firstSent = Math.min(...stream.sentAt.values());
  const seen = [...o.receiver.seen().values()];
  const lastAck = Math.max(...seen.map((d) => d.ackedAt ?? 0));
  const paid = new Set(stream.paid);

  // The receiver's side.
  const deliveriesOf = new Map<string, number>();
  for (const d of seen) deliveriesOf.set(d.hash, (deliveriesOf.get(d.hash) ?? 0) + 1);
  const missing = [...paid].filter((h) => !deliveriesOf.has(h));
  const extra = seen.filter((d) => !paid.has(d.hash)).length;
  const doubled = [...deliveriesOf.values()].filter((c) => c > 1).length;
  const notOnce = seen.filter((d) => d.acks !== 1 || d.attempts.length !== 1 || d.attempts[0] !== 1);
  if (missing.length > 0)
    problems.push(`${missing.length} paid transactions got no callback (e.g. ${missing[0]})`);
  if (extra > 0) problems.push(`${extra} callbacks for transactions this round did not pay`);
  if (doubled > 0) problems.push(`${doubled} transactions got more than one delivery`);
  if (notOnce.length > 0)
    problems.push(
      `${notOnce.length} deliveries were not received exactly once at attempt 1 (e.g. attempts ${JSON.stringify(notOnce[0]!.attempts)}, acks ${notOnce[0]!.acks})`,
    );

  // The database's side: the verdicts are written right after the receiver answers.
  const attemptsByReplica = new Map<string, number>();
  let docs: Delivery[] = [];
  const deadline = performance.now() + 15_000;
  for (;;) {
    docs = (
      await sql<{ doc: string | Delivery }[]>`SELECT doc FROM deliveries
        WHERE transaction_hash IN ${sql([...paid])}`
    ).map((r) => (typeof r.doc === 'string' ? (JSON.parse(r.doc) as Delivery) : r.doc));
    const done = docs.filter((d) => d.state === 'acknowledged').length;
    if (done >= paid.size || performance.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const recorded = new Map<string, number>();
  for (const d of docs) {
    recorded.set(d.transaction_hash, (recorded.get(d.transaction_hash) ?? 0) + 1);
    for (const a of d.attempts) {
      const who = a.replica ?? '?';
      attemptsByReplica.set(who, (attemptsByReplica.get(who) ?? 0) + 1);
    }
  }
  const unrecorded = [...paid].filter((h) => recorded.get(h) !== 1).length;
  const badRecords = docs.filter(
    (d) =>
      d.state !== 'acknowledged' ||
      d.attempts.length !== 1 ||
      d.attempts[0]!.verdict !== 'acknowledged' ||
      d.attempts[0]!.replica === undefined,
  );
  if (unrecorded > 0)
    problems.push(`${unrecorded} paid transactions have no single delivery row in the database`);
  if (badRecords.length > 0)
    problems.push(
      `${badRecords.length} delivery rows are not one acknowledged attempt by a named replica (e.g. ${badRecords[0]!.state}, ${badRecords[0]!.attempts.length} attempts)`,
    );
  const e2e = seen.map((d) => (d.ackedAt ?? 0) - (stream.sentAt.get(d.hash) ?? 0));
  return {
    rate: stream.paid.length / ((lastAck - firstSent) / 1000),
    paid: paid.size,
    e2eP99: percentile(e2e, 99) ?? NaN,
    attemptsByReplica,
    cpu,
    problems,
  };
}
