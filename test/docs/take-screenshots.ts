import { mkdirSync } from 'node:fs';
import { projectPath } from '../../mock-server/shared/project-root.js';
import { launchTestBrowser } from '../helpers/browser.js';
import { waitForLive } from '../e2e/dashboard-helpers.js';
import { createOrder, startSandbox, waitForStatus } from '../e2e/browser.js';

/**
 * `npm run docs:screenshots`: the README's two pictures, taken with the browser tests' own
 * machinery (the product's Chromium finder, a sandbox on a real socket, the same selectors as
 * test/e2e/): docs/images/demo-payment.png, the demo shop with the widget's bank card page open
 * on the 3-D Secure test card, and docs/images/dashboard.png, the dashboard's live list after a
 * handful of payments ended in different ways.
 */
const OUT = projectPath('docs', 'images');
mkdirSync(OUT, { recursive: true });

const server = await startSandbox({ clearing_delay_ms: 300 });
const browser = await launchTestBrowser();
try {
  const base = server.url;

  // The demo payment: the shop page with the widget iframe on the bank's card form, filled in.
  const shop = await browser.newPage({ viewport: { width: 1100, height: 820 } });
  await shop.goto(`${base}/demo`);
  await shop.click('#pay-button');
  await shop.waitForSelector('#iframe_widget');
  const widget = shop.frameLocator('#iframe_widget');
  await widget.locator('#pan').waitFor();
  await widget.locator('#pan').fill('5522 0427 0506 6736');
  await widget.locator('#exp_month').fill('12');
  await widget.locator('#exp_year').fill('30');
  await widget.locator('#cvc').fill('123');
  await widget.locator('#cardholder').fill('IVAN IVANOV');
  await widget.locator('#email').fill('ivan@example.kz');
  await shop.screenshot({ path: `${OUT}/demo-payment.png` });
  // Finish it, so the dashboard shows a payment made in the browser too.
  await widget.locator('#pay').click();
  await widget.locator('#otp').fill('1111');
  await widget.locator('#confirm').click();
  await widget.locator('#continue').click();
  await shop.waitForURL(/\/demo\/result\?outcome=success/);

  // Payments that end in different ways, paid through the admin API as a CI job would.
  const cards: [string, Record<string, string>][] = [
    ['Ноутбук и сумка', { pan: '4405639704015096' }],
    ['Подписка на месяц', { pan: '4000000000009995' }],
    ['Билет в кино', { pan: '5578342710750560' }],
    ['Книга', { pan: '5522042705066736', otp: '1111' }],
    ['Кофе', {}],
  ];
  for (const [i, [description, card]] of cards.entries()) {
    const hash = await createOrder(base, {
      order_id: `ORDER-${1001 + i}`,
      amount: 1500 + i * 2750,
      description,
    });
    if (!card.pan) continue; // left pending: a shopper who has not paid yet
    const res = await fetch(`${base}/__admin/transactions/${hash}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        exp_month: '12',
        exp_year: '2030',
        cvc: '123',
        cardholder: 'IVAN IVANOV',
        ...card,
      }),
    });
    if (!res.ok) throw new Error(`pay ${hash}: ${res.status} ${await res.text()}`);
    if (card.pan === '4405639704015096') await waitForStatus(base, hash, 'completed');
  }

  const admin = await browser.newPage({ viewport: { width: 1500, height: 580 } });
  await admin.goto(`${base}/__admin/ui`);
  await waitForLive(admin);
  await admin.locator('#tx-table tbody tr').nth(cards.length).waitFor();
  await admin.screenshot({ path: `${OUT}/dashboard.png` });
  console.log(`wrote ${OUT}/demo-payment.png and ${OUT}/dashboard.png`);
} finally {
  await browser.close();
  await server.close();
}
