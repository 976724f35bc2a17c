/**
 * Issue 23's browser acceptance: a shop page whose script calls https://fintech.test.nplus.tech
 * and opens https://widget.test.nplus.tech (as the public widget client does) pays with 3-D Secure
 * in Chromium and lands on the shop's success page. Chromium maps the three names with
 * --host-resolver-rules (ports too) and trusts the local CA by its SPKI pin
 * (--ignore-certificate-errors-spki-list: the waiver covers only chains holding that key, never
 * --ignore-certificate-errors), and a browser without the pin is shown refusing the same page.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../scenarios/runner/find-chromium.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { assetTable } from '../../mock-server/views/assets.js';
import { KTPAY_TEST_HOSTS } from '../../mock-server/tls/tls-dir.js';
import { fillCard } from '../e2e/browser.js';
import { nextOrderId } from '../helpers/sandbox.js';
import { startTlsSandbox, testTlsFolder, type TlsSandbox } from './tls-sandbox.js';

const SHOP = 'shop.example.kz';
const SHOP_SCRIPT = fileURLToPath(new URL('../fixtures/drop-in/widget-shop-page.js', import.meta.url));

let folder: Awaited<ReturnType<typeof testTlsFolder>>;
let sandbox: TlsSandbox;
let shop: Server;
let shopPort = 0;
const orderId = nextOrderId('BROWSER');

/** The shop's own web server: its page, its script, libsodium, and its result pages. */
function startShop(): Promise<Server> {
  const assets = assetTable();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', `http://${SHOP}`).pathname;
    const send = (type: string, body: string | Buffer, status = 200) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (path === '/') {
      const config = JSON.stringify({
        app_id: DEFAULT_MERCHANT.app_id,
        app_key: DEFAULT_MERCHANT.app_key,
        order_id: orderId,
        amount: 7990,
      });
      const imports = JSON.stringify({
        imports: { 'libsodium-wrappers': '/libsodium-wrappers.mjs', libsodium: '/libsodium.mjs' },
      });
      return send(
        'text/html; charset=utf-8',
        `<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Магазин</title>
<script type="importmap">${imports}</script></head><body><h1>Чайник электрический — 7 990 ₸</h1>
<button id="pay" type="button">Оплатить</button>
<script id="shop-config" type="application/json">${config}</script>
<script type="module" src="/shop.js"></script></body></html>`,
      );
    }
    if (path === '/shop.js') return send('text/javascript', readFileSync(SHOP_SCRIPT));
    const asset = assets[path.slice(1)];
    if (asset && path.endsWith('.mjs')) return send(asset.type, readFileSync(asset.path));
    if (path === '/success' || path === '/failed')
      return send(
        'text/html; charset=utf-8',
        `<!doctype html><title>${path}</title><h1 id="result">${path.slice(1)}</h1>`,
      );
    return send('text/plain', 'not found', 404);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Chromium with the ktpay names (and the shop's) mapped to this machine's ports. */
function mapping(): string {
  const rules = [
    ...KTPAY_TEST_HOSTS.map((h) => `MAP ${h} 127.0.0.1:${sandbox.httpsPort}`),
    `MAP ${SHOP} 127.0.0.1:${shopPort}`,
  ];
  return `--host-resolver-rules=${rules.join(', ')}`;
}

beforeAll(async () => {
  folder = await testTlsFolder();
  // The public client reads response.data: the widget dialect.
  sandbox = await startTlsSandbox(folder.dir, { default_merchant: { envelope: 'widget' } });
  shop = await startShop();
  shopPort = (shop.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  await new Promise((r) => shop?.close(r));
  await sandbox?.close();
  folder?.remove();
});

describe('a shop page on the public client’s URLs, in Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => browser?.close());

  it('pays with 3-D Secure through https://widget.test.nplus.tech and lands on the shop’s success page', async () => {
    const args = [mapping(), `--ignore-certificate-errors-spki-list=${folder.ca.caSpkiPin}`];
    expect(args.join(' ')).not.toMatch(/--ignore-certificate-errors(?!-spki-list)|--disable-web-security/);
    browser = await launchChromium({ launch: { args } });
    const page = await browser.newPage();
    // Every document the iframe loads, redirects included, and every API call the page makes.
    const frameDocuments: string[] = [];
    const apiCalls: string[] = [];
    page.on('request', (r) => {
      if (r.resourceType() === 'document' && r.frame() !== page.mainFrame())
        frameDocuments.push(`${r.method()} ${r.url()}`);
      if (r.url().includes('/api/v1/merchant-widget/')) apiCalls.push(`${r.method()} ${r.url()}`);
    });

    await page.goto(`http://${SHOP}/`);
    await page.locator('#pay').click();
    const frame = page.frameLocator('#iframe_widget');
    await fillCard(frame, { pan: '5522 0427 0506 6736' });
    await frame.locator('#otp').fill('1111');
    await frame.locator('#confirm').click();
    await frame.locator('#continue').click();
    await page.waitForURL(`http://${SHOP}/success?order=${orderId}`);
    expect(await page.locator('#result').textContent()).toBe('success');

    // The API was called on fintech, and the shopper never left the widget host inside the iframe.
    expect(apiCalls[0]).toBe('POST https://fintech.test.nplus.tech/api/v1/merchant-widget/payment');
    for (const doc of frameDocuments)
      expect(doc, doc).toMatch(/^(GET|POST) https:\/\/widget\.test\.nplus\.tech\//);
    const paths = frameDocuments.map((d) => new URL(d.split(' ')[1]!).pathname);
    expect(paths).toEqual([
      '/payment-card',
      '/acquirer/payform',
      '/acquirer/payform',
      '/acquirer/3ds',
      '/acquirer/3ds',
      expect.stringMatching(/^\/api\/v1\/merchant-widget\/payment\/[0-9a-f]{40}\/back-link$/),
      '/payment-card/receipt',
    ]);

    const journal = (await (await fetch(`${sandbox.url}/__admin/journal?order_id=${orderId}`)).json()) as {
      entries: { transaction_hash: string | null }[];
    };
    const hash = journal.entries.find((e) => e.transaction_hash)!.transaction_hash!;
    const tx = (await (await fetch(`${sandbox.url}/__admin/transactions/${hash}`)).json()) as {
      status: string;
    };
    expect(tx.status).toBe('success');
  }, 90_000);

  it('without the pin the same browser refuses the widget host: the CA is what makes it trusted', async () => {
    const plain = await launchChromium({ launch: { args: [mapping()] } });
    try {
      const page = await plain.newPage();
      const error = await page.goto('https://widget.test.nplus.tech/demo').then(
        () => 'loaded',
        (err: Error) => err.message,
      );
      expect(error).toContain('net::ERR_CERT_AUTHORITY_INVALID');
    } finally {
      await plain.close();
    }
  }, 60_000);
});
