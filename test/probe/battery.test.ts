import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { cryptoReady, generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import { BATTERY, PROBE_ORDER_PREFIX } from '../../scenarios/probe/battery.js';
import { orderIdOf, runStamp } from '../../scenarios/probe/probe-request.js';
import { liveSource, runBattery, type ProbeOutcome } from '../../scenarios/probe/probe-run.js';
import { readAnswer } from '../../scenarios/probe/read-answer.js';
import { createRedactor } from '../../scenarios/probe/redact.js';
import { openSandboxSide, type SandboxSide } from '../../scenarios/probe/sandbox-side.js';

/**
 * The battery is data; this checks the data against the sandbox it was written for: each probe
 * gets the answer its `sandbox_default` names, success payloads follow their contract, and the
 * battery only ever creates, reads and cancels (never pays).
 */
describe('the probe battery against the sandbox defaults', () => {
  let side: SandboxSide;
  let outcomes: ProbeOutcome[];
  const registry = createSchemaRegistry();
  const stamp = runStamp(new Date());

  beforeAll(async () => {
    await cryptoReady();
    side = await openSandboxSide({ envelope: 'reference', acquirerOptions: 2 });
    // The sandbox on both sides (each with its own order ids): every comparison must come out empty.
    const source = (s: string) =>
      liveSource(
        'sandbox',
        side.target,
        { stamp: s, foreignKey: generateKeypair().publicKey },
        createRedactor({}),
        10_000,
      );
    outcomes = await runBattery(
      BATTERY,
      source(`${stamp}-a`),
      source(stamp),
      (n, v) => registry.validator(n)(v) === true,
      (p) => orderIdOf(stamp, p.id),
    );
  });
  afterAll(() => side?.close());

  it('gets the documented answer to every probe, and no drift against itself', () => {
    for (const o of outcomes) {
      expect(o.sandbox.kind, o.probe.id).toBe('answered');
      if (o.sandbox.kind !== 'answered') continue;
      const a = readAnswer(o.sandbox.answer);
      expect({ id: o.probe.id, status: a.status, code: a.code }).toEqual({
        id: o.probe.id,
        status: o.probe.sandbox_default.status,
        code: o.probe.sandbox_default.code,
      });
      if (a.outcome === 'success')
        expect(registry.validator(o.probe.contracts[0]!)(a.payload), o.probe.id).toBe(true);
      expect(o.drifts, o.probe.id).toEqual([]);
    }
  });

  it('marks every order id it sends as a probe, unique per probe', () => {
    const sent = outcomes.flatMap((o) => {
      const payload = o.sandbox.kind === 'answered' ? o.sandbox.request.payload : undefined;
      const id = (payload as { order?: { order_id?: unknown } } | undefined)?.order?.order_id;
      return typeof id === 'string' ? [id] : [];
    });
    expect(sent.length).toBeGreaterThan(10);
    for (const id of sent) expect(id.startsWith(`${PROBE_ORDER_PREFIX}-${stamp}-`), id).toBe(true);
  });

  it('only creates, reads and cancels: no pay, clear or refund path, and one payment left, cancelled', async () => {
    for (const p of BATTERY)
      expect(p.path).toMatch(/^\/payment(\/\{(unknown_)?hash\}(\/acquirer-options|\/cancel)?)?$/);
    const res = await fetch(`${side.url}/__admin/transactions?app_id=${side.merchant.app_id}`);
    const { transactions } = (await res.json()) as { transactions: { order_id: string; status: string }[] };
    // Twice the battery (it played both sides), so two payments: both cancelled by cancel-own.
    expect(transactions.map((t) => t.status)).toEqual(['cancelled', 'cancelled']);
  });
});
