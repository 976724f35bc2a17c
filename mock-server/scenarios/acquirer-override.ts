import { loadAcquirerData } from '../acquirer/acquirer-data.js';
import type { AcquirerOverride, OverrideQuery } from '../acquirer/bank-decision.js';
import type { Transaction } from '../payments/transaction.js';
import type { SandboxContext } from '../sandbox-context.js';

/**
 * Turns scenario steps on the `pay` and `service` endpoints into the emulated bank's override
 * (`acquirer_outcome`, `service_outcome`). The payment's own scenario (header / order_id at create
 * time) and its merchant's scenario apply, as for every other endpoint.
 *
 * @example
 * await app.register(shopperJourney, { ctx, acquirerOverride: scenarioAcquirerOverride(ctx) });
 */
export function scenarioAcquirerOverride(ctx: SandboxContext) {
  const failureCode = loadAcquirerData().cards.three_ds.failure_code;
  return async (tx: Transaction, query: OverrideQuery): Promise<AcquirerOverride | undefined> => {
    const hit = await ctx.scenarios.resolve({
      endpoint: query.phase,
      app_id: tx.app_id,
      order_id: tx.order_id,
      amount: tx.amount,
      card: query.pan,
      transaction: { hash: tx.hash, scenario: tx.scenario },
      merchant_scenario: (await ctx.merchants.get(tx.app_id))?.scenario,
    });
    const e = hit?.effect;
    if (e?.type === 'acquirer_outcome') {
      if (e.shopper === 'timeout') return { unavailable: true };
      if (e.shopper === 'abandon') return { three_ds: 'challenge', code: failureCode };
      return {
        ...(e.code !== undefined ? { code: e.code } : {}),
        ...(e.three_ds !== undefined ? { three_ds: e.three_ds } : {}),
      };
    }
    if (e?.type === 'service_outcome') return { service: e.result };
    return undefined;
  };
}
