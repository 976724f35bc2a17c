import type { JournalEntry } from '../../mock-server/journal/journal-entry.js';

/** A callback delivery as `GET /__admin/callbacks` shows it (the fields the runner reads). */
export interface DeliveryView {
  id: string;
  transaction_hash: string;
  url: string;
  body: string;
  status: string;
  state: 'pending' | 'retrying' | 'delivering' | 'acknowledged' | 'failed';
  created_at: number;
  next_attempt_at: number | null;
  note: string | null;
  scenario?: {
    name: string;
    action?: string;
    explanation: string;
    fail_first?: number;
    stale?: { status: string };
  };
  attempts: {
    attempt: number;
    trigger: string;
    sent: boolean;
    response_status: number | null;
    response_headers: Record<string, string> | null;
    response_body: string | null;
    latency_ms: number;
    verdict: 'acknowledged' | 'failed';
    reason: string;
  }[];
}

export interface TransactionView {
  transaction_hash: string;
  order_id: string;
  app_id: string;
  amount: number;
  status: string;
  urls: Record<string, string | undefined>;
}

export interface MerchantView {
  app_id: string;
  app_key: string;
  name: string;
  domains: string[];
  envelope: 'reference' | 'widget';
  locale?: 'ru' | 'en';
  strict_domains?: boolean;
  acquirer_options_version?: 1 | 2;
  notify_on?: Array<'cancelled' | 'refunded'>;
  builtin?: boolean;
  callback_post_url?: string;
  callback_back_url?: string;
  callback_success_url?: string;
  callback_failed_url?: string;
  scenario?: string;
}

/** A scenario as `GET /__admin/scenarios` lists it (its steps carry `index` and `explain` too). */
export interface ScenarioView {
  name: string;
  description: string;
  steps: Array<Record<string, unknown>>;
}

/**
 * How long a merchant `ktpay-mock run` or `probe` creates on a sandbox lives at most: 6 h. It is
 * ephemeral (`ttl`), so a run killed before it deletes the merchant leaves nothing for long.
 */
export const RUN_MERCHANT_TTL_S = 6 * 3600;

/** The sandbox answered something the runner did not expect (not a merchant defect). */
export class SandboxError extends Error {
  override name = 'SandboxError';
}

/**
 * The runner's HTTP client for the sandbox's admin API. The embedded and the external sandbox are
 * driven through the same HTTP calls, so both modes check the same thing.
 *
 * @example
 * const sandbox = createSandboxClient('http://127.0.0.1:8077');
 * const [entry] = await sandbox.journal({ limit: 1 });
 */
export function createSandboxClient(baseUrl: string, adminToken?: string) {
  const base = baseUrl.replace(/\/+$/, '');
  const auth: Record<string, string> = adminToken ? { authorization: `Bearer ${adminToken}` } : {};
  const json = { ...auth, 'content-type': 'application/json' };

  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    okStatuses: number[] = [],
  ): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? auth : json,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (err) {
      throw new SandboxError(`sandbox ${base} did not answer ${method} ${path}: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok && !okStatuses.includes(res.status)) {
      const auth = res.status === 401 ? ' (set --admin-token to the sandbox ADMIN_TOKEN)' : '';
      throw new SandboxError(
        `sandbox answered ${method} ${path} with ${res.status}${auth}: ${text.slice(0, 300)}`,
      );
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new SandboxError(`sandbox answered ${method} ${path} with non-JSON: ${text.slice(0, 200)}`);
    }
  }

  return {
    url: base,
    health: () => call<{ status: string }>('GET', '/__admin/health'),
    async journal(
      q: { limit?: number; transaction_hash?: string; order_id?: string; app_id?: string } = {},
    ): Promise<JournalEntry[]> {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v !== undefined) qs.set(k, String(v));
      return (await call<{ entries: JournalEntry[] }>('GET', `/__admin/journal?${qs}`)).entries;
    },
    /** The id of the newest journal entry (0 when empty): later entries have larger ids. */
    async journalMark(): Promise<number> {
      const [newest] = await this.journal({ limit: 1 });
      return newest?.id ?? 0;
    },
    async deliveries(hash: string): Promise<DeliveryView[]> {
      return (
        await call<{ deliveries: DeliveryView[] }>(
          'GET',
          `/__admin/callbacks?transaction_hash=${hash}&limit=100`,
        )
      ).deliveries;
    },
    redeliver: (id: string) => call<DeliveryView>('POST', `/__admin/callbacks/${id}/redeliver`, {}),
    transaction: (hash: string) => call<TransactionView>('GET', `/__admin/transactions/${hash}`),
    async transactionsByOrder(orderId: string, appId: string): Promise<TransactionView[]> {
      const qs = new URLSearchParams({ order_id: orderId, app_id: appId });
      return (await call<{ transactions: TransactionView[] }>('GET', `/__admin/transactions?${qs}`))
        .transactions;
    },
    clear: (hash: string) => call<TransactionView>('POST', `/__admin/transactions/${hash}/clear`, {}, [409]),
    merchant: (appId: string) => call<MerchantView>('GET', `/__admin/merchants/${appId}`),
    createMerchant: (input: Record<string, unknown>) =>
      call<MerchantView>('POST', '/__admin/merchants', input),
    /** Deletes a merchant with all its data (transactions, callbacks, journal, its scenarios). */
    deleteMerchant: (appId: string) =>
      call<unknown>('DELETE', `/__admin/merchants/${appId}`, undefined, [404]),
    /** The library and user scenarios with their steps (`GET /__admin/scenarios`). */
    scenarios: () => call<{ library: ScenarioView[]; custom: ScenarioView[] }>('GET', '/__admin/scenarios'),
    activate: (appId: string, name: string) =>
      call<MerchantView>('PUT', `/__admin/merchants/${appId}/scenario`, { name }),
    /**
     * Defines a scenario *for* a merchant and activates it, in one call: the definition belongs to
     * that merchant, so deleting the merchant (or its `ttl` running out) deletes it too.
     */
    activateDefinition: (appId: string, definition: { name: string } & Record<string, unknown>) =>
      call<MerchantView>('PUT', `/__admin/merchants/${appId}/scenario`, { scenario: definition }),
    deactivate: (appId: string) => call<MerchantView>('DELETE', `/__admin/merchants/${appId}/scenario`),
  };
}

export type SandboxClient = ReturnType<typeof createSandboxClient>;
