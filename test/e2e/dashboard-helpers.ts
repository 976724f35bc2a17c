import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { SandboxConfigInput } from '../../contracts/types.js';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { APP_ID, orderPayload, seal, testConfig } from '../helpers/sandbox.js';

export const DASHBOARD_ARTIFACTS = join(process.cwd(), 'test-artifacts', 'dashboard');

/** A sandbox on a real socket (port 0), as a developer runs it. */
export async function startDashboardSandbox(
  flags: SandboxConfigInput = {},
  env: Record<string, string> = {},
): Promise<RunningServer> {
  return startServer(testConfig({ port: 0, host: '127.0.0.1', ...flags }, env), { logger: false });
}

/** Creates a payment over HTTP as a merchant backend would; returns the transaction hash. */
export async function createOverHttp(
  base: string,
  order: Record<string, unknown> = {},
  rest: Record<string, unknown> = {},
  appId = APP_ID,
  appKey?: string,
): Promise<string> {
  const res = await fetch(`${base}/api/v1/merchant-widget/payment`, {
    method: 'POST',
    headers: { 'auth-identifier': appId, 'content-type': 'text/plain' },
    body: await seal(orderPayload(order, rest), appKey),
  });
  const body = (await res.json()) as { payload?: { transaction_hash: string } };
  if (!body.payload) throw new Error(`create failed: ${res.status} ${JSON.stringify(body)}`);
  return body.payload.transaction_hash;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(DASHBOARD_ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Waits until the dashboard's event stream is connected (the "live" pill turns green). */
export async function waitForLive(page: Page): Promise<void> {
  await page.locator('#live-indicator[data-state="open"]').waitFor({ timeout: 10_000 });
}
