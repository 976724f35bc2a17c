import { ID_BASE } from './common.js';

/** Where a scenario step can act. */
export const SCENARIO_ENDPOINTS = [
  'create',
  'status',
  'acquirer_options',
  'pdf',
  'cancel',
  'refund',
  'pay',
  'service',
  'callback',
] as const;

/** What a `callback` effect does to a delivery. */
export const CALLBACK_ACTIONS = [
  'drop',
  'duplicate',
  'delay',
  'out_of_order',
  'extra_fields',
  'slow_cadence',
  'fail_first',
] as const;

const code = { type: 'integer', minimum: 1000000, maximum: 9999999 } as const;

/**
 * A scenario file (issue 6): data only, with `type` discriminants; behaviour lives in
 * mock-server/scenarios. The runner (issue 7) extends steps with its own `type`s.
 */
export const scenarioFile = {
  $id: `${ID_BASE}scenario-file.json`,
  title: 'Scenario file',
  type: 'object',
  required: ['name', 'description', 'steps'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 80 },
    description: { type: 'string', minLength: 1 },
    tags: { type: 'array', items: { type: 'string' } },
    /** The catalog codes this scenario reproduces (checked by a test). */
    reproduces: { type: 'array', items: { type: ['integer', 'string'] } },
    steps: { type: 'array', minItems: 1, items: { $ref: 'scenario-step.json' } },
  },
} as const;

export const scenarioStep = {
  $id: `${ID_BASE}scenario-step.json`,
  title: 'Scenario step: match → effect, with a use count',
  type: 'object',
  required: ['match', 'effect'],
  additionalProperties: false,
  properties: {
    match: {
      type: 'object',
      required: ['endpoint'],
      additionalProperties: false,
      properties: {
        endpoint: { type: 'string', enum: SCENARIO_ENDPOINTS },
        app_id: { type: 'string' },
        /** A regular expression tested against order_id. */
        order_id: { type: 'string' },
        amount: { type: 'number' },
        /** Digits of the PAN, or its last 4. */
        card: { type: 'string', pattern: '^[0-9 ]{4,23}$' },
      },
    },
    /** `1` (once, the default), a count, or `always`. */
    times: { oneOf: [{ type: 'integer', minimum: 1 }, { const: 'always' }] },
    effect: { $ref: 'scenario-effect.json' },
  },
} as const;

export const scenarioEffect = {
  $id: `${ID_BASE}scenario-effect.json`,
  title: 'Scenario effect',
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    {
      type: 'object',
      required: ['type', 'code'],
      additionalProperties: false,
      properties: { type: { const: 'respond_error' }, code },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { const: 'delay' },
        ms: { type: 'integer', minimum: 0, maximum: 600000 },
        min_ms: { type: 'integer', minimum: 0, maximum: 600000 },
        max_ms: { type: 'integer', minimum: 0, maximum: 600000 },
      },
    },
    {
      type: 'object',
      required: ['type', 'fault'],
      additionalProperties: false,
      properties: {
        type: { const: 'http_fault' },
        fault: {
          type: 'string',
          enum: ['connection_reset', 'empty_reply', 'malformed_json', 'html_502', 'unavailable_503'],
        },
      },
    },
    {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { const: 'acquirer_outcome' },
        code: { type: 'string', pattern: '^-?[0-9A-Z]{1,3}$' },
        three_ds: { type: 'string', enum: ['frictionless', 'challenge'] },
        shopper: { type: 'string', enum: ['timeout', 'abandon'] },
      },
    },
    {
      type: 'object',
      required: ['type', 'result'],
      additionalProperties: false,
      properties: {
        type: { const: 'service_outcome' },
        result: { type: 'string', enum: ['credit', 'refuse'] },
      },
    },
    {
      type: 'object',
      required: ['type', 'action'],
      additionalProperties: false,
      properties: {
        type: { const: 'callback' },
        action: { type: 'string', enum: CALLBACK_ACTIONS },
        delay_ms: { type: 'integer', minimum: 0, maximum: 3600000 },
        /** slow_cadence: multiply the retry schedule. */
        factor: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
        /** fail_first: how many attempts the sandbox sabotages before a real send. */
        attempts: { type: 'integer', minimum: 1, maximum: 6 },
      },
    },
  ],
} as const;
