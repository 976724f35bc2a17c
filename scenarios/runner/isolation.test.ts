import { describe, expect, it } from 'vitest';
import type { ScenarioState } from './context.js';
import { createIsolation, INLINE } from './isolation.js';
import type { SandboxClient } from './sandbox-client.js';
import type { RunnerScenario } from './suite-loader.js';

const APP = 'a'.repeat(32);

/** The admin calls the isolation makes, against a sandbox that knows two library scenarios. */
function fakeSandbox() {
  const calls: string[] = [];
  const defined = new Map<string, unknown>();
  const sandbox = {
    scenarios: async () => ({
      library: [
        {
          name: 'create-5000105',
          description: 'd',
          steps: [
            {
              index: 0,
              explain: 'x',
              match: { endpoint: 'create' },
              times: 'always',
              effect: { type: 'respond_error', code: 5000105 },
            },
          ],
        },
        {
          name: 'big-orders-fail',
          description: 'd',
          steps: [
            {
              index: 0,
              explain: 'x',
              match: { endpoint: 'create', amount: 99 },
              effect: { type: 'respond_error', code: 5000001 },
            },
          ],
        },
      ],
      custom: [],
    }),
    activateDefinition: async (app: string, d: { name: string }) => {
      calls.push(`define+activate ${app.slice(0, 4)} ${d.name}`);
      defined.set(d.name, d);
      return { app_id: app, scenario: d.name };
    },
    activate: async (app: string, name: string) => void calls.push(`activate ${app.slice(0, 4)} ${name}`),
    deactivate: async (app: string) => void calls.push(`deactivate ${app.slice(0, 4)}`),
  } as unknown as SandboxClient;
  return { sandbox, calls, defined };
}

const scenario = (name: string, activate?: string, inline = false): RunnerScenario => ({
  suite: 's',
  file: `${name}.yaml`,
  name,
  description: 'd',
  tags: [],
  requires: [],
  browser: false,
  steps: activate ? [{ type: 'activate', scenario: activate }, { type: 'trigger' }] : [{ type: 'trigger' }],
  sandboxSteps: inline
    ? [{ match: { endpoint: 'create' }, times: 2, effect: { type: 'delay', ms: 10 } }]
    : [],
});

const stateOf = (s: RunnerScenario, index: number, amount: number) =>
  ({ scenario: s, index, vars: { amount }, notes: [], sandboxScenario: null }) as unknown as ScenarioState;

describe('isolation of sandbox scenarios', () => {
  it('in parallel, with amounts to tell orders apart: each copy is scoped to its order in one run-wide scenario', async () => {
    const { sandbox, calls, defined } = fakeSandbox();
    const a = scenario('create-error', 'create-5000105');
    const b = scenario('my-flaky', undefined, true);
    const plain = scenario('happy');
    const iso = await createIsolation({
      sandbox,
      appId: APP,
      tag: 'abc123',
      scenarios: [a, b, plain],
      parallel: 4,
      amountScoped: true,
    });
    expect([a, b, plain].map((s) => iso.exclusive(s))).toEqual([false, false, false]);
    // The inline steps delay the create: that scenario is a long one, started first.
    expect([a, b, plain].map((s) => iso.waits(s))).toEqual([false, true, false]);
    const sa = stateOf(a, 1, 1111);
    const sb = stateOf(b, 2, 2222);
    await Promise.all([iso.activate(sa, 'create-5000105'), iso.activate(sb, INLINE)]);
    const def = defined.get('run-abc123') as { steps: { match: { amount?: number }; times?: unknown }[] };
    // Every step is bound to one order; the merchant's one scenario slot holds them all.
    expect(def.steps.map((s) => s.match.amount).sort()).toEqual([1111, 2222]);
    expect(def.steps.find((s) => s.match.amount === 2222)!.times).toBe(2);
    // Each definition is made for the merchant (it goes with it), and only the run-wide one is active.
    expect(calls).toEqual(['define+activate aaaa run-abc123', 'define+activate aaaa run-abc123']);
    expect(sa.sandboxScenario).toBe('create-5000105');
    expect(sa.notes[0]).toMatch(/scoped to this order \(match\.amount 1111\) in run-abc123/);
    await iso.end(sa);
    await iso.close();
    expect(calls.at(-1)).toBe('deactivate aaaa');
  });

  it('a scenario that cannot be scoped (its own amount match, or no {{amount}} in the trigger) runs alone, merchant-wide', async () => {
    const { sandbox, calls } = fakeSandbox();
    const own = scenario('big', 'big-orders-fail');
    const iso = await createIsolation({
      sandbox,
      appId: APP,
      tag: 't1',
      scenarios: [own],
      parallel: 4,
      amountScoped: true,
    });
    expect(iso.exclusive(own)).toBe(true);
    const noAmount = scenario('create-error', 'create-5000105');
    const iso2 = await createIsolation({
      sandbox,
      appId: APP,
      tag: 't2',
      scenarios: [noAmount],
      parallel: 4,
      amountScoped: false,
    });
    expect(iso2.exclusive(noAmount)).toBe(true);
    const st = stateOf(noAmount, 3, 5);
    await iso2.activate(st, 'create-5000105');
    await iso2.end(st);
    expect(calls).toEqual(['define+activate aaaa run-t2-3-create-5000105', 'deactivate aaaa']);
  });

  it('one at a time nothing is exclusive, and each runner scenario gets a copy of its own (fresh use counts)', async () => {
    const { sandbox, calls } = fakeSandbox();
    const x = scenario('x', 'create-5000105');
    const y = scenario('y', 'create-5000105');
    const iso = await createIsolation({
      sandbox,
      appId: APP,
      tag: 'q',
      scenarios: [x, y],
      parallel: 1,
      amountScoped: true,
    });
    expect(iso.exclusive(x)).toBe(false);
    for (const [i, s] of [x, y].entries()) {
      const st = stateOf(s, i + 1, 10);
      await iso.activate(st, 'create-5000105');
      await iso.end(st);
    }
    expect(calls.filter((c) => c.startsWith('define'))).toEqual([
      'define+activate aaaa run-q-1-create-5000105',
      'define+activate aaaa run-q-2-create-5000105',
    ]);
  });
});
