import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { APP_ID, orderPayload, seal, testConfig } from '../helpers/sandbox.js';

export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'e2e');

export async function startSandbox(flags: Parameters<typeof testConfig>[0] = {}): Promise<RunningServer> {
  return startServer(testConfig({ port: 0, host: '127.0.0.1', ...flags }), { logger: false });
}

/** Creates a payment for the default merchant over HTTP, as a merchant backend would. */
export async function createOrder(
  base: string,
  order: Record<string, unknown> = {},
  appId: string = APP_ID,
  appKey?: string,
) {
  const res = await fetch(`${base}/api/v1/merchant-widget/payment`, {
    method: 'POST',
    headers: { 'auth-identifier': appId, 'content-type': 'text/plain' },
    body: await seal(orderPayload(order), appKey),
  });
  const body = (await res.json()) as { payload?: { transaction_hash: string }; error?: unknown };
  if (!body.payload) throw new Error(`create failed: ${JSON.stringify(body)}`);
  return body.payload.transaction_hash;
}

export async function txOf(base: string, hash: string) {
  const res = await fetch(`${base}/__admin/transactions/${hash}`);
  return (await res.json()) as {
    status: string;
    order_id: string;
    error: { error_type: string; code?: string } | null;
    history: { status: string; at: string }[];
  };
}

export async function waitForStatus(base: string, hash: string, status: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tx = await txOf(base, hash);
    if (tx.status === status || Date.now() > deadline) return tx;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Fills the bank card form inside the widget iframe (or the page itself) and submits it. */
export async function fillCard(
  scope: Pick<Page, 'locator'>,
  card: { pan: string; exp_month?: string; exp_year?: string; cvc?: string; cardholder?: string },
) {
  await scope.locator('#pan').fill(card.pan);
  await scope.locator('#exp_month').fill(card.exp_month ?? '12');
  await scope.locator('#exp_year').fill(card.exp_year ?? '30');
  await scope.locator('#cvc').fill(card.cvc ?? '123');
  await scope.locator('#cardholder').fill(card.cardholder ?? 'IVAN IVANOV');
  await scope.locator('#pay').click();
}
