import type { LookupAddress } from 'node:dns';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Resolver } from '../../mock-server/callbacks/destination-guard.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import type { Merchant } from '../../mock-server/merchants/merchant.js';
import { createManualClock, type ManualClock } from '../../mock-server/shared/clock.js';
import {
  answers,
  completePayment,
  onlyDelivery,
  startReceiver,
  type Answer,
  type Receiver,
} from '../callbacks/receiver.js';
import { buildTestApp, orderPayload, postCreate, seal } from '../helpers/sandbox.js';

/**
 * Issue 11 §5, one describe per line of the issue: callback targets outside the merchant's
 * domains, link-local and metadata addresses in every spelling, a redirect to an internal address
 * (never followed: a trap receiver on the internal address counts what reaches it), and names that
 * resolve to blocked addresses, including one that changes its answer between two attempts.
 * test/callbacks/destination-safety.test.ts holds the first cases written for issue 4; this file
 * adds the rest and keeps the whole list in one place.
 */

const METADATA_SPELLINGS = [
  'http://169.254.169.254/latest/meta-data/',
  'http://169.254.0.1/',
  'http://2852039166/', // 169.254.169.254 as one decimal number
  'http://0xa9fea9fe/', // … as hex
  'http://0251.0376.0251.0376/', // … as octal
  'http://169.254.43518/', // … with a 16-bit tail
  'http://[::ffff:169.254.169.254]/', // IPv4-mapped IPv6
  'http://[::ffff:a9fe:a9fe]/',
  'http://[fe80::1]/', // IPv6 link-local
  'http://[fd00:ec2::254]/', // the AWS IPv6 metadata address
];

let app: FastifyInstance | undefined;
const receivers: Receiver[] = [];

afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const r of receivers.splice(0)) await r.close();
});

async function receiver(answer: Answer = answers.ok) {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}

async function addMerchant(a: FastifyInstance, input: Record<string, unknown>): Promise<Merchant> {
  const res = await a.inject({
    method: 'POST',
    url: '/__admin/merchants',
    payload: { name: 'SSRF shop', public_key: DEFAULT_MERCHANT.merchant_public_key, ...input },
  });
  expect(res.statusCode, res.body).toBe(201);
  return (await a.sandbox.merchants.get((res.json() as { app_id: string }).app_id))!;
}

/** Pays a transaction of `merchant` to `completed` and lets the outbox run its first attempt. */
async function paid(a: FastifyInstance, merchant: Merchant, order: Record<string, unknown> = {}) {
  const { tx } = await a.sandbox.payments.create(merchant, orderPayload(order));
  await completePayment(a, tx.hash);
  await a.sandbox.callbacks.whenIdle();
  return tx.hash;
}

/** Runs every retry the schedule has left (manual clock), then returns the delivery. */
async function exhaust(a: FastifyInstance, clock: ManualClock, hash: string) {
  for (let i = 0; i < 8; i++) {
    clock.advance(2 * 3_600_000);
    await a.sandbox.callbacks.whenIdle();
  }
  return await onlyDelivery(a, hash);
}

describe('§5 targets outside the merchant’s domains', () => {
  it('a transaction URL outside the domains is refused at create (strict_domains, the default)', async () => {
    app = await buildTestApp({}, { clock: createManualClock() });
    for (const url of [
      'http://evil.example/cb',
      'http://shop.example.kz.evil.example/cb',
      'http://10.0.0.1/cb',
      'http://[::1]:8080/cb',
    ]) {
      const res = await postCreate(app, await seal(orderPayload({ callback_post_url: url })));
      expect(res.statusCode, url).toBe(422);
      expect(Object.keys(res.json().error.validation), url).toEqual(['order.callback_post_url']);
    }
    expect(await app.sandbox.store.countTransactions()).toBe(0);
  });

  it('with strict_domains off, the delivery still goes nowhere outside the domains: nothing sent, no retry', async () => {
    const clock = createManualClock();
    const r = await receiver();
    app = await buildTestApp({}, { clock });
    const merchant = await addMerchant(app, { domains: ['shop.test'], strict_domains: false });
    const hash = await paid(app, merchant, { callback_post_url: r.url });
    const d = await exhaust(app, clock, hash);
    expect(r.received).toHaveLength(0);
    expect(d.state).toBe('failed');
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({ sent: false });
    expect(d.attempts[0]!.reason).toMatch(
      /^blocked: host 127\.0\.0\.1 is not inside merchant [0-9a-f]{32}'s domains \(shop\.test\)/,
    );
  });
});

describe('§5 link-local and metadata addresses, in every spelling', () => {
  it('is refused at create for each spelling (422 on order.callback_post_url), nothing stored', async () => {
    app = await buildTestApp({}, { clock: createManualClock() });
    for (const url of METADATA_SPELLINGS) {
      const res = await postCreate(app, await seal(orderPayload({ callback_post_url: url })));
      expect(res.statusCode, url).toBe(422);
      expect(res.json().error.code, url).toBe(4220002);
      expect(Object.keys(res.json().error.validation), url).toEqual(['order.callback_post_url']);
    }
    expect(await app.sandbox.store.countTransactions()).toBe(0);
  });

  it('is refused at delivery for each spelling even when the merchant lists it among its domains', async () => {
    const clock = createManualClock();
    app = await buildTestApp({}, { clock });
    for (const url of METADATA_SPELLINGS) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const merchant = await addMerchant(app, { domains: ['shop.test', host], callback_post_url: url });
      const hash = await paid(app, merchant);
      const d = await exhaust(app, clock, hash);
      expect(d.state, url).toBe('failed');
      expect(d.attempts, url).toHaveLength(1);
      expect(d.attempts[0]!.sent, url).toBe(false);
      expect(d.attempts[0]!.reason, url).toMatch(
        /^blocked: .*link-local\/metadata address.*; nothing was sent$/,
      );
    }
  });
});

describe('§5 a redirect to an internal address is never followed', () => {
  for (const status of [301, 302, 303, 307, 308]) {
    it(`a ${status} to a loopback trap and to the metadata address: the trap sees nothing, on any attempt`, async () => {
      const clock = createManualClock();
      const trap = await receiver();
      let n = 0;
      const redirector = await receiver((_req, res) => {
        // Alternate between an internal service on loopback and the cloud metadata address.
        const location =
          n++ % 2 === 0 ? `${trap.url}?stolen=1` : 'http://169.254.169.254/latest/meta-data/iam/';
        res.writeHead(status, { location, 'content-type': 'application/json' }).end('{"status":"ok"}');
      });
      app = await buildTestApp({}, { clock });
      // The merchant may reach loopback (its domains list 127.0.0.1), so only the redirect rule stands between.
      const merchant = await addMerchant(app, {
        domains: ['127.0.0.1', 'shop.test'],
        callback_post_url: redirector.url,
      });
      const hash = await paid(app, merchant);
      const d = await exhaust(app, clock, hash);
      expect(trap.received).toHaveLength(0);
      expect(redirector.received).toHaveLength(7); // every documented attempt went to the URL itself
      expect(d.state).toBe('failed');
      for (const a of d.attempts) {
        expect(a.response_status).toBe(status);
        expect(a.reason).toBe(
          `answered ${status} (a redirect); redirects are not followed, the callback URL must answer itself`,
        );
      }
    });
  }
});

describe('§5 names that resolve to a blocked address', () => {
  /** A resolver (no DNS server needed) whose answer may change from one lookup to the next. */
  function resolver(answer: (hostname: string, lookup: number) => string[]): Resolver & { lookups: number } {
    const r = Object.assign(
      async (hostname: string) => {
        r.lookups++;
        return answer(hostname, r.lookups).map((address): LookupAddress => ({
          address,
          family: address.includes(':') ? 6 : 4,
        }));
      },
      { lookups: 0 },
    );
    return r;
  }

  for (const [label, addresses] of [
    ['the IPv4 metadata address', ['169.254.169.254']],
    ['IPv6 link-local', ['fe80::1']],
    ['the AWS IPv6 metadata address', ['fd00:ec2::254']],
    ['a clean address next to a metadata one', ['127.0.0.1', '169.254.169.254']],
  ] as const) {
    it(`a name resolving to ${label} is refused after resolution; nothing is sent`, async () => {
      const r = await receiver();
      const clock = createManualClock();
      app = await buildTestApp({}, { clock, callbackResolver: resolver(() => [...addresses]) });
      const merchant = await addMerchant(app, {
        domains: ['shop.test', 'localhost'],
        callback_post_url: `http://cb.shop.test:${r.port}/callback`,
      });
      const hash = await paid(app, merchant);
      const d = await exhaust(app, clock, hash);
      expect(r.received).toHaveLength(0);
      expect(d.state).toBe('failed');
      expect(d.attempts).toHaveLength(1);
      expect(d.attempts[0]!.sent).toBe(false);
      expect(d.attempts[0]!.reason).toMatch(
        /^blocked: cb\.shop\.test resolves to .*link-local\/metadata address/,
      );
    });
  }

  it('a name re-pointed to the metadata address between two attempts is caught at the second connection', async () => {
    // The merchant's endpoint fails and closes the connection, so the retry has to connect (and resolve) again.
    const r = await receiver((_req, res) => void res.writeHead(500, { connection: 'close' }).end('down'));
    const clock = createManualClock();
    const dns = resolver((_h, lookup) => (lookup === 1 ? ['127.0.0.1'] : ['169.254.169.254']));
    app = await buildTestApp({}, { clock, callbackResolver: dns });
    const merchant = await addMerchant(app, {
      domains: ['shop.test', 'localhost'],
      callback_post_url: `http://cb.shop.test:${r.port}/callback`,
    });
    const hash = await paid(app, merchant);
    const d = await exhaust(app, clock, hash);
    expect(r.received).toHaveLength(1);
    expect(dns.lookups).toBe(2);
    expect(d.attempts).toHaveLength(2);
    expect(d.attempts[0]).toMatchObject({ sent: true, response_status: 500 });
    expect(d.attempts[1]).toMatchObject({ sent: false });
    expect(d.attempts[1]!.reason).toMatch(/^blocked: cb\.shop\.test resolves to 169\.254\.169\.254/);
    expect(d.state).toBe('failed');
  });
});
