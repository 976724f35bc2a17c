import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createManualClock, type ManualClock } from '../../../mock-server/shared/clock.js';
import { startReceiver, type Receiver } from '../../callbacks/receiver.js';
import { openEventStream, type EventStream } from '../../helpers/event-stream.js';
import { buildTestApp } from '../../helpers/sandbox.js';
import { FuzzViolation, noDns } from '../fuzz-harness.js';

/** What the event stream must name: a transaction changed by a command, and where the stream stood before it. */
interface StreamExpectation {
  hash: string;
  from: number;
  since: number;
}

const STREAM_KINDS = new Set(['transaction', 'delivery', 'journal', 'merchant', 'purge', 'reset']);

export type StoreKind = 'memory' | 'sqlite';

/** The journal ring of the fuzzed sandbox: small, so sequences also cross its rotation. */
export const FUZZ_JOURNAL_SIZE = 40;

/**
 * The real system of the stateful fuzz: one sandbox app (memory or SQLite store) reached only
 * through HTTP — `inject()` for requests, a real socket for the dashboard's event stream — plus a
 * local callback receiver. It lives across sequences (`POST /__admin/reset` between them); a
 * restart closes the app and builds a new one on the same SQLite file, as a process restart would.
 */
export class SandboxUnderTest {
  app!: FastifyInstance;
  stream!: EventStream;
  clock!: ManualClock;
  /** Requests made, by HTTP status class, for the report. */
  readonly tally: Record<string, number> = {};
  private readonly dir = mkdtempSync(join(tmpdir(), 'ktpay-stateful-'));
  private receiver!: Receiver;
  private receiverAnswers = 0;
  private expected: StreamExpectation[] = [];
  private checkedEvents = 0;

  constructor(readonly kind: StoreKind) {}

  get receiverUrl(): string {
    return this.receiver.url;
  }

  /** A callback URL in the default merchant's domains that never answers (no DNS in the fuzz). */
  readonly unreachableUrl = 'http://localhost/ktpay/unreachable';

  async start(): Promise<void> {
    // The receiver mostly acknowledges; every few answers it fails, answers oddly or with headers
    // named like prototype properties, so the attempt logs hold every kind of answer.
    this.receiver ??= await startReceiver((_req, res) => {
      const n = ++this.receiverAnswers;
      if (n % 7 === 0) res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      else if (n % 11 === 0) {
        res.setHeader('constructor', 'c');
        res.setHeader('__proto__', 'p');
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(`{"status":"ok","deep":${'['.repeat(5_000)}${']'.repeat(5_000)}}`);
      } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    this.clock = createManualClock(this.clock?.now() ?? Date.parse('2026-05-01T06:00:00Z'));
    this.app = await buildTestApp(
      {
        clearing_delay_ms: 'manual',
        journal_size: FUZZ_JOURNAL_SIZE,
        ...(this.kind === 'sqlite' ? { store: `sqlite:${join(this.dir, 'fuzz.db')}` } : {}),
      },
      { clock: this.clock, callbackResolver: noDns },
    );
    const base = await this.app.listen({ port: 0, host: '127.0.0.1' });
    this.stream = await openEventStream(`${base}/__admin/ui/events`);
    this.checkedEvents = 0;
    if (this.stream.status !== 200 || !this.stream.contentType.startsWith('text/event-stream'))
      throw new Error(`event stream answered ${this.stream.status} ${this.stream.contentType}`);
  }

  async stop(): Promise<void> {
    await this.drainStream();
    await this.stream.close();
    await this.app.close();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    await this.receiver.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The event stream's position; a command takes it before it runs, so no event can slip past. */
  streamMark(): number {
    return this.stream.events.length;
  }

  /** The stream must name `hash` in a change event after position `from`. */
  expectChange(hash: string, from: number): void {
    this.expected.push({ hash, from, since: Date.now() });
  }

  private named(e: StreamExpectation): boolean {
    return this.stream.events.slice(e.from).some((ev) => {
      if (ev.event !== 'change') return false;
      const data = JSON.parse(ev.data) as { hashes: string[] | null };
      return data.hashes === null || data.hashes.includes(e.hash);
    });
  }

  /**
   * The stream is open, every event is well-formed, and every change older than `deadlineMs` has
   * been named (changes are sent in bursts, 60 ms after the first: waiting for each would slow
   * the fuzz ten-fold, so they are checked as they come and at the end).
   */
  checkStream(deadlineMs: number): void {
    if (this.stream.ended) throw new FuzzViolation('the dashboard event stream ended');
    for (; this.checkedEvents < this.stream.events.length; this.checkedEvents++) {
      const ev = this.stream.events[this.checkedEvents]!;
      if (ev.event === 'ready') continue;
      let data: { kinds?: unknown; hashes?: unknown };
      try {
        data = JSON.parse(ev.data) as typeof data;
      } catch {
        throw new FuzzViolation(
          `event stream: ${ev.event} event with data that is not JSON: ${ev.data.slice(0, 200)}`,
        );
      }
      const kinds = data.kinds;
      if (
        ev.event !== 'change' ||
        !Array.isArray(kinds) ||
        !kinds.every((k) => STREAM_KINDS.has(k as string))
      )
        throw new FuzzViolation(`event stream: unexpected event ${ev.event} ${ev.data.slice(0, 200)}`);
      if (
        data.hashes !== null &&
        !(Array.isArray(data.hashes) && data.hashes.every((h) => /^[0-9a-f]{40}$/.test(h as string)))
      )
        throw new FuzzViolation(`event stream: bad hashes ${ev.data.slice(0, 200)}`);
    }
    const now = Date.now();
    this.expected = this.expected.filter((e) => {
      if (this.named(e)) return false;
      if (now - e.since > deadlineMs)
        throw new FuzzViolation(`event stream: no change event named ${e.hash} within ${deadlineMs} ms`);
      return true;
    });
  }

  /** Waits until the stream has named every change so far (before a restart, and at the end). */
  async drainStream(ms = 10_000): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      this.checkStream(ms);
      if (this.expected.length === 0) return;
      if (Date.now() > until)
        throw new FuzzViolation(`event stream: ${this.expected.length} changes never named`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async request(opts: InjectOptions): Promise<LightMyRequestResponse> {
    const res = await this.app.inject(opts);
    const cls = `${String(res.statusCode)[0]}xx`;
    this.tally[cls] = (this.tally[cls] ?? 0) + 1;
    return res;
  }
}
