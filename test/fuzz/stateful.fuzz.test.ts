import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { APP_ID, APP_KEY } from '../helpers/sandbox.js';
import { FuzzViolation, watchProcess, type TargetRecord } from './fuzz-harness.js';
import { commandArbitraries, type Real } from './stateful/commands.js';
import { okJson } from './stateful/expect.js';
import { Model } from './stateful/model.js';
import { checkReads } from './stateful/read-paths.js';
import { FUZZ_JOURNAL_SIZE, SandboxUnderTest, type StoreKind } from './stateful/sandbox-under-test.js';

/**
 * Issue 22 §2: stateful, model-based fuzzing. Random sequences of commands by several merchants —
 * creates with fuzzed payloads, pays, clears, cancels, refunds, scenario activations, admin writes,
 * outbox flushes, time passing and (SQLite) restarts — each followed by a read of every read path,
 * which must answer without a 5xx and agree with the model (test/fuzz/stateful/).
 *
 * Sequences per store: FUZZ_SEQUENCES, else FUZZ_RUNS / 10 under `npm run fuzz` (10,000 → 1,000
 * per store, 2,000 in all),
 * else a short seeded run for `npm test`. A failure prints fast-check's counterexample, its seed
 * and its path; FUZZ_SEED and FUZZ_PATH replay it.
 */

export function statefulSequences(): number {
  const explicit = Number(process.env.FUZZ_SEQUENCES);
  if (Number.isInteger(explicit) && explicit > 0) return explicit;
  const runs = Number(process.env.FUZZ_RUNS);
  if (Number.isInteger(runs) && runs > 0) return Math.ceil(runs / 10);
  return 3;
}

const SEQUENCES = statefulSequences();
const MAX_COMMANDS = 24;
const SEEDS: Record<StoreKind, number> = { memory: 2205, sqlite: 2205 };

/** A reset sandbox and the model of it: the built-in merchant, nothing else. */
async function fresh(sb: SandboxUnderTest): Promise<Model> {
  okJson(await sb.request({ method: 'POST', url: '/__admin/reset' }), 'reset', 'adminDone');
  const model = new Model(sb.kind, FUZZ_JOURNAL_SIZE);
  model.merchants.push({
    app_id: APP_ID,
    app_key: APP_KEY,
    envelope: 'reference',
    locale: 'ru',
    notify_on: [],
    callback_post_url: null,
    acquirer_options_version: 2,
    builtin: true,
    deleted: false,
    scenario: null,
    orderIds: [],
  });
  await checkReads(model, sb, []);
  return model;
}

/**
 * Runs `sequences` command sequences against one sandbox and writes the record `npm run fuzz`
 * turns into RELIABILITY.md's table. Throws fast-check's report (counterexample, seed, path).
 */
export async function runStateful(
  kind: StoreKind,
  sequences: number,
  opts: { seed?: number; breakAfter?: number } = {},
) {
  const faults = watchProcess();
  const faultsBefore = faults.length;
  const sb = new SandboxUnderTest(kind);
  await sb.start();
  const real: Real = { sb, steps: 0, timing: {} };
  const started = Date.now();
  const seed = Number(process.env.FUZZ_SEED ?? opts.seed ?? SEEDS[kind]);
  const path = process.env.FUZZ_PATH;
  const replayPath = process.env.FUZZ_REPLAY_PATH;
  let details: fc.RunDetails<[Iterable<fc.AsyncCommand<Model, Real>>]>;
  try {
    const property = fc.asyncProperty(
      fc.commands(commandArbitraries, {
        maxCommands: MAX_COMMANDS,
        size: 'max',
        ...(replayPath ? { replayPath } : {}),
      }),
      async (cmds) => {
        const model = await fresh(sb);
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        // A deliberately wrong expectation, for the test that shows a failure names its seed.
        if (opts.breakAfter !== undefined && real.steps >= opts.breakAfter)
          throw new FuzzViolation(`deliberate failure after ${real.steps} steps`);
      },
    );
    details = await fc.check(property, { numRuns: sequences, seed, ...(path ? { path } : {}) });
    await sb.drainStream();
  } finally {
    await sb.dispose();
  }
  const newFaults = faults.slice(faultsBefore);
  const timing = Object.entries(real.timing)
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([k, t]) => `${k} ${t.n}× ${(t.ms / t.n).toFixed(0)} ms`)
    .join(', ');
  const record: TargetRecord & { steps: number; timing: string } = {
    asked: sequences,
    target: `stateful: ${kind} store`,
    runs: details.numRuns,
    failures: (details.failed ? 1 : 0) + newFaults.length,
    seed: details.seed,
    ms: Date.now() - started,
    transactions_checked: 0,
    responses: sb.tally,
    steps: real.steps,
    timing,
  };
  if (process.env.FUZZ_REPORT && opts.breakAfter === undefined)
    appendFileSync(process.env.FUZZ_REPORT, `${JSON.stringify(record)}\n`);
  if (details.failed) {
    const cause =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const report = fc.defaultReportMessage(details) ?? '';
    const commandsPath = /replayPath="([^"]*)"/.exec(report)?.[1] ?? '';
    throw new FuzzViolation(
      `stateful ${kind}: ${cause}\nreplay: FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''} FUZZ_REPLAY_PATH='${commandsPath}' npx vitest run test/fuzz/stateful.fuzz.test.ts -t '${kind} store'\n${report}`,
    );
  }
  if (newFaults.length > 0) throw new FuzzViolation(`stateful ${kind}: ${newFaults.join('; ')}`);
  return record;
}

describe('stateful fuzz: every read path after every step, against a model', () => {
  for (const kind of ['memory', 'sqlite'] as const) {
    it(
      `${kind} store: ${SEQUENCES} sequences of up to ${MAX_COMMANDS} commands`,
      { timeout: 120_000 + SEQUENCES * 2_000 },
      async () => {
        const record = await runStateful(kind, SEQUENCES);
        console.log(
          `stateful ${kind}: ${record.runs} sequences, ${record.steps} steps, ${(record.ms / 1000).toFixed(1)} s, seed ${record.seed}; per command with its reads: ${record.timing}`,
        );
        // A replay (FUZZ_PATH) runs the one counterexample it names.
        const asked = process.env.FUZZ_PATH ? 1 : SEQUENCES;
        expect(record.runs).toBe(asked);
        expect(record.steps).toBeGreaterThan(asked);
      },
    );
  }

  it('a failure names its seed and how to replay it', { timeout: 60_000 }, async () => {
    const err = await runStateful('memory', 3, { seed: 77, breakAfter: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FuzzViolation);
    const message = (err as Error).message;
    expect(message).toContain('deliberate failure');
    expect(message).toMatch(/replay: FUZZ_SEED=77 FUZZ_PATH=\S+/);
    expect(message).toMatch(/seed: 77, path: "[^"]+"/);
    expect(message).toContain('Counterexample');
  });
});
