import { ID_BASE } from './common.js';
import { MERCHANT_TTL_MAX_S } from './merchant.js';

/**
 * `ktpay-mock run` (issue 7): the check config file (`ktpay-mock.check.yaml`) and the runner's
 * suite files. A suite file is a scenario file (issue 6) whose steps may also be runner steps:
 * sandbox steps (`match` + `effect`) shape the sandbox for that scenario, runner steps (`type`)
 * drive the merchant and check it, in order.
 */

/** The outcomes a suite asks `verify` about; the check config says what each looks like in the shop's API. */
export const VERIFY_OUTCOMES = ['paid', 'unpaid', 'failed', 'refunded', 'cancelled'] as const;

/** The check ids a failure can carry (the JSON report's `failure.check`). */
export const RUNNER_CHECKS = [
  'trigger_failed',
  'trigger_timeout',
  'no_create',
  'auth_identifier',
  'encoding',
  'sealed_key',
  'schema',
  'contract_warnings',
  'order_id_unique',
  'callback_domains',
  'amount',
  'merchant_5xx',
  'trigger_response',
  'widget_iframe',
  'widget_close',
  'payment_outcome',
  'landing',
  'callback_missing',
  'ack_body',
  'callback_timeout',
  'callback_status',
  'callback_unreachable',
  'callback_retry',
  'stale_callback',
  'paid_before_callback',
  'double_effect',
  'verify',
  'status_call',
  'cancel',
  'refund',
  'sandbox',
] as const;

const template = { type: 'string', minLength: 1 } as const;
const millis = { type: 'integer', minimum: 1, maximum: 600000 } as const;
const headers = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** An HTTP request to the merchant app; strings are templates (`{{order_id}}`, `{{faker.person.fullName}}`, …). */
const httpAction = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    method: { type: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
    url: template,
    headers,
    /** JSON body; a string that is exactly one `{{…}}` keeps the value's type (a number stays a number). */
    body: {},
  },
} as const;

/** A JSONPath into the trigger's answer (`$.order.id`, `$.data['transaction_hash']`). */
const jsonPath = { type: 'string', pattern: '^\\$' } as const;

/** A CSS selector on the shop's checkout page. */
const selector = { type: 'string', minLength: 1 } as const;

/** A field of the checkout page and a value (a template) for it. */
const fieldValue = {
  type: 'object',
  required: ['selector', 'value'],
  additionalProperties: false,
  properties: { selector, value: { type: 'string' } },
} as const;

/**
 * One thing the shopper does on the shop's checkout page before the widget opens: `click` a
 * selector, `fill` a field (types the value), or `select` the `<option>` whose value (or label) is
 * the value.
 */
const browserAction = {
  oneOf: [
    { type: 'object', required: ['click'], additionalProperties: false, properties: { click: selector } },
    { type: 'object', required: ['fill'], additionalProperties: false, properties: { fill: fieldValue } },
    { type: 'object', required: ['select'], additionalProperties: false, properties: { select: fieldValue } },
  ],
} as const;

/** One expectation on a JSON value: a literal (equality) or one operator. */
const expectation = {
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    {
      type: 'object',
      minProperties: 1,
      maxProperties: 1,
      additionalProperties: false,
      properties: {
        eq: {},
        ne: {},
        in: { type: 'array' },
        not_in: { type: 'array' },
        gt: { type: 'number' },
        gte: { type: 'number' },
        lt: { type: 'number' },
        lte: { type: 'number' },
        exists: { type: 'boolean' },
        matches: { type: 'string' },
      },
    },
  ],
} as const;

/** JSON paths (`$.status`, `$.items[0].sku`, `$.shipments`) → expectations. */
const expectationMap = {
  type: 'object',
  minProperties: 1,
  propertyNames: { pattern: '^\\$' },
  additionalProperties: expectation,
} as const;

export const checkConfig = {
  $id: `${ID_BASE}check-config.json`,
  title: 'ktpay-mock run: check configuration (ktpay-mock.check.yaml)',
  type: 'object',
  additionalProperties: false,
  properties: {
    /** `embedded` (default: an in-process sandbox on a free port) or the URL of a running one. */
    sandbox: { type: 'string', pattern: '^(embedded|https?://.+)$' },
    /** Settings of the embedded sandbox (the sandbox config file's keys); ignored with a URL. */
    embedded: { $ref: 'sandbox-config.json' },
    /** The running sandbox's ADMIN_TOKEN. */
    admin_token: { type: 'string', minLength: 1 },
    merchant: {
      type: 'object',
      additionalProperties: false,
      properties: {
        /**
         * An existing merchant. Default: the built-in test merchant; against a running sandbox
         * (`--sandbox`), when the runner starts the shop (`app`) or is the merchant itself, a
         * merchant it creates for the run (the built-in one's settings, a new app_id and key) and
         * deletes at the end.
         */
        app_id: { type: 'string', pattern: '^[0-9a-f]{32}$' },
        /**
         * Seconds a merchant the run creates lives at most (default 21600, 6 h): it is ephemeral,
         * so a run killed before its end (a cancelled CI job) leaves nothing behind on a shared
         * sandbox. The run deletes it at its end anyway.
         */
        ttl: { type: 'integer', minimum: 60, maximum: MERCHANT_TTL_MAX_S },
        /** Or a merchant the runner creates in the sandbox for the run (deleted at the end). */
        create: {
          type: 'object',
          required: ['domains'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 255 },
            domains: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
            callback_post_url: template,
            callback_back_url: template,
            callback_success_url: template,
            callback_failed_url: template,
            envelope: { type: 'string', enum: ['reference', 'widget'] },
            locale: { type: 'string', enum: ['ru', 'en'] },
            notify_on: { type: 'array', items: { type: 'string', enum: ['cancelled', 'refunded'] } },
          },
        },
      },
    },
    /** Start the merchant app for the run (like Playwright's webServer); leave out when it already runs. */
    app: {
      type: 'object',
      required: ['command'],
      additionalProperties: false,
      properties: {
        command: template,
        /** Relative to the config file. */
        cwd: { type: 'string' },
        /** Extra environment, templated (`{{sandbox.url}}`, `{{merchant.app_id}}`, `{{merchant.app_key}}`, `{{app.port}}`). */
        env: { type: 'object', additionalProperties: { type: 'string' } },
        /** The port for `{{app.port}}`; default: a free one. */
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        /** Polled until it answers (any HTTP status). */
        ready_url: template,
        ready_timeout_ms: millis,
      },
    },
    /** How the merchant is made to create a payment. Without it the runner acts as the merchant. */
    trigger: {
      type: 'object',
      additionalProperties: false,
      properties: {
        http: httpAction,
        /** A shell command; `{{…}}` values are shell-quoted, and KTPAY_RUN_* variables are set. */
        command: template,
        /**
         * A shopper in Chromium: opens the shop's checkout page, performs the actions, waits for the
         * widget iframe `#iframe_widget` and pays inside it (the shop seals in the browser, or on its server).
         */
        browser: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: {
            url: template,
            actions: { type: 'array', maxItems: 50, items: browserAction },
          },
        },
        timeout_ms: millis,
        /**
         * Where the shop's answer names the payment, so its create-payment is found exactly
         * (defaults: `$.transaction_hash` and `$.order_id`).
         */
        correlate: {
          type: 'object',
          additionalProperties: false,
          properties: { transaction_hash: jsonPath, order_id: jsonPath },
        },
        /**
         * How the shop may answer when the gateway fails (scenarios with `status: handled`): the
         * 5xx statuses that count as a handled upstream failure (default 502, 503, 504). A 500, a
         * dropped connection, an empty body or a leaked stack trace is a crash either way.
         */
        gateway_error: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: {
              type: 'array',
              uniqueItems: true,
              items: { type: 'integer', minimum: 501, maximum: 599 },
            },
          },
        },
        /** Optional actions on an existing order, for the cancel/refund/status scenarios. */
        cancel: httpAction,
        refund: httpAction,
        status: httpAction,
      },
    },
    /** Runner-as-merchant mode (no trigger): the callback_post_url the runner puts in its orders. */
    callback_url: template,
    verify: {
      type: 'object',
      required: ['url', 'expect'],
      additionalProperties: false,
      properties: {
        url: template,
        headers,
        /** What each outcome looks like in the shop's answer. */
        expect: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: Object.fromEntries(VERIFY_OUTCOMES.map((o) => [o, expectationMap])) as Record<
            (typeof VERIFY_OUTCOMES)[number],
            typeof expectationMap
          >,
        },
      },
    },
    /** `merchant-checks` (built in) and/or suite files (relative to the config file). */
    suites: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    reporters: {
      type: 'array',
      items: { type: 'string', enum: ['pretty', 'junit', 'json', 'html'] },
    },
    /** How many scenarios run at once (default 1); each has its own order. */
    parallel: { type: 'integer', minimum: 1, maximum: 32 },
    out: { type: 'string', minLength: 1 },
    seed: { type: 'integer', minimum: 0 },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      properties: {
        /** How long the merchant may take to answer the trigger (default 15000). */
        trigger_ms: millis,
        /** How long after the trigger the create-payment may take to show in the journal (default 10000). */
        create_ms: millis,
        /** How long a callback may take to be acknowledged (default 10000). */
        callback_ms: millis,
      },
    },
  },
} as const;

const card = {
  type: 'object',
  required: ['pan'],
  additionalProperties: false,
  properties: {
    pan: { type: 'string', pattern: '^[0-9 ]{12,23}$' },
    exp_month: { type: 'string', pattern: '^[0-9]{1,2}$' },
    exp_year: { type: 'string', pattern: '^[0-9]{2,4}$' },
    cvc: { type: 'string', pattern: '^[0-9]{3,4}$' },
    cardholder: { type: 'string' },
  },
} as const;

/** What every runner step may carry besides its own fields: a report id and a fix hint for its failure. */
const common = {
  /** Overrides the failure's check id (e.g. `double_effect` on a verify after duplicates). */
  check: { type: 'string', enum: RUNNER_CHECKS },
  /** The fix hint shown with a failure of this step. */
  hint: { type: 'string', minLength: 1 },
} as const;

export const runnerStep = {
  $id: `${ID_BASE}runner-step.json`,
  title: 'Runner step (ktpay-mock run)',
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    {
      type: 'object',
      required: ['type', 'scenario'],
      additionalProperties: false,
      properties: {
        type: { const: 'activate' },
        ...common,
        scenario: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
      },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { const: 'trigger' },
        ...common,
        /** Wait until the journal shows the merchant's create-payment (default true). */
        await_create: { type: 'boolean' },
      },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { const: 'expect_request' },
        ...common,
        checks: {
          type: 'array',
          items: {
            type: 'string',
            enum: [
              'auth_identifier',
              'encoding',
              'schema',
              'contract_warnings',
              'order_id_unique',
              'callback_domains',
              'amount',
            ],
          },
        },
      },
    },
    {
      type: 'object',
      required: ['type', 'card', 'expect'],
      additionalProperties: false,
      properties: {
        type: { const: 'pay' },
        ...common,
        card,
        /** 3-D Secure answer: an OTP, or `cancel` to press Cancel. */
        otp: { type: 'string', minLength: 1 },
        expect: { type: 'string', enum: ['approved', 'declined'] },
        /** Where the shopper must land: the merchant's success, failed or back URL. */
        lands_on: { type: 'string', enum: ['success', 'failed', 'back'] },
      },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: { type: { const: 'clear' }, ...common },
    },
    {
      type: 'object',
      required: ['type', 'status'],
      additionalProperties: false,
      properties: {
        type: { const: 'expect_callback' },
        ...common,
        status: {
          type: 'string',
          enum: ['completed', 'error', 'denied', 'cancelled', 'refunded', 'success', 'authorized'],
        },
        /** How many deliveries with this status (default: at least 1). */
        count: { type: 'integer', minimum: 1, maximum: 10 },
        /** Attempts the sandbox fails on purpose first (a fail_first scenario); the next must be acknowledged. */
        sandbox_failed_attempts: { type: 'integer', minimum: 1, maximum: 6 },
        /** The stale earlier status an out_of_order scenario sends after the final one. */
        stale: { type: 'boolean' },
        within_ms: millis,
      },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { const: 'redeliver' },
        ...common,
        times: { type: 'integer', minimum: 1, maximum: 10 },
      },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { const: 'duplicate' },
        ...common,
        copies: { type: 'integer', minimum: 2, maximum: 10 },
      },
    },
    {
      type: 'object',
      required: ['type', 'status'],
      additionalProperties: false,
      properties: {
        type: { const: 'expect_trigger_response' },
        ...common,
        /**
         * An exact status, a class such as `<500`, `2xx`, or `handled`: below 500, or a handled
         * upstream failure (a 502/503/504 with a body that leaks nothing; `trigger.gateway_error`).
         */
        status: {
          oneOf: [
            { type: 'integer', minimum: 100, maximum: 599 },
            { type: 'string', pattern: '^(<[1-5]00|[1-5]xx|handled)$' },
          ],
        },
        within_ms: millis,
      },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: { type: { const: 'cancel' }, ...common },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: { type: { const: 'refund' }, ...common, amount: { type: 'number', exclusiveMinimum: 0 } },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: { type: { const: 'status' }, ...common },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      /** Browser trigger only: the shopper presses × in the widget; the shop must remove #iframe_widget. */
      properties: { type: { const: 'close_widget' }, ...common },
    },
    {
      type: 'object',
      required: ['type', 'outcome'],
      additionalProperties: false,
      properties: {
        type: { const: 'verify' },
        ...common,
        outcome: { type: 'string', enum: VERIFY_OUTCOMES },
        /** Before any callback: a shop that shows `paid` now trusted the redirect. */
        before_callback: { type: 'boolean' },
      },
    },
  ],
} as const;

export const runnerSuite = {
  $id: `${ID_BASE}runner-suite.json`,
  title: 'Runner suite file: a scenario whose steps may be sandbox steps or runner steps',
  type: 'object',
  required: ['name', 'description', 'steps'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 80 },
    description: { type: 'string', minLength: 1 },
    tags: { type: 'array', items: { type: 'string' } },
    /** Skip the scenario unless the check config has these (a trigger, a verify URL, a trigger action, a browser trigger). */
    requires: {
      type: 'array',
      items: { type: 'string', enum: ['trigger', 'verify', 'cancel', 'refund', 'status', 'browser'] },
    },
    /** Also run with a browser trigger (the shopper pays inside the shop's widget iframe); others are skipped then. */
    browser: { type: 'boolean' },
    steps: {
      type: 'array',
      minItems: 1,
      items: { oneOf: [{ $ref: 'scenario-step.json' }, { $ref: 'runner-step.json' }] },
    },
  },
} as const;
