import { ENCODING_WARNING_PREFIX } from '../../../mock-server/envelope/sealed-body-text.js';
import { urlHost, hostInDomains } from '../../../mock-server/merchants/domain-check.js';
import { TRANSACTION_URL_FIELDS } from '../../../mock-server/payments/transaction.js';
import type { RunContext, ScenarioState } from '../context.js';
import { CheckFailure, clip, StepNotApplicable, type FailureReport } from '../outcome.js';
import type { StepImpl, StepOf } from './step.js';

type Check = NonNullable<StepOf<'expect_request'>['checks']>[number];
const ALL: Check[] = [
  'auth_identifier',
  'encoding',
  'schema',
  'contract_warnings',
  'order_id_unique',
  'callback_domains',
  'amount',
];

/** The codes that say the body itself could not be read. */
const ENCODING_CODES = new Set([4220101]);
const KEY_CODES = new Set([4220102, 4220104]);
const APP_ID_CODES = new Set([4010103, 4220103]);

/** Runs the checks in order; the first that fails is the report (the rest follow from it). */
function firstProblem(checks: Check[], state: ScenarioState, run: RunContext): FailureReport | undefined {
  const e = state.create!;
  const evidence = { journal_entry: e.id };
  const code = e.verdict.error_code;
  const why = e.verdict.explanation ?? '';
  const body = e.decrypted as { order?: Record<string, unknown> } | null;
  const order = body?.order ?? {};
  // Encodings the sandbox accepted with a warning, though the real gateway may refuse them.
  const tolerated = e.verdict.contract_warnings.filter((w) => w.startsWith(ENCODING_WARNING_PREFIX));
  for (const check of checks) {
    switch (check) {
      case 'auth_identifier': {
        const sent = e.headers['auth-identifier'];
        if (!sent || (code !== null && APP_ID_CODES.has(code))) {
          return {
            check,
            message: sent
              ? `Auth-Identifier "${clip(sent, 40)}" names no merchant in this sandbox`
              : 'the create-payment request has no Auth-Identifier header',
            expected: `header Auth-Identifier: ${run.merchant.app_id}`,
            actual: sent
              ? `Auth-Identifier: ${clip(sent, 60)} → ${code}`
              : `no Auth-Identifier header → ${code ?? e.response.status}`,
            evidence,
            hint: 'send Auth-Identifier: <app_id> with every API request (create, status, cancel, refund)',
          };
        }
        if (sent.trim() !== run.merchant.app_id) {
          return {
            check,
            message: 'the create-payment was sent for another merchant',
            expected: `Auth-Identifier: ${run.merchant.app_id}`,
            actual: `Auth-Identifier: ${clip(sent, 60)}`,
            evidence,
            hint: 'use the app_id of the merchant under test (printed at the start of the run)',
          };
        }
        break;
      }
      case 'encoding':
        if (code !== null && ENCODING_CODES.has(code)) {
          return {
            check,
            message: `the body is not a sealed box in ORIGINAL base64 (${code})`,
            expected:
              'the raw body = base64 (ORIGINAL variant: + / and = padding) of crypto_box_seal(json, app_key)',
            actual: why || `answered ${code}`,
            evidence,
            hint: 'seal with sodium.crypto_box_seal and encode with sodium.to_base64(cipher, sodium.base64_variants.ORIGINAL); send it as the raw body, not JSON',
          };
        }
        if (tolerated.length > 0) {
          return {
            check,
            message:
              'the body is not exactly ORIGINAL base64: the sandbox accepted it, the real gateway may not',
            expected:
              'the raw body = base64 (ORIGINAL variant, one line, nothing around it) of crypto_box_seal(json, app_key)',
            actual: tolerated.map((w) => w.slice(ENCODING_WARNING_PREFIX.length).split(';')[0]).join('; '),
            evidence,
            hint: 'send the base64 text exactly: no newline after it, no line wrapping (base64_encode, base64.b64encode, openssl base64 -A), no byte-order mark',
          };
        }
        if (code !== null && KEY_CODES.has(code)) {
          return {
            check: 'sealed_key',
            message: `the sealed box does not open with this merchant's key (${code})`,
            expected: `sealed to app_key ${run.merchant.app_key}`,
            actual: why || `answered ${code}`,
            evidence,
            hint: "seal to the app_key the sandbox gave this merchant (GET /__admin/merchants/<app_id> shows it); it is the server's key, not your own public key",
          };
        }
        break;
      case 'schema': {
        const scenarioMade = e.verdict.scenario !== null;
        if (!body) {
          return {
            check,
            message: 'the sandbox could not read an order from the request',
            expected: 'a sealed JSON object {"order": {…}}',
            actual: why || `answered ${e.response.status}`,
            evidence,
            hint: 'seal JSON.stringify({ order: { order_id, amount, … } })',
          };
        }
        const validate = run.schemas.validator('createPaymentRequest');
        if (!validate(body)) {
          const errs = (validate.errors ?? [])
            .slice(0, 4)
            .map((x) => `${x.instancePath || '(root)'} ${x.message}`);
          return {
            check,
            message: 'the order does not match the create-payment contract',
            expected: 'contracts/schemas/create-payment.ts (createPaymentRequest)',
            actual: errs.join('; '),
            evidence,
            hint: 'fix the fields listed; order.order_id (string) and order.amount (number > 0, ≤ 2 decimals) are required',
          };
        }
        if (code !== null && String(code).startsWith('422') && !scenarioMade) {
          const validation = (
            e.response.body as { error?: { validation?: unknown; messages?: unknown } } | null
          )?.error;
          return {
            check,
            message: `the sandbox refused the order (${code})`,
            expected: 'a valid order',
            actual: `${why || code}${validation ? `: ${clip(JSON.stringify(validation.validation ?? validation.messages), 300)}` : ''}`,
            evidence,
            hint: 'see the validation messages; the journal entry shows the decrypted order',
          };
        }
        break;
      }
      case 'contract_warnings':
        if (e.verdict.contract_warnings.length > 0) {
          return {
            check,
            message: 'the order carries fields the contract does not know',
            expected: 'no contract warnings',
            actual: e.verdict.contract_warnings.join('; '),
            evidence,
            hint: 'drop or rename the fields listed: ktpay accepts only the documented ones (a real server may reject them)',
          };
        }
        break;
      case 'order_id_unique': {
        const id = typeof order.order_id === 'string' ? order.order_id : undefined;
        const earlier = id ? run.orderIds.get(id) : undefined;
        if (id && earlier && earlier !== state.scenario.name) {
          return {
            check,
            message: `order_id "${id}" was already used in scenario ${earlier}`,
            expected: 'a new order_id for every payment',
            actual: `order_id ${id} again`,
            evidence,
            hint: 'order_id must be unique per merchant: build it from your own order number, never a constant',
          };
        }
        break;
      }
      case 'callback_domains':
        for (const field of TRANSACTION_URL_FIELDS) {
          const value = order[field];
          if (typeof value !== 'string') continue;
          const host = urlHost(value);
          if (!host || !hostInDomains(host, run.merchant.domains)) {
            return {
              check,
              message: `${field} points outside the merchant's domains`,
              expected: `a URL on ${run.merchant.domains.join(', ')} (or a subdomain)`,
              actual: `${field}: ${clip(value, 200)}`,
              evidence,
              hint: "use your shop's own public URL, or add the host to the merchant's domains",
            };
          }
        }
        break;
      case 'amount':
        if (state.used.has('amount') && order.amount !== state.vars.amount) {
          return {
            check,
            message: 'the amount sent to the gateway differs from the trigger',
            expected: `order.amount ${JSON.stringify(state.vars.amount)} (a number)`,
            actual: `order.amount ${JSON.stringify(order.amount)}`,
            evidence,
            hint: 'send the order total as a JSON number in tenge (e.g. 1500 or 1500.5), not a string and not in tiyn',
          };
        }
        break;
    }
  }
  return undefined;
}

/** The first defect of the scenario's create-payment request, over every check (undefined: none). */
export function requestProblem(state: ScenarioState, run: RunContext): FailureReport | undefined {
  return state.create ? firstProblem(ALL, state, run) : undefined;
}

export const expectRequestStep: StepImpl<'expect_request'> = {
  explain: (step) =>
    `check the create-payment request: ${(step.checks ?? ALL).map((c) => c.replace(/_/g, ' ')).join(', ')}`,
  async run(step, state, run) {
    if (state.trigger?.kind === 'runner')
      throw new StepNotApplicable('the runner made this request itself (no trigger configured)');
    if (!state.create)
      throw new StepNotApplicable('no create-payment was seen (the trigger step did not wait for one)');
    const problem = firstProblem(step.checks ?? ALL, state, run);
    if (problem) throw new CheckFailure(problem);
    state.notes.push(
      `journal entry ${state.create.id}: sealed, Auth-Identifier present, contract-valid, no warnings`,
    );
  },
};
