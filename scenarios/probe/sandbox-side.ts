import { cryptoReady, generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import {
  createSandboxClient,
  RUN_MERCHANT_TTL_S,
  SandboxError,
  type MerchantView,
} from '../runner/sandbox-client.js';
import { apiBase, type ProbeTarget } from './probe-request.js';

export interface SandboxSideOptions {
  /** A running sandbox; an embedded one is started when absent. */
  sandbox?: string;
  adminToken?: string;
  /** Probe as this existing merchant instead of a merchant made for the run. */
  merchant?: string;
  /** The run's own merchant: its dialect (also the embedded sandbox's default) and acquirer-options version. */
  envelope: 'reference' | 'widget';
  acquirerOptions: 1 | 2;
}

export interface SandboxSide {
  mode: 'embedded' | 'external';
  url: string;
  target: ProbeTarget;
  merchant: {
    app_id: string;
    created: boolean;
    envelope: string;
    acquirer_options_version: number;
  };
  close(): Promise<void>;
}

/** The sandbox side could not be set up (not reachable, admin token wrong, unknown merchant). */
export class SandboxSideError extends Error {
  override name = 'SandboxSideError';
}

type View = MerchantView & { acquirer_options_version?: number };

/**
 * Starts (or reaches) the sandbox the probe compares with and makes a merchant for the run, so the
 * probe's payments never mix with anyone else's. The merchant is ephemeral (a `ttl` of 6 h), and
 * closing deletes it with its data (on a running sandbox) or stops the embedded sandbox.
 *
 * @example
 * const side = await openSandboxSide({ envelope: 'widget', acquirerOptions: 2 });
 * // … side.target.apiUrl, side.target.appId …
 * await side.close();
 */
export async function openSandboxSide(o: SandboxSideOptions): Promise<SandboxSide> {
  let url: string;
  let stop = async () => {};
  if (o.sandbox) {
    url = new URL(o.sandbox).origin;
  } else {
    const { startSandbox } = await import('../../mock-server/index.js');
    const embedded = await startSandbox({ envelope: o.envelope, clearing_delay_ms: 'manual' });
    url = embedded.url;
    stop = () => embedded.close();
  }
  const client = createSandboxClient(url, o.adminToken);
  try {
    await client.health();
    let view: View;
    let created = false;
    if (o.merchant) {
      view = await client.merchant(o.merchant);
    } else {
      await cryptoReady();
      view = await client.createMerchant({
        name: 'ktpay-mock probe',
        domains: ['localhost'],
        public_key: generateKeypair().publicKey,
        envelope: o.envelope,
        acquirer_options_version: o.acquirerOptions,
        // Ephemeral: a probe killed before it deletes the merchant leaves nothing behind for long.
        ttl: RUN_MERCHANT_TTL_S,
      });
      created = true;
    }
    return {
      mode: o.sandbox ? 'external' : 'embedded',
      url,
      target: { apiUrl: apiBase(url), appId: view.app_id, appKey: view.app_key },
      merchant: {
        app_id: view.app_id,
        created,
        envelope: view.envelope,
        acquirer_options_version: view.acquirer_options_version ?? 2,
      },
      async close() {
        if (created && o.sandbox) await client.deleteMerchant(view.app_id).catch(() => undefined);
        await stop();
      },
    };
  } catch (err) {
    await stop();
    if (err instanceof SandboxError) throw new SandboxSideError(err.message);
    throw err;
  }
}
