import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStream, type EventStream } from '../helpers/event-stream.js';
import { foreignRuntime } from '../helpers/foreign-runtime.js';
import {
  findPostgresBin,
  POSTGRES_RUNTIME,
  startPostgres,
  type PostgresServer,
} from '../helpers/postgres-server.js';
import { API, APP_ID, orderPayload, seal } from '../helpers/sandbox.js';
import { startSandboxProcess, type SandboxProcess } from '../helpers/sandbox-process.js';

/**
 * Issue 17 §4: the dashboard's live list shows events from every replica. Two `serve` processes on
 * one PostgreSQL database; the dashboard's event stream is open on the first, every write is made
 * on the second, and the stream must name it (LISTEN/NOTIFY between the replicas).
 */

const pgBin = findPostgresBin();
const withPostgres = foreignRuntime(POSTGRES_RUNTIME, 'Live events across replicas', pgBin !== undefined);

describe.skipIf(!withPostgres)('the dashboard live list across two replicas', () => {
  let pg: PostgresServer;
  let replicas: SandboxProcess[] = [];
  let stream: EventStream | undefined;

  beforeAll(async () => {
    pg = await startPostgres({ bin: pgBin! });
    const url = await pg.createDatabase('live_events');
    replicas = await Promise.all(
      [0, 1].map(() => startSandboxProcess({ STORE: url, CLEARING_DELAY_MS: 'manual' })),
    );
  }, 120_000);

  afterAll(async () => {
    await stream?.close();
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
    await pg?.stop();
  }, 60_000);

  const changes = (s: EventStream) =>
    s.events
      .filter((e) => e.event === 'change')
      .map((e) => JSON.parse(e.data) as { kinds: string[]; hashes: string[] | null });

  it('names a payment created, paid and cleared on the other replica, and a merchant made and purged there', async () => {
    const [a, b] = replicas as [SandboxProcess, SandboxProcess];
    stream = await openEventStream(`${a.url}/__admin/ui/events`);
    expect(stream.status).toBe(200);
    await stream.waitFor((e) => e.event === 'ready');

    const created = await fetch(`${b.url}${API}/payment`, {
      method: 'POST',
      headers: { 'auth-identifier': APP_ID, 'content-type': 'text/plain' },
      body: await seal(orderPayload()),
    });
    expect(created.status).toBe(200);
    const hash = ((await created.json()) as { payload: { transaction_hash: string } }).payload
      .transaction_hash;
    const named = (kind: string) => (e: { event: string; data: string }) => {
      if (e.event !== 'change') return false;
      const c = JSON.parse(e.data) as { kinds: string[]; hashes: string[] | null };
      return c.kinds.includes(kind) && (c.hashes === null || c.hashes.includes(hash));
    };
    await stream.waitFor(named('transaction'), 10_000);
    await stream.waitFor(named('journal'), 10_000);

    const seen = stream.events.length;
    const paid = await fetch(`${b.url}/__admin/transactions/${hash}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pan: '4405 6397 0401 5096', exp_month: 12, exp_year: 30, cvc: '123' }),
    });
    expect(paid.status, await paid.text()).toBe(200);
    const cleared = await fetch(`${b.url}/__admin/transactions/${hash}/clear`, { method: 'POST' });
    expect(cleared.status).toBe(200);
    await stream.waitFor((e) => stream!.events.indexOf(e) >= seen && named('transaction')(e), 10_000);

    const merchant = await fetch(`${b.url}/__admin/merchants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Shop on B',
        domains: ['b.kz'],
        public_key: '0X/Tkqu9KnZDgKEJb7LUgoIFOrZgvk2Z4XPYoLvVC3Y=',
        ttl: 3600,
      }),
    });
    const appId = ((await merchant.json()) as { app_id: string }).app_id;
    await stream.waitFor(
      (e) => e.event === 'change' && JSON.parse(e.data).kinds.includes('merchant'),
      10_000,
    );
    expect((await fetch(`${b.url}/__admin/merchants/${appId}`, { method: 'DELETE' })).status).toBe(200);
    await stream.waitFor((e) => e.event === 'change' && JSON.parse(e.data).kinds.includes('purge'), 10_000);

    // Replica A served none of it: every change it streamed came from B.
    expect(changes(stream).length).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
