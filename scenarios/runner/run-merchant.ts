import { base, en, Faker } from '@faker-js/faker';
import { cryptoReady, generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import type { CheckConfig } from './check-config.js';
import { RUN_MERCHANT_TTL_S, SandboxError, type MerchantView, type SandboxClient } from './sandbox-client.js';
import { renderString } from './template.js';

/** A problem with the run itself (sandbox unreachable, app does not start): no scenario could run. */
export class RunSetupError extends Error {
  override name = 'RunSetupError';
}

/** The merchant under test, and how to leave the sandbox as the run found it. */
export interface RunMerchant {
  merchant: MerchantView;
  /** `created`: the runner made it for this run (and deletes it); `given`: it was named; `builtin`: the embedded sandbox's own. */
  source: 'created' | 'given' | 'builtin';
  /** Deletes a merchant the run created, or puts back the scenario a given one had. */
  release(): Promise<void>;
}

const URL_KEYS = [
  'callback_post_url',
  'callback_back_url',
  'callback_success_url',
  'callback_failed_url',
] as const;

/** POST /__admin/merchants input from settings; a fresh own key (the runner never seals with it). */
async function merchantInput(
  settings: Partial<MerchantView>,
  name: string,
  ttl: number,
): Promise<Record<string, unknown>> {
  await cryptoReady();
  const input: Record<string, unknown> = {
    name,
    domains: settings.domains,
    public_key: generateKeypair().publicKey,
    ttl,
  };
  for (const key of [
    ...URL_KEYS,
    'envelope',
    'locale',
    'strict_domains',
    'acquirer_options_version',
  ] as const)
    if (settings[key] !== undefined) input[key] = settings[key];
  if (settings.notify_on?.length) input.notify_on = settings.notify_on;
  return input;
}

/**
 * Resolves the merchant the run checks (issue 18):
 * - `merchant.app_id` / `--merchant`: that merchant; a scenario it had active is set aside for the
 *   run and put back afterwards;
 * - `merchant.create`: a merchant with those settings, deleted at the end;
 * - neither, against a running sandbox (`--sandbox`), when the run can give the merchant's keys to
 *   whoever creates the payments (it starts the shop with `app.command` and `{{merchant.app_id}}` /
 *   `{{merchant.app_key}}`, or it is the merchant itself, without a trigger): a merchant of its own
 *   for the run — the built-in merchant's settings under a new app_id and key — deleted at the end,
 *   so two runs against one sandbox share nothing (scenarios, order ids, callbacks);
 * - a merchant the run creates is ephemeral (`merchant.ttl`, default {@link RUN_MERCHANT_TTL_S}):
 *   a run killed before its end leaves nothing on a shared sandbox for longer than that;
 * - otherwise the built-in merchant: an embedded sandbox is the run's alone, and a shop that runs on
 *   its own uses the credentials it was started with (name them with `--merchant`).
 *
 * @example
 * const { merchant, release } = await resolveRunMerchant(config, sandbox, vars, { external: true, tag: 'a1b2c3' });
 */
export async function resolveRunMerchant(
  config: CheckConfig,
  sandbox: SandboxClient,
  vars: Record<string, unknown>,
  opts: { external: boolean; tag: string },
): Promise<RunMerchant> {
  const ttl = config.merchant.ttl ?? RUN_MERCHANT_TTL_S;
  /**
   * An ephemeral merchant (`ttl`): should the run die before it deletes it, the sandbox purges it
   * and its data later. A sandbox from before `ttl` refuses the field: it gets a permanent one.
   */
  const create = async (input: Record<string, unknown>): Promise<MerchantView> => {
    try {
      return await sandbox.createMerchant(input);
    } catch (err) {
      if (!(err instanceof SandboxError && / with 422\b/.test(err.message) && /"ttl"/.test(err.message)))
        throw err;
      const permanent = { ...input };
      delete permanent.ttl;
      return sandbox.createMerchant(permanent);
    }
  };
  const created = (merchant: MerchantView): RunMerchant => ({
    merchant,
    source: 'created',
    // A delete purges: its payments, callbacks, journal entries and scenarios go with it.
    release: async () => void (await sandbox.deleteMerchant(merchant.app_id)),
  });
  const ownMerchant =
    !config.merchant.app_id && opts.external && (config.app !== undefined || !config.trigger);
  try {
    if (config.merchant.create) {
      const c = config.merchant.create;
      const scope = { vars, faker: new Faker({ locale: [en, base] }) };
      const settings: Partial<MerchantView> = { domains: c.domains };
      for (const key of URL_KEYS) {
        const v = c[key];
        if (v) settings[key] = renderString(v, scope);
      }
      if (c.envelope) settings.envelope = c.envelope;
      if (c.locale) settings.locale = c.locale;
      if (c.notify_on) settings.notify_on = c.notify_on;
      return created(await create(await merchantInput(settings, c.name ?? 'ktpay-mock run', ttl)));
    }
    if (ownMerchant) {
      let template: MerchantView;
      try {
        template = await sandbox.merchant(DEFAULT_MERCHANT.app_id);
      } catch (err) {
        if (!(err instanceof SandboxError) || !/ with 404\b/.test(err.message)) throw err;
        throw new RunSetupError(
          `the sandbox has no built-in merchant whose settings a merchant for this run could copy (${(err as Error).message}); set merchant.create in the check config, or name a merchant with --merchant`,
        );
      }
      return created(await create(await merchantInput(template, `ktpay-mock run ${opts.tag}`, ttl)));
    }
    const appId = config.merchant.app_id ?? DEFAULT_MERCHANT.app_id;
    const merchant = await sandbox.merchant(appId);
    // A scenario the merchant already had would leak into every check: set it aside for the run.
    const previous = merchant.scenario;
    if (previous) await sandbox.deactivate(appId);
    return {
      merchant,
      source: config.merchant.app_id ? 'given' : 'builtin',
      release: async () => {
        if (previous) await sandbox.activate(appId, previous);
      },
    };
  } catch (err) {
    if (err instanceof SandboxError) {
      throw new RunSetupError(
        config.merchant.create || ownMerchant
          ? `could not create the merchant for the run: ${err.message}`
          : `merchant ${config.merchant.app_id ?? `${DEFAULT_MERCHANT.app_id} (the built-in one)`} is not in the sandbox: ${err.message}. Set merchant.app_id (--merchant) or merchant.create`,
      );
    }
    throw err;
  }
}
