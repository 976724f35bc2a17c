import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../runner/helpers.js';

/**
 * Acceptance (issue 18): the browser trigger. A shopper in Chromium opens the widget shop's product
 * page, fills it in, and pays inside the ktpay widget iframe the page opens (the order is sealed in
 * the browser). The reference widget shop passes every browser scenario; each broken variant fails
 * with its own check id.
 */
const WIDGET_CONFIG = fileURLToPath(
  new URL('../fixtures/merchants/widget/ktpay-mock.check.yaml', import.meta.url),
);
const BROWSER_SCENARIOS = [
  'happy-path',
  '3ds-challenge',
  '3ds-challenge-failed',
  'decline-issuer',
  'widget-close',
];

describe('ktpay-mock run with the browser trigger', () => {
  const dirs: string[] = [];
  const out = () => {
    const d = mkdtempSync(join(tmpdir(), 'ktpay-run-browser-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('the reference widget shop passes every browser scenario (3 at a time); the HTTP-only ones are skipped, saying why', async () => {
    const res = await runInProcess({
      config: WIDGET_CONFIG,
      reporters: ['json'],
      out: out(),
      seed: 4,
      parallel: 3,
    });
    const r = res.report!;
    expect(
      res.code,
      JSON.stringify(
        r?.scenarios.filter((s) => s.status === 'failed'),
        null,
        1,
      ),
    ).toBe(0);
    expect(r.trigger).toBe('browser');
    const ran = r.scenarios.filter((s) => s.status !== 'skipped');
    expect(ran.map((s) => s.name)).toEqual(BROWSER_SCENARIOS);
    for (const s of r.scenarios.filter((x) => x.status === 'skipped'))
      expect(s.skip_reason, s.name).toMatch(/not a browser scenario/);
    const by = Object.fromEntries(ran.map((s) => [s.name, s]));
    const notes = (name: string, type: string) =>
      by[name]!.steps.filter((st) => st.type === type)
        .flatMap((st) => st.notes)
        .join('\n');
    // The page opened the widget; the create-payment the browser sent was found by its hash.
    expect(notes('happy-path', 'trigger')).toMatch(
      /the page opened #iframe_widget on http:\/\/127\.0\.0\.1:\d+\/payment-card\?hash=[0-9a-f]{40}&show_close_button=true/,
    );
    expect(notes('happy-path', 'trigger')).toMatch(
      /found by transaction_hash [0-9a-f]{40} in the create-payment the browser sent/,
    );
    // Paid inside the iframe; the page followed the widget to the shop's own pages.
    expect(notes('happy-path', 'pay')).toMatch(
      /landed on http:\/\/127\.0\.0\.1:\d+\/payment\/success\?order=ORD-\S+ → 200/,
    );
    expect(notes('3ds-challenge', 'pay')).toMatch(/3-D Secure shown; transaction success/);
    expect(notes('3ds-challenge-failed', 'pay')).toMatch(
      /3-D Secure shown; transaction error[\s\S]*\/payment\/failed\?/,
    );
    expect(notes('decline-issuer', 'pay')).toMatch(/\/payment\/failed\?order=/);
    expect(notes('widget-close', 'close_widget')).toMatch(
      /removed #iframe_widget and stayed on http:\/\/127\.0\.0\.1:\d+\/; the payment is pending/,
    );
    // The order view agrees: paid once after the callback, failed after a decline, unpaid after ×.
    expect(notes('happy-path', 'verify')).toMatch(/: unpaid[\s\S]*: paid/);
    expect(notes('decline-issuer', 'verify')).toMatch(/: failed/);
    expect(notes('widget-close', 'verify')).toMatch(/: unpaid/);
  }, 180_000);

  it('without a Chromium the run cannot start (exit 2) and says how to get one', async () => {
    const before = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = join(tmpdir(), 'no-such-chromium');
    try {
      const res = await runInProcess({ config: WIDGET_CONFIG, reporters: ['json'], out: out() });
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(
        /the browser trigger needs Chromium and playwright-core: CHROMIUM_PATH=.*no-such-chromium: no such file\. Install Debian's chromium \(apt-get install chromium\), point CHROMIUM_PATH at .*, or add the npm package @sparticuz\/chromium/,
      );
    } finally {
      if (before === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = before;
    }
  });

  const broken = [
    {
      variant: 'widget-ignores-close',
      scenario: 'widget-close',
      check: 'widget_close',
      reason: /did not remove the widget iframe[\s\S]*still on/,
    },
    {
      variant: 'widget-paid-on-redirect',
      scenario: 'happy-path',
      check: 'paid_before_callback',
      reason: /marked the order paid when the shopper came back/,
    },
  ] as const;
  for (const c of broken) {
    it(`${c.variant}: ${c.scenario} fails with ${c.check}`, async () => {
      const res = await runInProcess({
        config: WIDGET_CONFIG,
        app: `node ../broken/${c.variant}.js`,
        reporters: ['json'],
        out: out(),
        seed: 4,
        only: [c.scenario],
      });
      expect(res.code, res.stderr).toBe(1);
      const f = res.report!.scenarios.find((s) => s.name === c.scenario)!.failure!;
      expect(f.check).toBe(c.check);
      expect(`${f.message}\n${f.actual}`).toMatch(c.reason);
      expect(f.hint.length).toBeGreaterThan(20);
    }, 120_000);
  }
});
