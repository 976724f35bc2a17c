import { spawn, type ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../mock-server/shared/project-root.js';
import { launchTestBrowser } from '../helpers/browser.js';
import { shot, startSandbox, waitForStatus } from './browser.js';

/**
 * The acceptance walk of issue 3: a newcomer opens the demo shop, clicks "Оплатить", pays with
 * 5522 0427 0506 6736 and OTP 1111 inside `#iframe_widget`, and the shop page ends on its success
 * URL; the payment goes pending → authorized → success → completed after clearing.
 *
 * It runs twice: against the sandbox built in-process from the sources, and against what
 * `npm start` runs, the bundled CLI in dist/ (built by `npm ci`), as its own process.
 */
interface Target {
  url: string;
  close(): Promise<void>;
}

/** `node dist/mock-server/cli.js serve` on a free port; resolves with the URL its banner prints. */
async function startBuiltCli(): Promise<Target> {
  const child: ChildProcess = spawn(
    process.execPath,
    [projectPath('dist', 'mock-server', 'cli.js'), 'serve'],
    {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', CLEARING_DELAY_MS: '500', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the built CLI printed no URL:\n${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`the built CLI exited (${code}):\n${out}`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchTestBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe.each([
  ['the sandbox built in-process', () => startSandbox({ clearing_delay_ms: 500 }) as Promise<Target>],
  ['the bundled CLI that npm start runs', startBuiltCli],
] as const)('the demo shop in chromium, against %s', (label, start) => {
  let server: Target;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.close();
  });
  const tag = label.includes('CLI') ? '-cli' : '';

  it('seals in the browser, pays with 5522 0427 0506 6736 + OTP 1111, lands on the success URL; the payment clears', async () => {
    const base = server.url;
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const requests: { url: string; method: string; headers: Record<string, string>; body: string | null }[] =
      [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/v1/merchant-widget/payment'))
        requests.push({ url: r.url(), method: r.method(), headers: r.headers(), body: r.postData() });
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${base}/demo`);
    await expect(page.title()).resolves.toBe('Демо-магазин — ktpay-mock');
    await shot(page, `demo-shop${tag}`);
    await page.click('#pay-button');

    const iframe = await page.waitForSelector('#iframe_widget');
    const src = await iframe.getAttribute('src');
    // The public client's URL, quirk included: no "=" after show_close_button.
    expect(src).toMatch(new RegExp(`^${base}/payment-card\\?hash=[0-9a-f]{40}&show_close_buttontrue$`));
    const hash = /hash=([0-9a-f]{40})/.exec(src!)![1]!;

    // The order left the browser sealed: base64 text, Auth-Identifier, text/plain (as the JS widget sends it).
    expect(requests).toHaveLength(1);
    expect(requests[0]!.method).toBe('POST');
    expect(requests[0]!.headers['content-type']).toBe('text/plain');
    expect(requests[0]!.headers['auth-identifier']).toBe('e2d3d70d53c67bcd377266f74e98587c');
    expect(requests[0]!.body).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(requests[0]!.body).not.toContain('order_id');

    const frame = page.frameLocator('#iframe_widget');
    await frame.locator('#pan').waitFor();
    await shot(page, `demo-widget-card${tag}`);
    await frame.locator('#pan').fill('5522 0427 0506 6736');
    await frame.locator('#exp_month').fill('12');
    await frame.locator('#exp_year').fill('30');
    await frame.locator('#cvc').fill('123');
    await frame.locator('#cardholder').fill('IVAN IVANOV');
    await frame.locator('#email').fill('ivan@example.kz');
    await frame.locator('#pay').click();
    await frame.locator('#otp').waitFor();
    await shot(page, `demo-widget-3ds${tag}`);
    await frame.locator('#otp').fill('1111');
    await frame.locator('#confirm').click();
    await frame.locator('#continue').waitFor();
    await expect(frame.locator('[data-testid="masked-card"]').textContent()).resolves.toBe(
      '552204******6736',
    );
    await shot(page, `demo-widget-receipt${tag}`);
    await frame.locator('#continue').click();

    await page.waitForURL(/\/demo\/result\?outcome=success&order_id=demo-/);
    await expect(page.locator('#demo-result').getAttribute('data-outcome')).resolves.toBe('success');

    const tx = await waitForStatus(base, hash, 'completed');
    expect(tx.history.map((h) => h.status)).toEqual(['pending', 'authorized', 'success', 'completed']);
    for (const h of tx.history) expect(h.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+06:00$/);
    expect(page.url()).toContain(encodeURIComponent(tx.order_id));
    await page.reload();
    await expect(page.locator('[data-testid="status"]').textContent()).resolves.toContain('completed');
    await shot(page, `demo-result${tag}`);
    expect(errors).toEqual([]);
    await context.close();
  });
});
