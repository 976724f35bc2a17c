import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { runnerStep } from '../../contracts/schemas/check-config.js';
import { CheckConfigError, loadCheckConfig, parseTriggerFlag } from './check-config.js';
import { STEPS } from './steps/index.js';
import { checkSuiteFile, loadSuites } from './suite-loader.js';

const dir = mkdtempSync(join(tmpdir(), 'ktpay-check-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe('loadCheckConfig', () => {
  it('finds ktpay-mock.check.yaml in the working folder, resolves paths against it, and lets flags win', () => {
    write(
      'ktpay-mock.check.yaml',
      'sandbox: http://127.0.0.1:8077\nseed: 4\nout: reports\nsuites: [merchant-checks, ./mine.yaml]\nreporters: [junit]\n',
    );
    const c = loadCheckConfig({}, dir);
    expect(c.configFile).toBe(join(dir, 'ktpay-mock.check.yaml'));
    expect(c.sandbox).toBe('http://127.0.0.1:8077');
    expect(c.seed).toBe(4);
    expect(c.out).toBe(join(dir, 'reports'));
    expect(c.suites).toEqual(['merchant-checks', join(dir, 'mine.yaml')]);
    const f = loadCheckConfig(
      { sandbox: 'embedded', seed: 9, reporters: ['json', 'pretty'], files: ['x.yaml'] },
      dir,
    );
    expect([f.sandbox, f.seed, f.reporters, f.suites]).toEqual([
      'embedded',
      9,
      ['json', 'pretty'],
      [join(dir, 'x.yaml')],
    ]);
    expect(Object.isFrozen(f)).toBe(true);
  });

  it('rejects a bad config with every field named, and conflicting options in words', () => {
    const bad = write(
      'bad.yaml',
      'sandbox: ftp://x\ntrigger: { http: { method: POST } }\nverify: { url: x, expect: { paid: { status: paid } } }\nreporter: [junit]\n',
    );
    expect(() => loadCheckConfig({ config: bad }, dir)).toThrow(CheckConfigError);
    try {
      loadCheckConfig({ config: bad }, dir);
    } catch (err) {
      const m = (err as Error).message;
      expect(m).toMatch(/sandbox: must match pattern/);
      expect(m).toMatch(/trigger\.http: must have required property 'url'/);
      expect(m).toMatch(/\(reporter\)/);
    }
    const both = write('both.yaml', 'trigger: { http: { url: "http://x/checkout" }, command: "curl x" }\n');
    expect(() => loadCheckConfig({ config: both }, dir)).toThrow(/trigger has http and command; keep one/);
    expect(() =>
      loadCheckConfig({ config: join(dir, 'ktpay-mock.check.yaml'), merchant: 'nope' }, dir),
    ).toThrow(/--merchant must be an app_id/);
    expect(() => loadCheckConfig({ config: join(dir, 'missing.yaml') }, dir)).toThrow(
      /cannot read it \(ENOENT\)/,
    );
  });

  it('reads the issue-18 settings: parallel, gateway_error, correlate, a browser trigger, the html reporter', () => {
    const file = write(
      'new.yaml',
      [
        'parallel: 4',
        'reporters: [junit, html]',
        'trigger:',
        '  browser: { url: "{{app.url}}/", actions: [{ fill: { selector: "#email", value: "a@b.kz" } }, { select: { selector: "#q", value: "2" } }, { click: "#buy" }] }',
        '  gateway_error: { status: [502, 503] }',
        '  correlate: { order_id: "$.order.id" }',
      ].join('\n'),
    );
    const c = loadCheckConfig({ config: file }, dir);
    expect([c.parallel, c.reporters, c.gatewayErrorStatuses]).toEqual([4, ['junit', 'html'], [502, 503]]);
    expect(c.trigger?.browser?.actions).toHaveLength(3);
    expect(loadCheckConfig({ config: file, parallel: 2 }, dir).parallel).toBe(2);
    // Defaults: one at a time; 502, 503 and 504 are handled failures.
    const plain = loadCheckConfig({ config: write('plain.yaml', 'seed: 1\n') }, dir);
    expect([plain.parallel, plain.gatewayErrorStatuses]).toEqual([1, [502, 503, 504]]);
    expect(() => loadCheckConfig({ config: file, parallel: 0 }, dir)).toThrow(
      /--parallel must be a whole number from 1 to 32/,
    );
    const bad = write(
      'bad-new.yaml',
      'trigger: { http: { url: "http://x" }, browser: { url: "http://x" }, gateway_error: { status: [500] } }\n',
    );
    expect(() => loadCheckConfig({ config: bad }, dir)).toThrow(
      /trigger\.gateway_error\.status\.0: must be >= 501/,
    );
    const both = write(
      'both-kinds.yaml',
      'trigger: { http: { url: "http://x" }, browser: { url: "http://x" } }\n',
    );
    expect(() => loadCheckConfig({ config: both }, dir)).toThrow(/trigger has http and browser; keep one/);
    const action = write(
      'bad-action.yaml',
      'trigger: { browser: { url: "http://x", actions: [{ hover: "#a" }] } }\n',
    );
    expect(() => loadCheckConfig({ config: action }, dir)).toThrow(/trigger\.browser\.actions\.0/);
  });

  it('parses --trigger as a request or a shell command, keeping the file trigger actions', () => {
    expect(parseTriggerFlag('http://shop/checkout', undefined)).toEqual({
      http: {
        method: 'POST',
        url: 'http://shop/checkout',
        body: { order_id: '{{order_id}}', amount: '{{amount}}' },
      },
    });
    expect(
      parseTriggerFlag('PUT https://shop/c', {
        refund: { url: 'http://shop/r' },
        gateway_error: { status: [503] },
        correlate: { order_id: '$.id' },
      }),
    ).toMatchObject({
      http: { method: 'PUT' },
      refund: { url: 'http://shop/r' },
      gateway_error: { status: [503] },
      correlate: { order_id: '$.id' },
    });
    expect(parseTriggerFlag('./checkout.sh {{order_id}}', undefined)).toEqual({
      command: './checkout.sh {{order_id}}',
    });
  });
});

describe('suite files', () => {
  const schemas = createSchemaRegistry();

  it('every runner step type of the contract has an implementation that explains itself', () => {
    const types = runnerStep.oneOf.map((b) => b.properties.type.const).sort();
    expect(Object.keys(STEPS).sort()).toEqual(types);
  });

  it('the built-in suite loads, each scenario starts with a trigger (or an activation), and names only library scenarios', async () => {
    const suite = loadSuites(['merchant-checks'], schemas);
    expect(suite.length).toBeGreaterThanOrEqual(22);
    const { loadScenarioDir, BUILTIN_SCENARIO_DIR } =
      await import('../../mock-server/scenarios/scenario-library.js');
    const library = new Set(loadScenarioDir(BUILTIN_SCENARIO_DIR, schemas).map((s) => s.name));
    for (const s of suite) {
      const first = s.steps.find((x) => x.type !== 'activate');
      expect(first?.type, s.name).toBe('trigger');
      for (const st of s.steps)
        if (st.type === 'activate')
          expect(library.has(st.scenario), `${s.name} activates ${st.scenario}`).toBe(true);
    }
  });

  it('a user file may mix sandbox steps (match/effect) and runner steps; errors name the step', () => {
    const file = checkSuiteFile(
      {
        name: 'my-flaky',
        description: 'two 5000105 then success',
        steps: [
          { match: { endpoint: 'create' }, times: 2, effect: { type: 'respond_error', code: 5000105 } },
          { type: 'trigger' },
          { type: 'expect_trigger_response', status: '<500' },
        ],
      },
      'mine.yaml',
      schemas,
    );
    expect(file.steps).toHaveLength(3);
    const mixed = write(
      'mixed.yaml',
      'name: m\ndescription: d\nsteps:\n  - type: activate\n    scenario: flaky-create\n  - match: { endpoint: create }\n    effect: { type: delay, ms: 10 }\n',
    );
    expect(() => loadSuites([mixed], schemas)).toThrow(
      /one activate step or inline match\/effect steps, not both/,
    );
    expect(() =>
      checkSuiteFile(
        { name: 'x', description: 'y', steps: [{ type: 'pay', card: { pan: '4405639704015096' } }] },
        'x.yaml',
        schemas,
      ),
    ).toThrow(/step 1 \(type pay\): .*must have required property 'expect'/);
    expect(() =>
      checkSuiteFile({ name: 'x', description: 'y', steps: [{ type: 'teleport' }] }, 'x.yaml', schemas),
    ).toThrow(/step 1 \(type teleport\)/);
  });
});
