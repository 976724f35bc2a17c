import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../mock-server/store/sqlite-store.js';
import { API, APP_ID, orderPayload, seal } from '../helpers/sandbox.js';
import { startCallbackReceiver, type CallbackReceiver } from './callback-receiver.js';

/**
 * The crash test of issue 5: a real `ktpay-mock serve` child process on STORE=sqlite, killed with
 * SIGKILL while creates and cancels are in flight and callbacks are pending, then restarted on the
 * same file. Nothing that was answered 200 may be lost, and every pending callback must then be
 * delivered exactly once more.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ktpay-kill9-'));
const dbPath = join(dir, 'data', 'ktpay.db');
const configPath = join(dir, 'ktpay-mock.json');
const children: ChildProcess[] = [];
let receiver: CallbackReceiver;

interface Sandbox {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node --import tsx mock-server/cli.ts serve` on a free port and waits for its banner. */
async function startSandbox(): Promise<Sandbox> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'mock-server/cli.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      STORE: `sqlite:${dbPath}`,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      KTPAY_MOCK_CONFIG: configPath,
      CLEARING_DELAY_MS: 'manual',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  let output = '';
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`sandbox did not start within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const m = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`sandbox exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return { child, url, exited };
}

async function post(url: string, body: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'auth-identifier': APP_ID, 'content-type': 'text/plain' },
    body,
  });
  return { status: res.status, json: (await res.json()) as { payload?: { transaction_hash: string } } };
}

beforeAll(async () => {
  receiver = await startCallbackReceiver();
  writeFileSync(
    configPath,
    JSON.stringify({
      default_merchant: { callback_post_url: receiver.url, notify_on: ['cancelled'] },
      // Short retries, but enough of them that no callback runs out before the restart.
      callbacks: { schedule_ms: [300, 600, 1000, 1000, 1000, 1000, 1000] },
    }),
  );
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('kill -9 under load with STORE=sqlite, then restart', () => {
  it('loses no payment that got a 200 and delivers every pending callback exactly once more', async () => {
    const first = await startSandbox();
    receiver.mode = 'fail'; // every callback before the crash is refused, so all of them stay pending

    const created = new Map<string, string>(); // hash → order_id, for every create answered 200
    const cancelled = new Set<string>(); // every cancel answered 200
    let inFlightErrors = 0;
    let killed = false;
    const KILL_AFTER = 150;

    const worker = async () => {
      while (!killed) {
        const payload = orderPayload({ amount: 1000 + created.size });
        const order_id = (payload.order as { order_id: string }).order_id;
        try {
          const body = await seal(payload);
          const res = await post(`${first.url}${API}/payment`, body);
          if (res.status !== 200)
            throw new Error(`create answered ${res.status}: ${JSON.stringify(res.json)}`);
          const hash = res.json.payload!.transaction_hash;
          created.set(hash, order_id);
          if (created.size >= KILL_AFTER && !killed) {
            killed = true;
            first.child.kill('SIGKILL'); // mid-load: the other workers have requests in flight
          }
          if (created.size % 2 === 0) {
            const c = await post(`${first.url}${API}/payment/${hash}/cancel`, '');
            if (c.status === 200) cancelled.add(hash);
          }
        } catch (err) {
          if (!killed) throw err;
          inFlightErrors++;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(created.size).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(cancelled.size).toBeGreaterThan(20);
    expect(receiver.acknowledged.size).toBe(0);
    const refusedBeforeCrash = receiver.received.length;
    console.info(
      `kill -9: ${created.size} creates and ${cancelled.size} cancels answered 200, ${inFlightErrors} requests cut off, ` +
        `${refusedBeforeCrash} callback attempts refused before the crash`,
    );

    // ── restart on the same file; the merchant now acknowledges ────────────────────────────────
    receiver.mode = 'ok';
    const second = await startSandbox();
    try {
      // Every payment that got a 200 is there.
      const health = (await (await fetch(`${second.url}/__admin/health`)).json()) as {
        store: string;
        transactions: number;
      };
      expect(health.store).toBe('sqlite');
      expect(health.transactions).toBeGreaterThanOrEqual(created.size);
      const hashes = [...created.keys()];
      for (let i = 0; i < hashes.length; i += 25) {
        const statuses = await Promise.all(
          hashes
            .slice(i, i + 25)
            .map(async (h) => (await fetch(`${second.url}/__admin/transactions/${h}/callbacks`)).status),
        );
        expect(statuses.every((s) => s === 200)).toBe(true);
      }

      // Every cancel that got a 200 had a callback pending; each is delivered once after the restart.
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && [...cancelled].some((h) => !receiver.acknowledged.has(h))) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1500)); // time for any duplicate to show up
      for (const h of cancelled) expect(receiver.acknowledged.get(h), `callbacks for ${h}`).toBe(1);
      for (const [h, n] of receiver.acknowledged) {
        expect(n, `callbacks for ${h}`).toBe(1);
        expect(created.has(h), `${h} was only ever cancelled after a create answered 200`).toBe(true);
      }
      const open = (await (await fetch(`${second.url}/__admin/callbacks?limit=9999`)).json()) as {
        total: number;
        deliveries: { state: string; transaction_hash: string }[];
      };
      expect(open.deliveries.filter((d) => d.state !== 'acknowledged')).toEqual([]);
      expect(open.total).toBe(receiver.acknowledged.size);
      console.info(`after restart: ${receiver.acknowledged.size} callbacks delivered, once each`);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }

    // The file itself, opened directly: the statuses the replies announced.
    const store = createSqliteStore({ path: dbPath, journalSize: 1000 });
    try {
      for (const [hash, order_id] of created) {
        const tx = await store.getTransaction(hash);
        expect(tx?.order_id).toBe(order_id);
        expect((await store.findTransactionByOrder(APP_ID, order_id))?.hash).toBe(hash);
        if (cancelled.has(hash)) expect(tx?.status).toBe('cancelled');
      }
    } finally {
      await store.close();
    }
  }, 120_000);
});
