import { ID_BASE } from './common.js';

/**
 * The admin API's replies that had no schema of their own (issue 8: the OpenAPI document names a
 * response schema for every route). Lists wrap the item schemas defined elsewhere by `$ref`.
 */

export const adminHealth = {
  $id: `${ID_BASE}admin-health.json`,
  title: 'Admin: health',
  type: 'object',
  required: ['status', 'uptime_ms', 'store', 'merchants', 'transactions'],
  additionalProperties: false,
  properties: {
    status: { const: 'ok' },
    uptime_ms: { type: 'number', minimum: 0 },
    store: { type: 'string', enum: ['memory', 'sqlite', 'postgres'] },
    merchants: { type: 'integer', minimum: 0 },
    transactions: { type: 'integer', minimum: 0 },
    process: {
      type: 'object',
      description: '[mock] Memory and event-loop delay since start.',
      required: [
        'rss_bytes',
        'heap_total_bytes',
        'heap_used_bytes',
        'external_bytes',
        'array_buffers_bytes',
        'event_loop_delay_ms',
      ],
      additionalProperties: false,
      properties: {
        rss_bytes: { type: 'integer', minimum: 0 },
        heap_total_bytes: { type: 'integer', minimum: 0 },
        heap_used_bytes: { type: 'integer', minimum: 0 },
        external_bytes: { type: 'integer', minimum: 0 },
        array_buffers_bytes: { type: 'integer', minimum: 0 },
        event_loop_delay_ms: {
          type: 'object',
          required: ['p50', 'p99', 'max', 'mean', 'samples'],
          additionalProperties: false,
          properties: {
            p50: { type: 'number' },
            p99: { type: 'number' },
            max: { type: 'number' },
            mean: { type: 'number' },
            samples: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
  },
} as const;

export const adminDone = {
  $id: `${ID_BASE}admin-done.json`,
  title: 'Admin: an action that returns only what it did',
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: {
    reset: { const: true },
    deleted: { type: 'string', description: 'The app_id of the deleted merchant.' },
  },
} as const;

const count = { type: 'integer', minimum: 0 } as const;

/** What `DELETE /__admin/merchants/{app_id}` or `POST /__admin/merchants/{app_id}/reset` removed. */
export const merchantPurge = {
  $id: `${ID_BASE}merchant-purge.json`,
  title: "Admin: one merchant's data purged (a delete or a per-merchant reset)",
  type: 'object',
  required: ['purged'],
  additionalProperties: false,
  oneOf: [{ required: ['deleted'] }, { required: ['reset'] }],
  properties: {
    deleted: { type: 'string', description: 'The app_id of the deleted merchant.' },
    reset: { type: 'string', description: 'The app_id of the reset merchant (it stays, with its settings).' },
    purged: {
      type: 'object',
      required: ['transactions', 'callback_deliveries', 'journal_entries', 'scenarios', 'scenario_uses'],
      additionalProperties: false,
      properties: {
        transactions: count,
        callback_deliveries: count,
        journal_entries: count,
        scenarios: { ...count, description: 'User scenarios the merchant owned (a delete only).' },
        scenario_uses: { ...count, description: "Use counts under the merchant's scopes." },
      },
    },
  },
} as const;

export const adminMerchantList = {
  $id: `${ID_BASE}admin-merchant-list.json`,
  title: 'Admin: merchants',
  type: 'object',
  required: ['merchants'],
  additionalProperties: false,
  properties: { merchants: { type: 'array', items: { $ref: 'merchant-view.json' } } },
} as const;

export const adminTransactionList = {
  $id: `${ID_BASE}admin-transaction-list.json`,
  title: 'Admin: transactions, newest first',
  type: 'object',
  required: ['transactions'],
  additionalProperties: false,
  properties: { transactions: { type: 'array', items: { $ref: 'admin-transaction.json' } } },
} as const;

/** One recorded API request (mock-server/journal/journal-entry.ts). */
export const journalEntry = {
  $id: `${ID_BASE}journal-entry.json`,
  title: 'Journal entry: one API request as the sandbox saw it',
  type: 'object',
  required: [
    'id',
    'at',
    'app_id',
    'order_id',
    'transaction_hash',
    'method',
    'path',
    'headers',
    'raw_body_size',
    'decrypted',
    'verdict',
    'response',
    'duration_ms',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'integer', minimum: 1 },
    at: { type: 'number', description: 'Epoch milliseconds.' },
    app_id: { type: ['string', 'null'] },
    order_id: { type: ['string', 'null'] },
    transaction_hash: { type: ['string', 'null'] },
    method: {
      type: 'string',
      description: 'The HTTP method, or CALLBACK for a sandbox note about a callback.',
    },
    path: { type: 'string' },
    headers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Authorization and Cookie are redacted.',
    },
    raw_body_size: { type: 'integer', minimum: 0 },
    decrypted: { description: 'The opened sealed body, when it opened; else null.' },
    verdict: {
      type: 'object',
      required: ['ok', 'error_code', 'explanation', 'contract_warnings', 'scenario'],
      additionalProperties: false,
      properties: {
        ok: { type: 'boolean' },
        error_code: { type: ['integer', 'null'] },
        explanation: { type: ['string', 'null'], description: 'What went wrong, in plain words.' },
        contract_warnings: { type: 'array', items: { type: 'string' } },
        scenario: { type: ['string', 'null'] },
      },
    },
    response: {
      type: 'object',
      required: ['status', 'body'],
      additionalProperties: false,
      properties: { status: { type: 'integer' }, body: {} },
    },
    duration_ms: { type: 'number', minimum: 0 },
  },
} as const;

export const journalList = {
  $id: `${ID_BASE}journal-list.json`,
  title: 'Admin: journal entries, newest first',
  type: 'object',
  required: ['entries'],
  additionalProperties: false,
  properties: { entries: { type: 'array', items: { $ref: 'journal-entry.json' } } },
} as const;

export const callbackDeliveryList = {
  $id: `${ID_BASE}callback-delivery-list.json`,
  title: 'Admin: callback deliveries, newest first',
  type: 'object',
  required: ['total', 'deliveries'],
  additionalProperties: false,
  properties: {
    total: { type: 'integer', minimum: 0 },
    deliveries: { type: 'array', items: { $ref: 'callback-delivery.json' } },
  },
} as const;

export const callbackFlushResult = {
  $id: `${ID_BASE}callback-flush-result.json`,
  title: 'Admin: what a flush attempted',
  type: 'object',
  required: ['flushed', 'deliveries'],
  additionalProperties: false,
  properties: {
    flushed: { type: 'integer', minimum: 0 },
    deliveries: { type: 'array', items: { $ref: 'callback-delivery.json' } },
  },
} as const;

export const transactionCallbacks = {
  $id: `${ID_BASE}transaction-callbacks.json`,
  title: "Admin: one transaction's callback deliveries and the notes about callbacks not sent",
  type: 'object',
  required: ['transaction_hash', 'deliveries', 'notes'],
  additionalProperties: false,
  properties: {
    transaction_hash: { $ref: 'transaction-hash.json' },
    deliveries: { type: 'array', items: { $ref: 'callback-delivery.json' } },
    notes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['at', 'note'],
        additionalProperties: false,
        properties: { at: { type: 'number' }, note: { type: 'string' } },
      },
    },
  },
} as const;

const scenarioView = {
  type: 'object',
  required: ['name', 'description', 'builtin', 'steps'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    builtin: { type: 'boolean' },
    app_id: {
      type: ['string', 'null'],
      description:
        'A user scenario: the merchant it belongs to (deleted with it), or null for one shared by all.',
    },
    tags: { type: 'array', items: { type: 'string' } },
    reproduces: {},
    steps: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'explain'],
        properties: { index: { type: 'integer', minimum: 0 }, explain: { type: 'string' } },
      },
    },
  },
} as const;

export const scenarioCatalog = {
  $id: `${ID_BASE}scenario-catalog.json`,
  title: 'Admin: the scenario library, user scenarios, use counts and per-merchant activation',
  type: 'object',
  required: ['library', 'custom', 'global', 'counts', 'merchants'],
  properties: {
    library: { type: 'array', items: scenarioView },
    custom: { type: 'array', items: scenarioView },
    global: { type: ['string', 'null'] },
    counts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['scope', 'scenario', 'step', 'used'],
        properties: {
          scope: { type: 'string' },
          scenario: { type: 'string' },
          step: { type: 'integer' },
          used: { type: 'integer', minimum: 0 },
        },
      },
    },
    merchants: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
  },
} as const;

export const testCardsResponse = {
  $id: `${ID_BASE}admin-test-cards.json`,
  title: "Admin: the emulated bank's test cards and every acquirer code with its outcome",
  type: 'object',
  required: [
    'cards',
    'other_cards',
    'cardholder_code_rule',
    'three_ds',
    'input_errors',
    'acquirer_codes',
    'service_gateway_refusal',
  ],
  additionalProperties: false,
  properties: {
    cards: { $ref: 'test-cards.json#/properties/cards' },
    other_cards: { $ref: 'test-cards.json#/properties/other_cards' },
    cardholder_code_rule: { $ref: 'test-cards.json#/properties/cardholder_code_rule' },
    three_ds: { $ref: 'test-cards.json#/properties/three_ds' },
    input_errors: { $ref: 'test-cards.json#/properties/input_errors' },
    acquirer_codes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'status', 'error_type', 'family', 'error_message'],
        additionalProperties: false,
        properties: {
          code: { type: 'string' },
          status: { type: 'string', enum: ['error', 'denied'] },
          error_type: { type: 'string', enum: ['ERROR_PAYMENT', 'ERROR_INPUT', 'ERROR_SYSTEM'] },
          family: { type: 'string' },
          error_message: { type: 'string' },
        },
      },
    },
    service_gateway_refusal: { $ref: 'acquirer-outcomes.json#/properties/service_gateway_refusal' },
  },
} as const;

/** The body of `PUT /__admin/merchants/{app_id}/scenario`: a library name, or a whole definition. */
export const scenarioActivation = {
  $id: `${ID_BASE}scenario-activation.json`,
  title: 'Admin: activate a scenario for a merchant',
  type: 'object',
  minProperties: 1,
  properties: {
    name: { type: 'string', minLength: 1, description: 'A scenario from GET /__admin/scenarios.' },
    scenario: { $ref: 'scenario-file.json' },
  },
} as const;
