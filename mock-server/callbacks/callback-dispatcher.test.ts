import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Merchant } from '../merchants/merchant.js';
import * as undici from 'undici';
import { createCallbackDispatcher, undiciAgentOf, type CallbackDispatcher } from './callback-dispatcher.js';
import { RESPONSE_BODY_LOG_LIMIT, type Delivery } from './delivery.js';

/*
 * The dispatcher on its own, against real local receivers: what one attempt sends, and how each
 * kind of answer (or its absence) becomes an outcome. The outbox-level cases (schedule, states,
 * admin routes) live in test/callbacks.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];
const dispatchers: CallbackDispatcher[] = [];

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.close()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

/** A receiver on 127.0.0.1:0; records each request's headers, body and socket. */
async function receiver(handle: Handler) {
  const seen: Array<{ headers: IncomingMessage['headers']; body: Buffer; port: number }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks), port: req.socket.remotePort ?? 0 });
      handle(req, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/cb?shop=1`, seen };
}

function dispatcher(timeoutMs = 2_000) {
  const d = createCallbackDispatcher({ timeoutMs, allowHosts: [] });
  dispatchers.push(d);
  return d;
}

const merchant = {
  app_id: 'app-dispatch',
  domains: ['127.0.0.1'],
} as Merchant;

function delivery(url: string, id = 'dlv_test'): Delivery {
  return {
    id,
    transaction_hash: 'a'.repeat(40),
    app_id: merchant.app_id,
    url,
    body: '{"order_id":"7","description":"Заказ №7: тестовый товар","amount":1000}',
    status: 'completed',
    state: 'pending',
    created_at: 0,
    next_attempt_at: 0,
    attempts: [],
    note: null,
  };
}

const ack: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
};

describe('callback dispatcher: one attempt', () => {
  it('POSTs the exact body bytes with their UTF-8 length and the delivery headers, to path and query', async () => {
    const rx = await receiver(ack);
    const d = delivery(rx.url);
    const out = await dispatcher().send(d, merchant, 3);
    expect(out).toMatchObject({ sent: true, acknowledged: true, response_status: 200, aborted: false });
    expect(out.reason).toBe('acknowledged: 200 application/json {"status":"ok"}');
    const got = rx.seen[0]!;
    expect(got.body.equals(Buffer.from(d.body, 'utf8'))).toBe(true);
    expect(got.headers['content-length']).toBe(String(Buffer.byteLength(d.body)));
    expect(Number(got.headers['content-length'])).toBeGreaterThan(d.body.length); // Cyrillic: bytes ≠ chars
    expect(got.headers['x-ktpay-delivery-id']).toBe('dlv_test');
    expect(got.headers['x-ktpay-attempt']).toBe('3');
    expect(got.headers['content-type']).toBe('application/json');
    expect(out.request_headers['content-length']).toBe(got.headers['content-length']);
  });

  it('keeps connections to a receiver alive across attempts', async () => {
    const rx = await receiver(ack);
    const dsp = dispatcher();
    for (let i = 0; i < 6; i++)
      expect((await dsp.send(delivery(rx.url), merchant, i + 1)).acknowledged).toBe(true);
    // undici may open a second socket while the first is finishing its answer, never one per attempt.
    expect(new Set(rx.seen.map((s) => s.port)).size).toBeLessThanOrEqual(2);
  });

  it('logs response headers with lower-case names, a repeated header joined with ", "', async () => {
    const rx = await receiver((_req, res) => {
      res.setHeader('X-Trace', ['one', 'two']);
      res.setHeader('Content-Type', 'application/json');
      res.writeHead(200).end('{"status":"ok"}');
    });
    const out = await dispatcher().send(delivery(rx.url), merchant, 1);
    expect(out.acknowledged).toBe(true);
    expect(out.response_headers?.['x-trace']).toBe('one, two');
    expect(out.response_headers?.['content-type']).toBe('application/json');
  });

  it('judges the final answer after an informational 103', async () => {
    const rx = await receiver((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      ack(_req, res);
    });
    const out = await dispatcher().send(delivery(rx.url), merchant, 1);
    expect(out).toMatchObject({ acknowledged: true, response_status: 200 });
  });

  it('fails an answer larger than 64 KiB, logs its clipped start, and drops only that connection', async () => {
    let big = true;
    const rx = await receiver((_req, res) => {
      if (big) {
        big = false;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"status":"ok","pad":"${'x'.repeat(200_000)}"}`);
      } else ack(_req, res);
    });
    const dsp = dispatcher();
    const out = await dsp.send(delivery(rx.url), merchant, 1);
    expect(out).toMatchObject({ sent: true, acknowledged: false, response_status: 200, aborted: false });
    expect(out.reason).toBe('answered 200 with a body larger than 65536 bytes');
    expect(out.response_body?.startsWith('{"status":"ok","pad":"xxx')).toBe(true);
    expect(out.response_body).toHaveLength(RESPONSE_BODY_LOG_LIMIT + 1);
    const again = await dsp.send(delivery(rx.url), merchant, 2);
    expect(again.acknowledged).toBe(true);
    expect(rx.seen[1]!.port).not.toBe(rx.seen[0]!.port);
  });

  it('times out a receiver that never answers', async () => {
    const rx = await receiver(() => undefined);
    const out = await dispatcher(300).send(delivery(rx.url), merchant, 1);
    expect(out).toMatchObject({ sent: true, acknowledged: false, aborted: false, response_status: null });
    expect(out.reason).toBe(`no complete answer from ${new URL(rx.url).host} within 300 ms (timeout)`);
    expect(out.latency_ms).toBeGreaterThanOrEqual(290);
  });

  it('times out a body that stops half-way, and says the status had arrived', async () => {
    const rx = await receiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    });
    const out = await dispatcher(300).send(delivery(rx.url), merchant, 1);
    expect(out).toMatchObject({ acknowledged: false, aborted: false, response_status: 200 });
    expect(out.reason).toMatch(/within 300 ms \(timeout; status 200 had arrived\)$/);
  });

  it('abortAll cuts an attempt in flight short as "aborted", not as a verdict on the receiver', async () => {
    const rx = await receiver(() => undefined);
    const dsp = dispatcher(5_000);
    const pending = dsp.send(delivery(rx.url), merchant, 1);
    while (rx.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    dsp.abortAll();
    const out = await pending;
    expect(out).toMatchObject({ aborted: true, acknowledged: false, reason: 'cut short by shutdown' });
  });

  it('refuses a URL outside the merchant domains without sending anything', async () => {
    const rx = await receiver(ack);
    const out = await dispatcher().send(delivery(rx.url.replace('127.0.0.1', 'localhost')), merchant, 1);
    expect(out).toMatchObject({ sent: false, blocked: true, acknowledged: false });
    expect(out.reason).toMatch(/^blocked: host localhost is not inside merchant app-dispatch's domains/);
    expect(rx.seen).toHaveLength(0);
  });

  it('refuses text that is not a URL', async () => {
    const out = await dispatcher().send(delivery('not a url'), merchant, 1);
    expect(out).toMatchObject({ sent: false, blocked: true });
    expect(out.reason).toBe('blocked: "not a url" is not a valid URL; nothing was sent');
  });
});

describe('undiciAgentOf: loading undici lazily', () => {
  it('finds Agent among named exports (Node) and under default only (the esbuild bundle)', () => {
    expect(undiciAgentOf(undici)).toBe(undici.Agent);
    expect(undiciAgentOf({ default: { Agent: undici.Agent } })).toBe(undici.Agent);
  });

  it('refuses a module without an Agent, so the attempt fails with a reason instead of a TypeError', () => {
    expect(() => undiciAgentOf({ default: {} })).toThrow('the module has no Agent export');
    expect(() => undiciAgentOf(null)).toThrow('no Agent export');
  });
});
