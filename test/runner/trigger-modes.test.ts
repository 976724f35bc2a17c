import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ktpay-run-modes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const shop = join(import.meta.dirname, '../fixtures/merchants/correct/server.js');

describe('trigger modes and merchant creation', () => {
  it('a shell-command trigger against a merchant the runner creates: the command gets shell-quoted values and the amount is checked', async () => {
    const config = join(dir, 'command.check.yaml');
    writeFileSync(
      config,
      `merchant:
  create: { name: "Runner test shop", domains: ["127.0.0.1"], envelope: widget }
app:
  command: node ${JSON.stringify(shop)}
  env: { PORT: "{{app.port}}", KTPAY_API_URL: "{{sandbox.url}}", KTPAY_APP_ID: "{{merchant.app_id}}", KTPAY_APP_KEY: "{{merchant.app_key}}" }
  ready_url: "{{app.url}}/health"
trigger:
  command: >-
    node -e "fetch(process.argv[1] + '/checkout', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ amount: Number(process.argv[2]), product: process.argv[3] }) }).then((r) => process.exit(r.ok ? 0 : 1))"
    {{app.url}} {{amount}} {{faker.commerce.productName}}
verify:
  url: "{{app.url}}/orders/{{payment.order_id}}"
  expect: { paid: { "$.status": paid, "$.shipments": 1 }, failed: { "$.status": failed }, unpaid: { "$.shipments": 0 } }
`,
    );
    const res = await runInProcess({
      config,
      reporters: ['json'],
      out: join(dir, 'cmd'),
      seed: 2,
      only: ['happy-path', 'decline-issuer'],
    });
    expect(res.code, JSON.stringify(res.report?.scenarios.map((s) => [s.name, s.failure]))).toBe(0);
    expect(res.report!.trigger).toBe('command');
    expect(res.report!.merchant.created).toBe(true);
    expect(res.report!.merchant.app_id).not.toBe('e2d3d70d53c67bcd377266f74e98587c');
    const happy = res.report!.scenarios.find((s) => s.name === 'happy-path')!;
    expect(happy.steps[0]!.notes[0]).toMatch(/^node -e .* 'http:\/\/127\.0\.0\.1:\d+' '\d+' '.+' → exit 0/);
  }, 60_000);

  it('with neither a trigger nor a callback URL the run refuses to start (exit 2) and says what to set', async () => {
    const config = join(dir, 'empty.check.yaml');
    writeFileSync(config, '{}\n');
    const res = await runInProcess({ config, reporters: ['json'], out: join(dir, 'empty') });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /nothing of your shop would be checked: set trigger .* or, to check only your callback endpoint, callback_url/,
    );
  });

  it('a template that names an unknown variable stops the run with exit 2 and the list of known ones', async () => {
    const config = join(dir, 'typo.check.yaml');
    writeFileSync(
      config,
      'app: { command: "node -e 0", env: { PORT: "{{app.prot}}" } }\ntrigger: { http: { url: "http://127.0.0.1:9/checkout" } }\n',
    );
    const res = await runInProcess({ config, reporters: ['json'], out: join(dir, 'typo') });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /could not run: \{\{app\.prot\}\} is not known here \(known: app, merchant, sandbox/,
    );
  });

  it('the same seed gives the same data; another seed other data', async () => {
    const config = join(dir, 'plain.check.yaml');
    writeFileSync(
      config,
      'embedded: { default_merchant: { callback_post_url: "http://127.0.0.1:9/none" } }\n',
    );
    const ids = async (seed: number, out: string) => {
      const r = await runInProcess({
        config,
        reporters: ['json'],
        out: join(dir, out),
        seed,
        only: ['create-5000105', 'decline-limit', 'decline-system'],
      });
      // The callbacks go nowhere (port 9), so these runs fail; the runner's own order ids are what is compared.
      return r.report!.scenarios.map((s) => s.order_id);
    };
    const a = await ids(21, 'a');
    const b = await ids(21, 'b');
    const c = await ids(22, 'c');
    expect(a.filter(Boolean)).toHaveLength(2);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    for (const id of a.filter(Boolean)) expect(id).toMatch(/^kmc-[A-Z0-9]{10}$/);
  }, 60_000);
});
