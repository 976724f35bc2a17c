import type { LookupAddress } from 'node:dns';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Resolver } from '../../mock-server/callbacks/destination-guard.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import type { Merchant } from '../../mock-server/merchants/merchant.js';
import { createManualClock } from '../../mock-server/shared/clock.js';
import { buildTestApp, orderPayload, postCreate, seal } from '../helpers/sandbox.js';
import { answers, completePayment, onlyDelivery, startReceiver, type Receiver } from './receiver.js';

/** A resolver that knows a few names (no DNS server needed) and fails the rest like getaddrinfo. */
function fakeResolver(table: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const ips = table[hostname];
    if (!ips) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return ips.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('callback destination safety', () => {
  let app: FastifyInstance | undefined;
  let receiver: Receiver | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  async function addMerchant(app: FastifyInstance, input: Record<string, unknown>): Promise<Merchant> {
    const res = await app.inject({
      method: 'POST',
      url: '/__admin/merchants',
      payload: { name: 'Safety shop', public_key: DEFAULT_MERCHANT.merchant_public_key, ...input },
    });
    expect(res.statusCode).toBe(201);
    return (await app.sandbox.merchants.get((res.json() as { app_id: string }).app_id))!;
  }

  /** Creates and completes a payment for `merchant`, then waits for the outbox. */
  async function paidTransaction(
    app: FastifyInstance,
    merchant: Merchant,
    order: Record<string, unknown> = {},
  ) {
    const { tx } = await app.sandbox.payments.create(merchant, orderPayload(order));
    await completePayment(app, tx.hash);
    await app.sandbox.callbacks.whenIdle();
    return tx.hash;
  }

  it('a transaction callback_post_url of http://169.254.169.254/ is refused at creation; nothing is stored or sent', async () => {
    app = await buildTestApp({}, { clock: createManualClock() });
    for (const url of [
      'http://169.254.169.254/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
    ]) {
      const res = await postCreate(app, await seal(orderPayload({ callback_post_url: url })));
      expect(res.statusCode).toBe(422);
      const body = res.json() as { error: { code: number; validation: Record<string, string[]> } };
      expect(body.error.code).toBe(4220002);
      expect(Object.keys(body.error.validation)).toEqual(['order.callback_post_url']);
    }
    // The IPv4-mapped IPv6 spelling is refused too (its host is outside the merchant's domains).
    const mapped = await postCreate(
      app,
      await seal(orderPayload({ callback_post_url: 'http://[::ffff:169.254.169.254]/' })),
    );
    expect(mapped.statusCode).toBe(422);
    expect(await app.sandbox.store.countTransactions()).toBe(0);
    expect(await app.sandbox.callbacks.list()).toEqual([]);
  });

  it('a merchant callback_post_url of http://169.254.169.254/ is refused at delivery; nothing is sent, no retry', async () => {
    const clock = createManualClock();
    app = await buildTestApp({}, { clock });
    // Even with the address in its domains, the link-local rule holds.
    const merchant = await addMerchant(app, {
      domains: ['shop.test', '169.254.169.254'],
      callback_post_url: 'http://169.254.169.254/latest/meta-data/',
    });
    const hash = await paidTransaction(app, merchant);

    const d = await onlyDelivery(app, hash);
    expect(d.url).toBe('http://169.254.169.254/latest/meta-data/');
    expect(d.state).toBe('failed');
    expect(d.next_attempt_at).toBeNull();
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({ sent: false, response_status: null, verdict: 'failed' });
    expect(d.attempts[0]!.reason).toBe(
      'blocked: 169.254.169.254 is a link-local/metadata address (169.254.0.0/16, fe80::/10, fd00:ec2::254); callbacks never go there unless callbacks.allow_hosts (CALLBACK_ALLOW_HOSTS) lists it; nothing was sent',
    );
    clock.advance(24 * 3_600_000);
    await app.sandbox.callbacks.whenIdle();
    expect((await app.sandbox.callbacks.get(d.id))!.attempts).toHaveLength(1);
  });

  it('the IPv4-mapped spelling [::ffff:169.254.169.254] is caught at delivery as well', async () => {
    app = await buildTestApp({}, { clock: createManualClock() });
    // As the merchant's URL: an order's callback_post_url in this spelling is refused at create already.
    const merchant = await addMerchant(app, {
      domains: ['shop.test', '::ffff:a9fe:a9fe'],
      strict_domains: false,
      callback_post_url: 'http://[::ffff:169.254.169.254]/cb',
    });
    const hash = await paidTransaction(app, merchant);
    const d = await onlyDelivery(app, hash);
    expect(d.state).toBe('failed');
    expect(d.attempts[0]!.sent).toBe(false);
    expect(d.attempts[0]!.reason).toMatch(/^blocked: ::ffff:a9fe:a9fe is a link-local\/metadata address/);
  });

  it('a name that resolves to a metadata address is refused after resolution; the live address next to it gets nothing', async () => {
    receiver = await startReceiver(answers.ok);
    app = await buildTestApp(
      {},
      {
        clock: createManualClock(),
        callbackResolver: fakeResolver({ 'cb.shop.test': ['127.0.0.1', '169.254.169.254'] }),
      },
    );
    const merchant = await addMerchant(app, {
      domains: ['shop.test', 'localhost'],
      callback_post_url: `http://cb.shop.test:${receiver.port}/callback`,
    });
    const hash = await paidTransaction(app, merchant);

    const d = await onlyDelivery(app, hash);
    expect(receiver.received).toHaveLength(0);
    expect(d.state).toBe('failed');
    expect(d.attempts[0]!.sent).toBe(false);
    expect(d.attempts[0]!.reason).toMatch(
      /^blocked: cb\.shop\.test resolves to 169\.254\.169\.254, which is a link-local\/metadata address .*; nothing was sent$/,
    );
  });

  it('an allow-listed host may resolve to a metadata address (CALLBACK_ALLOW_HOSTS)', async () => {
    receiver = await startReceiver(answers.ok);
    app = await buildTestApp(
      {},
      {
        clock: createManualClock(),
        env: { CALLBACK_ALLOW_HOSTS: 'cb.shop.test' },
        callbackResolver: fakeResolver({ 'cb.shop.test': ['127.0.0.1', '169.254.169.254'] }),
      },
    );
    const merchant = await addMerchant(app, {
      domains: ['shop.test', 'localhost'],
      callback_post_url: `http://cb.shop.test:${receiver.port}/callback`,
    });
    const hash = await paidTransaction(app, merchant);
    expect(receiver.received).toHaveLength(1);
    expect((await onlyDelivery(app, hash)).state).toBe('acknowledged');
  });

  it('loopback is refused for a merchant whose domains do not include localhost or 127.0.0.1', async () => {
    receiver = await startReceiver(answers.ok);
    app = await buildTestApp(
      {},
      { clock: createManualClock(), callbackResolver: fakeResolver({ 'cb.shop.test': ['127.0.0.1'] }) },
    );
    const merchant = await addMerchant(app, {
      domains: ['shop.test'],
      callback_post_url: `http://cb.shop.test:${receiver.port}/callback`,
    });
    const hash = await paidTransaction(app, merchant);

    const d = await onlyDelivery(app, hash);
    expect(receiver.received).toHaveLength(0);
    expect(d.state).toBe('failed');
    expect(d.attempts[0]!.reason).toBe(
      'blocked: cb.shop.test resolves to 127.0.0.1, which is a loopback address; callbacks reach loopback only for merchants whose domains include localhost or 127.0.0.1; nothing was sent',
    );
  });

  it('the same loopback receiver is reached once the merchant lists localhost', async () => {
    receiver = await startReceiver(answers.ok);
    app = await buildTestApp(
      {},
      { clock: createManualClock(), callbackResolver: fakeResolver({ 'cb.shop.test': ['127.0.0.1'] }) },
    );
    const merchant = await addMerchant(app, {
      domains: ['shop.test', 'localhost'],
      callback_post_url: `http://cb.shop.test:${receiver.port}/callback`,
    });
    const hash = await paidTransaction(app, merchant);
    expect(receiver.received).toHaveLength(1);
    expect((await onlyDelivery(app, hash)).state).toBe('acknowledged');
  });

  it('a host outside the merchant domains is refused at delivery even when strict_domains is off', async () => {
    receiver = await startReceiver(answers.ok);
    app = await buildTestApp({}, { clock: createManualClock() });
    const merchant = await addMerchant(app, { domains: ['shop.test'], strict_domains: false });
    const hash = await paidTransaction(app, merchant, { callback_post_url: receiver.url });

    const d = await onlyDelivery(app, hash);
    expect(receiver.received).toHaveLength(0);
    expect(d.state).toBe('failed');
    expect(d.attempts[0]!.reason).toBe(
      `blocked: host 127.0.0.1 is not inside merchant ${merchant.app_id}'s domains (shop.test); callbacks go only to those; nothing was sent`,
    );
  });

  it('a DNS failure is an ordinary failed attempt and is retried', async () => {
    app = await buildTestApp({}, { clock: createManualClock(), callbackResolver: fakeResolver({}) });
    const merchant = await addMerchant(app, {
      domains: ['shop.test'],
      callback_post_url: 'http://gone.shop.test/callback',
    });
    const hash = await paidTransaction(app, merchant);
    const d = await onlyDelivery(app, hash);
    expect(d.state).toBe('retrying');
    expect(d.attempts[0]).toMatchObject({ sent: true, verdict: 'failed' });
    expect(d.attempts[0]!.reason).toBe('DNS lookup for gone.shop.test failed (ENOTFOUND)');
  });
});
