import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery } from '../../mock-server/callbacks/delivery.js';
import { foreignRuntime } from '../helpers/foreign-runtime.js';
import {
  findPostgresBin,
  POSTGRES_RUNTIME,
  startPostgres,
  type PostgresServer,
} from '../helpers/postgres-server.js';
import { API, APP_ID, orderPayload, seal } from '../helpers/sandbox.js';
import { startSandboxProcess, type SandboxProcess } from '../helpers/sandbox-process.js';
import { startRoundRobin, type RoundRobin } from './round-robin.js';

/**
 * Issue 17: three `ktpay-mock serve` processes on one real PostgreSQL database behind a
 * round-robin front. Any replica serves any request; the callback outbox is one for all of them
 * (leases); a replica killed with SIGKILL mid-stream loses no accepted payment and no callback.
 */

const PAYMENTS = 2_000;
const KILL_AT = 800;
const WORKERS = 16;
/** The callback timeout: a dead replica's lease expires this + 5 s after its claim. */
const CALLBACK_TIMEOUT_MS = 2_000;

const pgBin = findPostgresBin();
const withPostgres = foreignRuntime(POSTGRES_RUNTIME, 'Cluster of three replicas', pgBin !== undefined);

interface Arrival {
  delivery: string;
  attempt: number;
  hash: string;
  at: number;
  acknowledged: boolean;
}

/**
 * The merchant's callback endpoint: answers 500 to about 10 % of attempts, decided by the
 * delivery id and attempt number (so a repeated attempt gets the same answer), and logs them all.
 */
async function startFlakyReceiver() {
  const arrivals: Arrival[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { transaction_hash: string };
      const delivery = String(req.headers['x-ktpay-delivery-id']);
      const attempt = Number(req.headers['x-ktpay-attempt']);
      const fail = createHash('sha256').update(`${delivery}/${attempt}`).digest()[0]! % 10 === 0;
      arrivals.push({ delivery, attempt, hash: body.transaction_hash, at: Date.now(), acknowledged: !fail });
      if (fail) res.writeHead(500, { 'content-type': 'text/plain' }).end('flaky on purpose');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ktpay/callback`,
    arrivals,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

describe.skipIf(!withPostgres)('a cluster of three replicas on one PostgreSQL database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ktpay-cluster-'));
  let pg: PostgresServer;
  let dbUrl: string;
  let receiver: Awaited<ReturnType<typeof startFlakyReceiver>>;
  let replicas: SandboxProcess[] = [];
  let front: RoundRobin;
  let sql: postgres.Sql;

  beforeAll(async () => {
    pg = await startPostgres({ bin: pgBin! });
    dbUrl = await pg.createDatabase('cluster');
    receiver = await startFlakyReceiver();
    const configPath = join(dir, 'ktpay-mock.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        default_merchant: { callback_post_url: receiver.url, notify_on: ['cancelled', 'refunded'] },
        callbacks: {
          timeout_ms: CALLBACK_TIMEOUT_MS,
          schedule_ms: [200, 400, 800, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
        },
      }),
    );
    // Started together: the migrations run once, under PostgreSQL's advisory lock.
    replicas = await Promise.all(
      [0, 1, 2].map(() =>
        startSandboxProcess({ STORE: dbUrl, KTPAY_MOCK_CONFIG: configPath, CLEARING_DELAY_MS: '100' }),
      ),
    );
    front = await startRoundRobin(replicas.map((r) => r.url));
    sql = postgres(dbUrl, { max: 2, onnotice: () => undefined });
  }, 120_000);

  afterAll(async () => {
    await sql?.end();
    await front?.close();
    for (const r of replicas)
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
    await receiver?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** The replica that answered each request through the front, in order. */
  const servedLog: number[] = [];

  /** One request through the front; `served` is the replica that answered. */
  async function call(
    method: string,
    path: string,
    opts: { body?: string; headers?: Record<string, string> } = {},
  ) {
    const u = new URL(path, front.url);
    const res = await fetch(new URL(u.pathname + u.search, front.url), {
      method,
      redirect: 'manual',
      headers: opts.headers ?? {},
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    });
    const served = Number(res.headers.get('x-served-by'));
    servedLog.push(served);
    return { res, served, text: () => res.text() };
  }
  const AUTH = { 'auth-identifier': APP_ID, 'content-type': 'text/plain' };

  async function create(order: Record<string, unknown> = {}) {
    const r = await call('POST', `${API}/payment`, { body: await seal(orderPayload(order)), headers: AUTH });
    const json = (await r.res.json()) as { payload?: { transaction_hash: string }; code?: number };
    return { status: r.res.status, hash: json.payload?.transaction_hash, json, served: r.served };
  }

  function formOf(html: string) {
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    const hidden: Record<string, string> = {};
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
      hidden[m[1]!] = m[2]!;
    return { action: action!, hidden };
  }
  const form = (fields: Record<string, string>) => ({
    body: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });

  async function statusOf(hash: string) {
    const r = await call('GET', `${API}/payment/${hash}`, { headers: { 'auth-identifier': APP_ID } });
    return ((await r.res.json()) as { payload: { status: { status: string } } }).payload.status.status;
  }

  it('the shopper journey with 3-D Secure, a refund and the PDF, on another replica at every request', async () => {
    const from = servedLog.length;
    const step = call;
    const created = await create();
    const hash = created.hash!;
    const widget = await step('GET', `/payment-card?hash=${hash}`);
    expect(widget.res.status).toBe(303);
    const bank = await step('GET', widget.res.headers.get('location')!);
    expect(bank.res.status).toBe(200);
    const cardForm = formOf(await bank.text());
    const afterCard = await step(
      'POST',
      cardForm.action,
      form({
        ...cardForm.hidden,
        pan: '5522 0427 0506 6736',
        exp_month: '12',
        exp_year: '30',
        cvc: '123',
        cardholder: 'IVAN IVANOV',
        email: 'ivan@example.kz',
      }),
    );
    expect(afterCard.res.status).toBe(303);
    const acs = await step('GET', afterCard.res.headers.get('location')!);
    const acsHtml = await acs.text();
    expect(acsHtml).toContain('name="otp"');
    const otpForm = formOf(acsHtml);
    const afterOtp = await step(
      'POST',
      otpForm.action,
      form({ ...otpForm.hidden, otp: '1111', action: 'confirm' }),
    );
    expect(afterOtp.res.status).toBe(303);
    const toReceipt = await step('GET', afterOtp.res.headers.get('location')!);
    const receipt = await step('GET', toReceipt.res.headers.get('location')!);
    expect(await receipt.text()).toContain('552204******6736');

    const deadline = Date.now() + 15_000;
    let status = '';
    while ((status = await statusOf(hash)) !== 'completed' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(status).toBe('completed');

    const refund = await step('POST', `${API}/payment/${hash}/refund`, {
      body: await seal({ reason: 'cluster test' }),
      headers: AUTH,
    });
    expect(refund.res.status).toBe(200);
    expect(
      ((await refund.res.json()) as { payload: { status: { status: string } } }).payload.status.status,
    ).toBe('refunded');
    const pdf = await step('GET', `${API}/payment/${hash}/pdf`);
    expect(pdf.res.status).toBe(200);
    expect(pdf.res.headers.get('content-type')).toContain('application/pdf');
    expect((await pdf.res.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    // A second payment, created on one replica and cancelled on the next.
    const other = await create();
    const cancel = await call('POST', `${API}/payment/${other.hash}/cancel`, { body: '', headers: AUTH });
    expect(cancel.served).not.toBe(other.served);
    expect(cancel.res.status).toBe(200);

    // Every request of the walk (status polls included) went to another replica than the one before.
    const servedBy = servedLog.slice(from);
    expect(servedBy.length).toBeGreaterThan(12);
    for (let i = 1; i < servedBy.length; i++) expect(servedBy[i]).not.toBe(servedBy[i - 1]);
    expect(new Set(servedBy).size).toBe(3);
  });

  it('concurrent creates of one order_id on all three replicas: exactly one is accepted', async () => {
    for (let round = 0; round < 10; round++) {
      const order_id = `DUP-${process.pid}-${round}`;
      const answers = await Promise.all([0, 1, 2].map(() => create({ order_id })));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 422, 422]);
      for (const a of answers.filter((x) => x.status === 422))
        expect(JSON.stringify(a.json)).toContain('order.order_id');
      expect(new Set(answers.map((a) => a.served)).size).toBe(3);
    }
  });

  it(
    `${PAYMENTS} paid payments, callbacks to a receiver failing 10 %, one replica SIGKILLed mid-way: ` +
      'each callback acknowledged once, attempts 1..n, no attempt made twice',
    async () => {
      const accepted = new Set<string>();
      const paid = new Set<string>();
      let cutOff = 0;
      let killedAt = 0;
      let diedAt = 0;
      let started = 0;
      const t0 = Date.now();
      const payOnce = async (hash: string) => {
        const r = await call('POST', `/__admin/transactions/${hash}/pay`, {
          body: JSON.stringify({
            pan: '4405639704015096',
            exp_month: '12',
            exp_year: '2030',
            cvc: '123',
            cardholder: 'CLUSTER',
          }),
          headers: { 'content-type': 'application/json' },
        });
        await r.res.arrayBuffer();
        return r.res.status;
      };
      const worker = async () => {
        while (started < PAYMENTS) {
          started++;
          if (started === KILL_AT && !killedAt) {
            killedAt = Date.now();
            void replicas[1]!.exited.then(() => (diedAt = Date.now()));
            replicas[1]!.child.kill('SIGKILL');
          }
          const c = await create().catch(() => undefined);
          if (!c || c.status !== 200) {
            cutOff++;
            continue;
          }
          accepted.add(c.hash!);
          // A pay cut off by the kill may or may not have happened: ask again (another replica).
          for (let i = 0; i < 3; i++) {
            const s = await payOnce(c.hash!).catch(() => 502);
            if (s === 200) break;
            if (s !== 502 && (await statusOf(c.hash!)) !== 'pending') break;
          }
          paid.add(c.hash!);
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      const loadMs = Date.now() - t0;
      expect((await replicas[1]!.exited).signal).toBe('SIGKILL');
      const killedPid = replicas[1]!.child.pid!;

      // Every accepted payment is in the database, and every one of them reaches completed.
      const deadline = Date.now() + 90_000;
      let notDone: { hash: string; status: string }[] = [];
      for (;;) {
        notDone = await sql<{ hash: string; status: string }[]>`SELECT hash, status FROM transactions
          WHERE hash IN ${sql([...accepted])} AND status <> 'completed'`;
        const open =
          await sql`SELECT 1 FROM deliveries WHERE state NOT IN ('acknowledged', 'failed') LIMIT 1`;
        if ((notDone.length === 0 && open.length === 0) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const [{ n: stored } = { n: 0 }] = await sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM transactions
        WHERE hash IN ${sql([...accepted])}`;
      expect(stored).toBe(accepted.size);
      expect(notDone).toEqual([]);

      const deliveries = (
        await sql<{ doc: string | Delivery }[]>`SELECT doc FROM deliveries
        WHERE transaction_hash IN ${sql([...accepted])}`
      ).map((r) => (typeof r.doc === 'string' ? (JSON.parse(r.doc) as Delivery) : r.doc));
      const byHash = new Map<string, Delivery[]>();
      for (const d of deliveries)
        byHash.set(d.transaction_hash, [...(byHash.get(d.transaction_hash) ?? []), d]);

      const arrivalsOf = new Map<string, Arrival[]>();
      for (const a of receiver.arrivals)
        arrivalsOf.set(a.delivery, [...(arrivalsOf.get(a.delivery) ?? []), a]);

      /*
       * The one at-least-once edge (docs/limitations.md): an attempt the killed replica made, whose
       * answer died with it before the verdict reached the database. Its lease expires and another
       * replica makes that attempt again, under the same number. Such a repeat is allowed only when
       * its first copy arrived before the kill and the second after.
       */
      let lostWithReplica = 0;
      let attempts = 0;
      const replicasSeen = new Set<string>();
      for (const hash of accepted) {
        const ds = byHash.get(hash) ?? [];
        expect(ds.length, `deliveries of ${hash}`).toBe(1);
        const d = ds[0]!;
        expect(d.state, `delivery ${d.id}`).toBe('acknowledged');
        expect(d.attempts.map((a) => a.attempt)).toEqual(d.attempts.map((_, i) => i + 1));
        expect(d.attempts.at(-1)!.verdict).toBe('acknowledged');
        for (const a of d.attempts) replicasSeen.add(a.replica ?? '?');
        attempts += d.attempts.length;

        const got = arrivalsOf.get(d.id) ?? [];
        const numbers = new Map<number, Arrival[]>();
        for (const a of got) numbers.set(a.attempt, [...(numbers.get(a.attempt) ?? []), a]);
        // Every number the receiver saw is a recorded attempt, and every recorded attempt that got
        // an answer reached it. One that got none (a connection refused or timed out on a loaded
        // box) may never have arrived, and then counts as the failure it was recorded as.
        const recorded = new Set(d.attempts.map((a) => a.attempt));
        for (const n of numbers.keys()) expect(recorded.has(n), `attempt ${n} of ${d.id} recorded`).toBe(true);
        for (const a of d.attempts)
          if (a.response_status !== null)
            expect(numbers.has(a.attempt), `answered attempt ${a.attempt} of ${d.id} received`).toBe(true);
        for (const [n, copies] of numbers) {
          if (copies.length === 1) continue;
          expect(copies.length, `attempt ${n} of ${d.id}`).toBe(2);
          const why = JSON.stringify({
            killedAt,
            diedAt,
            copies,
            attempts: d.attempts.map((a) => [a.attempt, a.at, a.replica]),
          });
          // The first copy left the killed replica around the kill (a request already on the wire
          // reaches the receiver a moment after the signal); the second came from a survivor.
          expect(copies[0]!.at, why).toBeGreaterThanOrEqual(killedAt - CALLBACK_TIMEOUT_MS);
          expect(copies[0]!.at, why).toBeLessThanOrEqual(diedAt + 1_000);
          expect(copies[1]!.at, why).toBeGreaterThan(diedAt);
          expect(d.attempts[n - 1]!.replica, why).not.toContain(`/${killedPid}/`);
          lostWithReplica++;
        }
        // Acknowledged once as the sandbox saw it: the last recorded attempt. The receiver may
        // have acknowledged an earlier one whose answer did not reach the sender whole (past the
        // 2 s callback timeout on a loaded box): that attempt is recorded as failed, and retrying
        // it is the documented behaviour. (An answer lost with the killed replica is the repeated
        // number above.)
        const recordedAcks = d.attempts.filter((a) => a.verdict === 'acknowledged');
        expect(recordedAcks.map((a) => a.attempt), `acknowledged attempts of ${d.id}`).toEqual([
          d.attempts.length,
        ]);
        for (const a of got.filter((x) => x.acknowledged && x.attempt !== d.attempts.length)) {
          const rec = d.attempts[a.attempt - 1]!;
          const why = JSON.stringify({ arrival: a, recorded: rec });
          expect(rec.verdict, why).toBe('failed');
          expect(rec.reason, why).toMatch(/timeout|reset|closed|hang up/i);
        }
      }
      // At most what one replica can have in flight at once (callbacks.concurrency defaults to 16).
      expect(lostWithReplica).toBeLessThanOrEqual(16);
      expect(replicasSeen.size).toBeGreaterThanOrEqual(3); // the killed replica's attempts, and two survivors'
      expect(receiver.arrivals.filter((a) => !a.acknowledged).length).toBeGreaterThan(PAYMENTS * 0.05);
      console.info(
        `cluster: ${accepted.size} payments accepted and completed (${cutOff} cut off by the kill) in ${loadMs} ms; ` +
          `${attempts} recorded attempts, ${receiver.arrivals.length} received, ` +
          `${receiver.arrivals.filter((a) => !a.acknowledged).length} refused by the receiver; ` +
          `${lostWithReplica} attempt(s) repeated because their answer died with the killed replica; ` +
          `replicas served ${front.served.join('/')} requests`,
      );
      expect(paid.size).toBe(accepted.size);
    },
    300_000,
  );
});
