import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { Delivery } from '../../mock-server/callbacks/delivery.js';
import type { StatusError } from '../../mock-server/payments/transaction.js';

/** One request a receiver saw. `t` is wall-clock ms (performance.now) at arrival. */
export interface Received {
  t: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type Answer = (req: IncomingMessage, res: ServerResponse, n: number) => void;

export const answers = {
  ok: ((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  }) as Answer,
  wrongBody: ((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"received"}');
  }) as Answer,
  serverError: ((_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
  }) as Answer,
  reset: ((req) => {
    req.socket.destroy();
  }) as Answer,
  /** Never answers (until the receiver closes). */
  hang: (() => undefined) as Answer,
};

/** A real HTTP receiver on 127.0.0.1, port 0, that records every request and answers with `answer`. */
export async function startReceiver(answer: Answer = answers.ok) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      received.push({
        t: performance.now(),
        method: req.method ?? '',
        url: req.url ?? '',
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      answer(req, res, received.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}/ktpay/callback`,
    received,
    /** Waits until `n` requests have arrived (polls; fails after `ms`). */
    async waitFor(n: number, ms = 10_000) {
      const until = performance.now() + ms;
      while (received.length < n) {
        if (performance.now() > until)
          throw new Error(`receiver saw ${received.length} requests, expected ${n}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export const KKB_REJECTED: StatusError = {
  error_type: 'ERROR_PAYMENT',
  error_message: 'KKB rejected payment',
  code: '05',
};

/** Drives a transaction to `error` through the state machine. */
export async function failPayment(app: FastifyInstance, hash: string) {
  return await app.sandbox.payments.apply(hash, {
    type: 'fail',
    at: app.sandbox.clock.now(),
    status: 'error',
    error: KKB_REJECTED,
  });
}

/** Drives a transaction to `completed`: authorize, confirm, clear. */
export async function completePayment(app: FastifyInstance, hash: string) {
  const { payments, clock } = app.sandbox;
  await payments.apply(hash, { type: 'authorize', at: clock.now(), card: null });
  await payments.apply(hash, { type: 'confirm', at: clock.now() });
  return await payments.apply(hash, { type: 'clear', at: clock.now() });
}

/** Polls the outbox until `pick` finds a delivery in a closed or wanted state (real time). */
export async function waitForDelivery(
  app: FastifyInstance,
  id: string,
  done: (d: Delivery) => boolean,
  ms = 10_000,
): Promise<Delivery> {
  const until = performance.now() + ms;
  for (;;) {
    const d = await app.sandbox.callbacks.get(id);
    if (d && done(d)) return d;
    if (performance.now() > until)
      throw new Error(`delivery ${id} did not get there: ${JSON.stringify(d?.state)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The single delivery of a transaction (fails if there is not exactly one). */
export async function onlyDelivery(app: FastifyInstance, hash: string): Promise<Delivery> {
  const list = await app.sandbox.callbacks.list({ transaction_hash: hash });
  if (list.length !== 1) throw new Error(`expected exactly one delivery for ${hash}, found ${list.length}`);
  return list[0]!;
}
