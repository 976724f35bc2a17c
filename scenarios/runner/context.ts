import type { Faker } from '@faker-js/faker';
import type { SchemaRegistry } from '../../contracts/schema-registry.js';
import type { JournalEntry } from '../../mock-server/journal/journal-entry.js';
import type { BrowserShopper, BrowserSource } from './browser/browser-session.js';
import type { CheckConfig } from './check-config.js';
import type { Isolation } from './isolation.js';
import type { DeliveryView, MerchantView, SandboxClient } from './sandbox-client.js';
import type { RunnerScenario } from './suite-loader.js';
import type { TemplateScope } from './template.js';

export const CREATE_PATH = '/api/v1/merchant-widget/payment';

/** What the whole run shares. */
export interface RunContext {
  config: CheckConfig;
  sandbox: SandboxClient;
  merchant: MerchantView;
  schemas: SchemaRegistry;
  /** `{{sandbox.url}}`, `{{merchant.app_id}}`, `{{app.url}}`, … */
  vars: Record<string, unknown>;
  /** Gateway order ids seen in earlier scenarios, with the scenario that used them. */
  orderIds: Map<string, string>;
  /** The sandbox's callback timeout when known (embedded), for runner-sent duplicates. */
  callbackTimeoutMs: number;
  /** Journal entries already taken as some scenario's create-payment (scenarios may run at once). */
  claimed: Set<number>;
  /** How sandbox scenarios are activated without leaking into other runner scenarios. */
  isolation: Isolation;
  /** Chromium for the browser trigger (launched once per run, on first use). */
  browser: BrowserSource;
}

/** How the merchant answered the trigger. */
export interface TriggerRecord {
  kind: 'http' | 'command' | 'runner' | 'browser';
  /** e.g. `POST http://127.0.0.1:3000/checkout`. */
  request: string;
  started_at: number;
  duration_ms: number;
  status?: number;
  body?: unknown;
  text?: string;
  exit_code?: number | null;
  timed_out?: boolean;
  /** The shop never answered: it could not be reached (refused, no such host). */
  error?: string;
  /** The shop accepted the connection, then dropped it (reset or closed) instead of answering. */
  dropped?: string;
}

/** One scenario's state while its steps run. */
export interface ScenarioState {
  scenario: RunnerScenario;
  index: number;
  faker: Faker;
  vars: Record<string, unknown>;
  used: Set<string>;
  /** The newest journal id before the trigger: later entries belong to this scenario. */
  mark: number;
  trigger?: TriggerRecord;
  /** The merchant's create-payment, from the journal. */
  create?: JournalEntry;
  hash?: string;
  /** The delivery the callback steps found (redeliver/duplicate act on it). */
  delivery?: DeliveryView;
  sandboxScenario: string | null;
  /** Notes of the step that is running. */
  notes: string[];
  /** The shopper's browser page, when the trigger is `browser`. */
  browser?: BrowserShopper;
  /** Run when the scenario ends, newest first (closes its browser context, …). */
  cleanups: Array<() => Promise<unknown>>;
}

export const scopeOf = (s: ScenarioState): TemplateScope => ({ vars: s.vars, faker: s.faker, used: s.used });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value or `ms` pass. */
export async function waitFor<T>(
  ms: number,
  probe: () => Promise<T | undefined>,
  everyMs = 25,
): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = await probe();
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) return undefined;
    await sleep(everyMs);
  }
}

/** The path of a journal entry without its query string. */
export const pathOf = (e: Pick<JournalEntry, 'path'>) => e.path.split('?')[0]!;
