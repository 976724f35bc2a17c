import { createSchemaRegistry, type SchemaRegistry } from '../contracts/schema-registry.js';
import { createCallbackOutbox, type CallbackOutbox } from './callbacks/callback-outbox.js';
import type { Resolver } from './callbacks/destination-guard.js';
import { ConfigError, type SandboxConfig } from './config/load-config.js';
import { createSealedBoxOpener, type SealedBoxOpener } from './crypto/sealed-box.js';
import { startMerchantExpiry, type MerchantExpiry } from './merchants/merchant-expiry.js';
import { createMerchantRegistry, type MerchantRegistry } from './merchants/merchant-registry.js';
import { createTransitionHub, type TransitionHub } from './payments/payment-events.js';
import { createPaymentService, type PaymentService } from './payments/payment-service.js';
import { createScenarioEngine, type ScenarioEngine } from './scenarios/scenario-engine.js';
import { createSystemClock, type Clock } from './shared/clock.js';
import { createActivityFeed, observeStore, type ActivityFeed } from './store/observed-store.js';
import { openStore } from './store/open-store.js';
import { relayActivity, type ActivityRelay } from './store/activity-relay.js';
import { isPostgresStore, type Store } from './store/store.js';

/** Everything one sandbox instance owns. Created per app; nothing is module-global. */
export interface SandboxContext {
  config: SandboxConfig;
  clock: Clock;
  store: Store;
  schemas: SchemaRegistry;
  /** Opens sealed request bodies (sodium-native when installed, else libsodium-wrappers). */
  sealedBox: SealedBoxOpener;
  hub: TransitionHub;
  merchants: MerchantRegistry;
  payments: PaymentService;
  /** The callback outbox and dispatcher (issue 4). */
  callbacks: CallbackOutbox;
  scenarios: ScenarioEngine;
  /** Every store write, as it happens (the dashboard's live view listens). */
  activity: ActivityFeed;
  /** Purges ephemeral merchants (created with `ttl`) once their time is up. */
  expiry: MerchantExpiry;
  /** With a PostgreSQL store: the other replicas' writes into `activity`, and ours to them. */
  relay: ActivityRelay | undefined;
}

export interface ContextOverrides {
  clock?: Clock;
  store?: Store;
  /** Name resolution for callback destinations (tests map names to addresses without DNS). */
  callbackResolver?: Resolver;
}

/**
 * Wires the services together. `buildApp` calls this; tests may pass a manual clock or a store.
 *
 * @example
 * const ctx = await createSandboxContext(loadConfig(), { clock: createManualClock() });
 */
export async function createSandboxContext(
  config: SandboxConfig,
  overrides: ContextOverrides = {},
): Promise<SandboxContext> {
  const sealedBox = createSealedBoxOpener(config.crypto, config.crypto_workers);
  const clock = overrides.clock ?? createSystemClock();
  const activity = createActivityFeed();
  const raw = overrides.store ?? (await openStore(config));
  const store = observeStore(raw, activity);
  // Replicas of a shared store hear each other's writes (the dashboard's live view), issue 17.
  const relay = isPostgresStore(raw) ? await relayActivity({ sql: raw.sql, feed: activity }) : undefined;
  const schemas = createSchemaRegistry();
  const hub = createTransitionHub();
  const merchants = createMerchantRegistry({ store, clock, config });
  await merchants.installBuiltins();
  // A failed sweep is retried by the next one (the shared database away for a moment).
  const expiry = startMerchantExpiry({ store, clock, shared: store.kind === 'postgres' });
  // A durable file may hold ephemeral merchants from the last run: they still expire.
  if (store.kind === 'sqlite' && (await store.listMerchants()).some((m) => m.expires_at !== undefined))
    expiry.watch();
  const scenarios = createScenarioEngine({ schemas, store, globalScenario: config.scenario });
  if (config.scenario && !(await scenarios.has(config.scenario))) {
    throw new ConfigError(
      `invalid configuration:\n  - scenario: no scenario named "${config.scenario}" (GET /__admin/scenarios lists them)`,
    );
  }
  const callbacks = createCallbackOutbox({
    store,
    clock,
    config,
    scenarios,
    ...(overrides.callbackResolver ? { resolve: overrides.callbackResolver } : {}),
  });
  const payments = createPaymentService({ store, clock, schemas, hub, config, callbacks });
  hub.on(callbacks.onTransition);
  return {
    config,
    clock,
    store,
    schemas,
    sealedBox,
    hub,
    merchants,
    payments,
    scenarios,
    callbacks,
    activity,
    expiry,
    relay,
  };
}
