import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';

/** How the receiver answers: acknowledge, hold every request until `release()`, or fail a share of attempts. */
export type ReceiverMode = { kind: 'ack' } | { kind: 'gate' } | { kind: 'fail'; rate: number; seed: number };

export interface DeliverySeen {
  hash: string;
  /** Every `X-Ktpay-Attempt` received for this delivery id, in arrival order. */
  attempts: number[];
  /** How many of those attempts were answered with the ack. */
  acks: number;
  /** How many were answered with a failure on purpose. */
  failures: number;
  /** performance.now() of the acknowledged attempt's arrival. */
  ackedAt: number | undefined;
}

const ACK = '{"status":"ok"}';

/** A small deterministic PRNG (mulberry32), so the failing run repeats. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The merchant's callback endpoint for the bench: records every attempt by `X-Ktpay-Delivery-Id`
 * and answers per the current mode. One receiver serves the whole run (its URL is sealed into the
 * orders); `reset()` starts a new phase.
 *
 * @example
 * const rx = await startCallbackReceiver();
 * rx.reset({ kind: 'ack' });
 * await rx.waitForAcks(10_000, 60_000);
 */
export async function startCallbackReceiver() {
  let mode: ReceiverMode = { kind: 'ack' };
  let rand = () => 1;
  let seen = new Map<string, DeliverySeen>();
  let held: Array<() => void> = [];
  let ackedCount = 0;
  let requestCount = 0;
  let malformed = 0;
  let waiter: { n: number; resolve: () => void } | undefined;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const arrived = performance.now();
      requestCount++;
      const id = String(req.headers['x-ktpay-delivery-id'] ?? '');
      const attempt = Number(req.headers['x-ktpay-attempt'] ?? 0);
      const m = /"transaction_hash":"([0-9a-f]{40})"/.exec(Buffer.concat(chunks).toString('utf8'));
      if (!id || !m) {
        malformed++;
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"status":"bad request"}');
        return;
      }
      let d = seen.get(id);
      if (!d) {
        d = { hash: m[1]!, attempts: [], acks: 0, failures: 0, ackedAt: undefined };
        seen.set(id, d);
      }
      d.attempts.push(attempt);
      const entry = d;
      const ack = () => {
        entry.acks++;
        if (entry.ackedAt === undefined) {
          entry.ackedAt = arrived;
          ackedCount++;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(ACK);
        if (waiter && ackedCount >= waiter.n) {
          const w = waiter;
          waiter = undefined;
          w.resolve();
        }
      };
      if (mode.kind === 'gate') {
        held.push(ack);
      } else if (mode.kind === 'fail' && rand() < mode.rate) {
        entry.failures++;
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"status":"error"}');
      } else {
        ack();
      }
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    url: `http://127.0.0.1:${port}/ktpay/callback`,
    /** Starts a new phase: forget what was seen, answer per `next`. */
    reset(next: ReceiverMode) {
      mode = next;
      rand = next.kind === 'fail' ? prng(next.seed) : () => 1;
      seen = new Map();
      held = [];
      ackedCount = 0;
      requestCount = 0;
      malformed = 0;
      waiter = undefined;
    },
    /** Gate mode: answer everything held, then acknowledge on arrival. Returns performance.now(). */
    release(): number {
      mode = { kind: 'ack' };
      const at = performance.now();
      const pending = held;
      held = [];
      for (const answer of pending) answer();
      return at;
    },
    heldCount: () => held.length,
    /** Resolves once `n` distinct deliveries are acknowledged; rejects after `timeoutMs`. */
    waitForAcks(n: number, timeoutMs: number): Promise<void> {
      if (ackedCount >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(
            new Error(
              `callback receiver: ${ackedCount} of ${n} deliveries acknowledged after ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    seen: () => seen,
    stats: () => ({ requests: requestCount, acknowledged: ackedCount, malformed }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type CallbackReceiver = Awaited<ReturnType<typeof startCallbackReceiver>>;
