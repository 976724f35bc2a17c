import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contracts, seal } from '../../contracts/index.js';
import { startSandbox, type Sandbox } from '../../mock-server/index.js';

describe('startSandbox (programmatic API)', () => {
  let sandbox: Sandbox;
  let receiver: Server;
  const received: unknown[] = [];
  let callbackUrl = '';

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb`;
    sandbox = await startSandbox({ clearing_delay_ms: 0 });
  });
  afterAll(async () => {
    await sandbox.close();
    await new Promise((r) => receiver.close(r));
  });

  it('creates, pays and waits for the callback, with contracts validating each shape', async () => {
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.merchant.app_id).toMatch(/^[0-9a-f]{32}$/);
    const order = { order: { amount: 2500, order_id: `api-${Date.now()}`, callback_post_url: callbackUrl } };
    const res = await fetch(`${sandbox.url}/api/v1/merchant-widget/payment`, {
      method: 'POST',
      headers: { 'Auth-Identifier': sandbox.merchant.app_id, 'Content-Type': 'text/plain' },
      body: await seal(order, sandbox.merchant.app_key),
    });
    const created = (await res.json()) as { success: boolean; payload: { transaction_hash: string } };
    expect(contracts.validator('referenceSuccess')(created)).toBe(true);
    const hash = created.payload.transaction_hash;

    await sandbox.pay(hash, { pan: '4405639704015096', exp_month: '12', exp_year: '30', cvc: '123' });
    const delivery = await sandbox.waitForCallback({ transaction_hash: hash, status: 'completed' });
    expect(delivery.state).toBe('acknowledged');
    const body = JSON.parse(delivery.body);
    expect(contracts.validator('callbackBody')(body)).toBe(true);
    expect(body).toMatchObject({
      order_id: order.order.order_id,
      amount: 2500,
      status: { status: 'completed' },
    });
    expect(received).toContainEqual(body);

    const [entry] = await sandbox.journal({ order_id: order.order.order_id });
    expect(entry!.decrypted).toEqual(order);
  });

  it('waitForCallback rejects after its timeout when nothing comes', async () => {
    await expect(
      sandbox.waitForCallback({ transaction_hash: 'f'.repeat(40), timeout_ms: 100 }),
    ).rejects.toThrow(/no callback/);
  });

  it('pay reports a refused payment as an error', async () => {
    await expect(
      sandbox.pay('0'.repeat(40), { pan: '4405639704015096', exp_month: '12', exp_year: '30', cvc: '123' }),
    ).rejects.toThrow(/pay 0+ failed: 404/);
  });
});
