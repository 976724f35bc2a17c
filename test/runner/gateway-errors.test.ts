import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CORRECT_CONFIG, runInProcess, suiteNames } from './helpers.js';

/**
 * Acceptance (issue 18): a handled upstream failure is not a crash. The reference shop answering a
 * failed gateway call with 502 (504 on a timeout) and a JSON body passes the whole built-in suite;
 * the accepted statuses are the check config's to change. (The crashing shops are in
 * broken-merchants.test.ts.)
 */
const dir = mkdtempSync(join(tmpdir(), 'ktpay-run-gateway-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gateway failures: handled or crashed', () => {
  it('a shop that answers 502 with a body passes the built-in suite', async () => {
    const res = await runInProcess({
      config: CORRECT_CONFIG,
      app: 'node answers-502.js',
      reporters: ['json'],
      out: join(dir, 'a'),
      seed: 12,
      parallel: 4,
    });
    const r = res.report!;
    expect(
      res.code,
      JSON.stringify(
        r.scenarios.filter((s) => s.status === 'failed'),
        null,
        1,
      ),
    ).toBe(0);
    expect(r.scenarios.map((s) => s.name)).toEqual(suiteNames());
    const answer = (name: string) =>
      r.scenarios
        .find((s) => s.name === name)!
        .steps.find((s) => s.type === 'expect_trigger_response')!
        .notes.join();
    expect(answer('create-5000105')).toMatch(/answered 502 with a body: a handled upstream failure/);
    expect(answer('create-timeout')).toMatch(/answered 504 with a body: a handled upstream failure/);
  }, 120_000);

  it('trigger.gateway_error.status narrows what counts as handled: with only 503 accepted, the 502 shop fails', async () => {
    const config = parse(readFileSync(CORRECT_CONFIG, 'utf8')) as {
      app: { cwd?: string };
      trigger: { gateway_error?: unknown };
    };
    config.app.cwd = dirname(CORRECT_CONFIG);
    config.trigger.gateway_error = { status: [503] };
    const file = join(dir, 'only-503.check.yaml');
    writeFileSync(file, stringify(config));
    const res = await runInProcess({
      config: file,
      app: 'node answers-502.js',
      reporters: ['json'],
      out: join(dir, 'b'),
      seed: 12,
      only: ['create-5000105'],
    });
    expect(res.code).toBe(1);
    const f = res.report!.scenarios[0]!.failure!;
    expect(f.check).toBe('merchant_5xx');
    expect(f.message).toMatch(/answered 502, which is not a handled gateway failure here \(accepted: 503;/);
    expect(f.expected).toBe('an answer below 500, or 503 with a body that shows no stack trace');
  }, 60_000);
});
