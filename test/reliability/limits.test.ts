import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { loadConfig } from '../../mock-server/config/load-config.js';
import { cryptoReady, generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { createManualClock } from '../../mock-server/shared/clock.js';
import { answers, failPayment, startReceiver, type Receiver } from '../callbacks/receiver.js';
import {
  API,
  APP_ID,
  buildTestApp,
  createPayment,
  orderPayload,
  postCreate,
  seal,
  testConfig,
} from '../helpers/sandbox.js';

/**
 * Issue 11 §7: every limit the sandbox enforces, each at its boundary — body size, header size
 * (on a real socket: Node's parser enforces it), journal size, outbox size and the per-merchant
 * rate limit (off by default).
 */

const registry = createSchemaRegistry();
const apps: FastifyInstance[] = [];
const servers: RunningServer[] = [];
const receivers: Receiver[] = [];

afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  for (const s of servers.splice(0)) await s.close();
  for (const r of receivers.splice(0)) await r.close();
});

async function app(
  flags: Parameters<typeof buildTestApp>[0] = {},
  opts: Parameters<typeof buildTestApp>[1] = {},
) {
  const a = await buildTestApp(flags, opts);
  apps.push(a);
  return a;
}

/** Sends raw bytes on a fresh TCP connection and returns everything the server wrote back. */
function rawRequest(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' && out ? resolve(out) : reject(err),
    );
    socket.on('close', () => resolve(out));
    socket.write(request);
  });
}

function getWithHeader(url: string, headerBytes: number): Promise<string> {
  return rawRequest(
    url,
    `GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(headerBytes)}\r\nConnection: close\r\n\r\n`,
  );
}

describe('body size (BODY_LIMIT)', () => {
  it('accepts a body at the limit and answers one byte more with 413 / 4130120 on the API and the pages', async () => {
    const a = await app({ body_limit: 2048 });
    const atLimit = await postCreate(a, '!'.repeat(2048));
    expect(atLimit.statusCode).toBe(422); // read and judged: not base64 of a sealed box
    expect(atLimit.json().error.code).toBe(4220101);
    const over = await postCreate(a, '!'.repeat(2049));
    expect(over.statusCode).toBe(413);
    expect(over.json().error.code).toBe(4130120);
    expect(registry.validator('referenceError')(over.json())).toBe(true);

    const form = await a.inject({
      method: 'POST',
      url: '/acquirer/payform',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `pan=${'4'.repeat(3000)}`,
    });
    expect(form.statusCode).toBe(413);
    expect(form.headers['content-type']).toContain('text/html');
    expect(form.body).toContain('data-testid="error-code">4130120<');
    expect(await a.sandbox.store.countTransactions()).toBe(0);
  });
});

describe('header size (MAX_HEADER_SIZE), on a real socket', () => {
  it('defaults to 16 KiB: 15 KB of headers pass, 17 KB get 431 with 4310126', async () => {
    expect(testConfig().max_header_size).toBe(16_384);
    const s = await startServer(testConfig({ port: 0 }), { logger: false });
    servers.push(s);
    expect(await getWithHeader(s.url, 15_000)).toMatch(/^HTTP\/1\.1 200 /);
    const refused = await getWithHeader(s.url, 17_000);
    expect(refused).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    const body = JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4)) as {
      error: { code: number; hint: string };
    };
    expect(registry.validator('referenceError')(body)).toBe(true);
    expect(body.error.code).toBe(4310126);
    expect(body.error.hint).toContain('exceed 16384 bytes');
  });

  it('MAX_HEADER_SIZE=4096 lowers the bound; the widget default dialect answers in its envelope', async () => {
    const config = testConfig({ port: 0 }, { MAX_HEADER_SIZE: '4096', ENVELOPE: 'widget' });
    expect(config.max_header_size).toBe(4096);
    const s = await startServer(config, { logger: false });
    servers.push(s);
    expect(await getWithHeader(s.url, 3_000)).toMatch(/^HTTP\/1\.1 200 /);
    const refused = await getWithHeader(s.url, 5_000);
    expect(refused).toMatch(/^HTTP\/1\.1 431 /);
    const body = JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4)) as unknown;
    expect(registry.validator('widgetError')(body)).toBe(true);
    expect(body).toMatchObject({ error: { code: 4310126 } });
    // The server is unharmed: the next request on a new connection is served.
    expect((await fetch(`${s.url}/__admin/health`)).status).toBe(200);
  });

  it('rejects an out-of-range MAX_HEADER_SIZE at startup', () => {
    expect(() => loadConfig({ env: { MAX_HEADER_SIZE: '100' } })).toThrow(
      /max_header_size must be >= 1024 \(from environment variable MAX_HEADER_SIZE\)/,
    );
  });
});

describe('journal size (JOURNAL_SIZE)', () => {
  for (const store of ['memory', 'sqlite::memory:']) {
    it(`keeps exactly the newest JOURNAL_SIZE entries (${store})`, async () => {
      const a = await app({ journal_size: 5, store });
      for (let i = 0; i < 12; i++) {
        await a.inject({
          method: 'POST',
          url: `${API}/payment`,
          headers: { 'auth-identifier': APP_ID },
          payload: `bad-${i}`,
        });
      }
      const entries = (await a.inject({ url: '/__admin/journal?limit=1000' })).json().entries as {
        id: number;
        path: string;
      }[];
      expect(entries).toHaveLength(5);
      expect(entries.map((e) => e.id)).toEqual([12, 11, 10, 9, 8]);
    });
  }
});

describe('outbox size (callbacks.max_pending)', () => {
  it('holds at most max_pending open deliveries; the rest are recorded failed with a note and never sent', async () => {
    const receiver = await startReceiver(answers.hang);
    receivers.push(receiver);
    const a = await app(
      { clearing_delay_ms: 'manual', callbacks: { max_pending: 3, timeout_ms: 5_000, concurrency: 16 } },
      { clock: createManualClock() },
    );
    const hashes: string[] = [];
    for (let i = 0; i < 10; i++) hashes.push(await createPayment(a, { callback_post_url: receiver.url }));
    for (const h of hashes) await failPayment(a, h);
    await receiver.waitFor(3);
    await new Promise((r) => setTimeout(r, 100));
    const all = await a.sandbox.callbacks.list();
    expect(all).toHaveLength(10);
    const open = all.filter((d) => d.state !== 'failed');
    const refused = all.filter((d) => d.state === 'failed');
    expect(open).toHaveLength(3);
    expect(refused).toHaveLength(7);
    for (const d of refused) {
      expect(d.attempts).toEqual([]);
      expect(d.note).toBe('not sent: the outbox already holds 3 open deliveries (callbacks.max_pending)');
    }
    expect(receiver.received).toHaveLength(3);
  });
});

describe('per-merchant rate limit (RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS)', () => {
  it('is off by default: 300 requests from one merchant, none refused', async () => {
    expect(testConfig().rate_limit).toBeUndefined();
    const a = await app();
    const body = await seal(orderPayload());
    const codes = new Set<number>();
    for (let i = 0; i < 300; i++) codes.add((await postCreate(a, i === 0 ? body : 'x')).statusCode);
    expect([...codes].sort()).toEqual([200, 422]);
  });

  it('reads RATE_LIMIT_MAX and RATE_LIMIT_WINDOW_MS', () => {
    expect(testConfig({}, { RATE_LIMIT_MAX: '7', RATE_LIMIT_WINDOW_MS: '2500' }).rate_limit).toEqual({
      max: 7,
      window_ms: 2500,
    });
    expect(testConfig({}, { RATE_LIMIT_MAX: '7' }).rate_limit).toEqual({ max: 7, window_ms: 60_000 });
    expect(testConfig({}, { RATE_LIMIT_WINDOW_MS: '2500' }).rate_limit).toBeUndefined();
    expect(() => loadConfig({ env: { RATE_LIMIT_MAX: '0' } })).toThrow(/rate_limit\.max must be >= 1/);
  });

  it('counts every merchant-API route per merchant, answers 4290118 in its dialect, and resets with the window', async () => {
    await cryptoReady();
    const clock = createManualClock();
    const a = await app({ rate_limit: { max: 3, window_ms: 1000 } }, { clock });
    // Three requests of different kinds use up the default merchant's window.
    const hash = await createPayment(a);
    expect(
      (await a.inject({ url: `${API}/payment/${hash}`, headers: { 'auth-identifier': APP_ID } })).statusCode,
    ).toBe(200);
    expect(
      (
        await a.inject({
          method: 'POST',
          url: `${API}/payment/${hash}/cancel`,
          headers: { 'auth-identifier': APP_ID },
        })
      ).statusCode,
    ).toBe(200);
    const limited = await postCreate(a, await seal(orderPayload()));
    expect(limited.statusCode).toBe(429);
    expect(registry.validator('referenceError')(limited.json())).toBe(true);
    expect(limited.json().error.code).toBe(4290118);
    expect(limited.json().error.message).toBe('Слишком много запросов.');
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.headers['x-ratelimit-limit']).toBe('3');
    expect(await a.sandbox.store.countTransactions()).toBe(1); // the refused create stored nothing
    const journal = (await a.inject({ url: '/__admin/journal?limit=1' })).json().entries[0];
    expect(journal.verdict.error_code).toBe(4290118);

    // Another merchant (widget dialect, English) has its own window and gets its own envelope.
    const keys = generateKeypair();
    const created = await a.inject({
      method: 'POST',
      url: '/__admin/merchants',
      payload: {
        name: 'Second shop',
        domains: ['second.kz'],
        public_key: keys.publicKey,
        envelope: 'widget',
        locale: 'en',
      },
    });
    const second = created.json() as { app_id: string; app_key: string };
    for (let i = 0; i < 3; i++) {
      const ok = await postCreate(a, await seal(orderPayload(), second.app_key), {
        'auth-identifier': second.app_id,
      });
      expect(ok.statusCode).toBe(200);
    }
    const widgetLimited = await postCreate(a, await seal(orderPayload(), second.app_key), {
      'auth-identifier': second.app_id,
    });
    expect(widgetLimited.statusCode).toBe(429);
    expect(registry.validator('widgetError')(widgetLimited.json())).toBe(true);
    expect(widgetLimited.json().error).toMatchObject({
      code: 4290118,
      messages: { error: 'Too many requests.' },
    });

    // The admin API, the hosted pages and the static files are never limited.
    for (let i = 0; i < 10; i++) {
      expect((await a.inject({ url: '/__admin/health' })).statusCode).toBe(200);
      expect((await a.inject({ url: `/payment-card/receipt?hash=${hash}` })).statusCode).toBe(200);
    }

    // A new window opens once the (injected) clock has moved on.
    clock.advance(1000);
    expect((await postCreate(a, await seal(orderPayload()))).statusCode).toBe(200);
  });

  it('keys requests without a known Auth-Identifier by client address, so random identifiers cannot dodge it', async () => {
    const a = await app({ rate_limit: { max: 2, window_ms: 60_000 } }, { clock: createManualClock() });
    const from = (ip: string, id: string) =>
      a.inject({
        method: 'POST',
        url: `${API}/payment`,
        headers: { 'auth-identifier': id, 'x-forwarded-for': ip },
        payload: 'x',
      });
    expect((await from('10.0.0.1', 'a'.repeat(32))).statusCode).toBe(422);
    expect((await from('10.0.0.1', 'b'.repeat(32))).statusCode).toBe(422);
    const third = await from('10.0.0.1', 'c'.repeat(32));
    expect(third.statusCode).toBe(429);
    expect(third.json().error.code).toBe(4290118);
    expect((await from('10.0.0.2', 'd'.repeat(32))).statusCode).toBe(422);
    // The default merchant is a different key again.
    expect((await postCreate(a, 'x')).statusCode).toBe(422);
  });
});
