import { createSchemaRegistry, type SchemaRegistry } from '../contracts/schema-registry.js';
import { ConfigError, type SandboxConfig } from './config/load-config.js';
import { cryptoReady } from './crypto/sealed-box.js';
import { createMerchantRegistry, type MerchantRegistry } from './merchants/merchant-registry.js';
import { createTransitionHub, type TransitionHub } from './payments/payment-events.js';
import { createPaymentService, type PaymentService } from './payments/payment-service.js';
import { createScenarioEngine, type ScenarioEngine } from './scenarios/scenario-engine.js';
import { createSystemClock, type Clock } from './shared/clock.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

/** Everything one sandbox instance owns. Created per app; nothing is module-global. */
export interface SandboxContext {
  config: SandboxConfig;
  clock: Clock;
  store: Store;
  schemas: SchemaRegistry;
  hub: TransitionHub;
  merchants: MerchantRegistry;
  payments: PaymentService;
  scenarios: ScenarioEngine;
}

export interface ContextOverrides {
  clock?: Clock;
  store?: Store;
}

/**
 * Wires the services together. `buildApp` calls this; tests may pass a manual clock or a store.
 *
 * @example
 * const ctx = await createSandboxContext(loadConfig(), { clock: createManualClock() });
 */
export async function createSandboxContext(config: SandboxConfig, overrides: ContextOverrides = {}): Promise<SandboxContext> {
  await cryptoReady();
  const clock = overrides.clock ?? createSystemClock();
  const store = overrides.store ?? (await openStore(config));
  const schemas = createSchemaRegistry();
  const hub = createTransitionHub();
  const merchants = createMerchantRegistry({ store, clock, config });
  merchants.installBuiltins();
  const payments = createPaymentService({ store, clock, schemas, hub, config });
  const scenarios = createScenarioEngine({ schemas, globalScenario: config.scenario });
  if (config.scenario && !scenarios.has(config.scenario)) {
    throw new ConfigError(`invalid configuration:\n  - scenario: no scenario named "${config.scenario}" (GET /__admin/scenarios lists them)`);
  }
  return { config, clock, store, schemas, hub, merchants, payments, scenarios };
}
