/**
 * `ktpay-mock`: the programmatic API, in the spirit of msw's `setupServer` and mockttp's
 * `getLocal`. It starts a real sandbox on a free port inside the test process.
 *
 * @example
 * import { startSandbox } from 'ktpay-mock';
 * const sandbox = await startSandbox({ clearing_delay_ms: 0, callbacks: { time_scale: 0.001 } });
 * // point your shop at sandbox.url with sandbox.merchant.app_id / app_key, create a payment, then:
 * await sandbox.pay(hash, { pan: '4405639704015096', exp_month: '12', exp_year: '30', cvc: '123' });
 * const delivery = await sandbox.waitForCallback({ transaction_hash: hash });
 * await sandbox.close();
 */
import type { SandboxConfigInput } from '../contracts/types.js';
import type { Delivery } from './callbacks/delivery.js';
import { loadConfig } from './config/load-config.js';
import type { JournalEntry, JournalFilter } from './journal/journal-entry.js';
import { DEFAULT_MERCHANT } from './merchants/default-merchant.js';
import { appKeyOf } from './merchants/merchant.js';
import { startServer } from './server.js';

export { buildApp } from './app.js';
export { loadConfig, type SandboxConfig } from './config/load-config.js';
export { startServer } from './server.js';
export { DEFAULT_MERCHANT } from './merchants/default-merchant.js';

export interface TestCard {
  pan: string;
  exp_month: string;
  exp_year: string;
  cvc: string;
  cardholder?: string;
  otp?: string;
}

export interface CallbackFilter {
  transaction_hash?: string;
  order_id?: string;
  /** The final status the callback carries, e.g. `completed`. */
  status?: string;
  /** Wait for the receiver's acknowledgement, not just the first attempt (default true). */
  acknowledged?: boolean;
  timeout_ms?: number;
}

export interface Sandbox {
  url: string;
  merchant: { app_id: string; app_key: string };
  /** Pays a payment headlessly (the same pipeline as the hosted pages). Returns the status object. */
  pay(hash: string, card: TestCard): Promise<Record<string, unknown>>;
  /** Resolves with the first callback delivery matching the filter. */
  waitForCallback(filter: CallbackFilter): Promise<Delivery>;
  /** The request journal, newest first. */
  journal(filter?: JournalFilter): Promise<JournalEntry[]>;
  close(): Promise<void>;
}

/** Starts an in-process sandbox on `127.0.0.1` and a free port. Config uses the file schema's keys. */
export async function startSandbox(
  config: SandboxConfigInput = {},
  env: Record<string, string> = {},
): Promise<Sandbox> {
  const cfg = loadConfig({
    env: { LOG_LEVEL: 'silent', ...env },
    flags: { port: 0, host: '127.0.0.1', ...config },
  });
  const server = await startServer(cfg, { logger: false });
  const ctx = server.app.sandbox;
  const merchant = await ctx.merchants.get(DEFAULT_MERCHANT.app_id);
  const adminHeaders: Record<string, string> = { 'content-type': 'application/json' };
  if (cfg.admin_token) adminHeaders.authorization = `Bearer ${cfg.admin_token}`;

  return {
    url: server.url,
    merchant: merchant
      ? { app_id: merchant.app_id, app_key: appKeyOf(merchant, ctx.clock.now()) }
      : { app_id: DEFAULT_MERCHANT.app_id, app_key: DEFAULT_MERCHANT.app_key },
    async pay(hash, card) {
      const res = await fetch(`${server.url}/__admin/transactions/${hash}/pay`, {
        method: 'POST',
        headers: adminHeaders,
        body: JSON.stringify(card),
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`pay ${hash} failed: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    waitForCallback(filter) {
      const timeout = filter.timeout_ms ?? 10_000;
      const wantAck = filter.acknowledged ?? true;
      const started = Date.now();
      const candidates = async () => {
        const hashes = filter.transaction_hash
          ? [filter.transaction_hash]
          : filter.order_id
            ? (await ctx.store.listTransactions({ order_id: filter.order_id })).map((t) => t.hash)
            : undefined;
        return hashes
          ? (await Promise.all(hashes.map((h) => ctx.store.listDeliveries({ transaction_hash: h })))).flat()
          : ctx.store.listDeliveries({});
      };
      return new Promise((resolve, reject) => {
        const poll = async () => {
          const hit = (await candidates()).find(
            (d) =>
              (!filter.status || d.status === filter.status) &&
              (wantAck ? d.state === 'acknowledged' : d.attempts.length > 0),
          );
          if (hit) return resolve(hit);
          if (Date.now() - started > timeout) {
            return reject(new Error(`no callback matching ${JSON.stringify(filter)} within ${timeout} ms`));
          }
          setTimeout(check, 20);
        };
        const check = () => void poll().catch(reject);
        check();
      });
    },
    journal: (filter = {}) => ctx.store.listJournal(filter),
    close: () => server.close(),
  };
}
