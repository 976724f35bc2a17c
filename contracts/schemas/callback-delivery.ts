import { ID_BASE } from './common.js';
import { CALLBACK_ACTIONS } from './scenario-file.js';

const headers = { type: 'object', additionalProperties: { type: 'string' } } as const;
const epochMs = { type: 'number', minimum: 0 } as const;

/** One attempt in a delivery's log (issue 4 §3). */
export const callbackAttempt = {
  $id: `${ID_BASE}callback-attempt.json`,
  title: 'One callback delivery attempt, as the admin API shows it',
  type: 'object',
  required: [
    'attempt',
    'trigger',
    'due_at',
    'at',
    'offset_ms',
    'request_headers',
    'request_body',
    'sent',
    'response_status',
    'response_headers',
    'response_body',
    'latency_ms',
    'verdict',
    'reason',
  ],
  additionalProperties: false,
  properties: {
    attempt: { type: 'integer', minimum: 1, description: 'Also sent as X-Ktpay-Attempt.' },
    trigger: { type: 'string', enum: ['schedule', 'flush', 'redeliver'] },
    due_at: {
      oneOf: [epochMs, { type: 'null' }],
      description: 'When the schedule wanted it; null for a redelivery.',
    },
    at: { ...epochMs, description: 'When it started (epoch ms).' },
    offset_ms: { type: 'number', description: 'Milliseconds since the first attempt started.' },
    request_headers: headers,
    request_body: { type: 'string', description: 'The exact bytes POSTed; the same on every attempt.' },
    sent: {
      type: 'boolean',
      description:
        'False when nothing left the sandbox: the destination was blocked, or a fail_first scenario failed the attempt on purpose.',
    },
    response_status: { type: ['integer', 'null'] },
    response_headers: { oneOf: [headers, { type: 'null' }] },
    response_body: { type: ['string', 'null'], description: 'Truncated to 4096 characters.' },
    latency_ms: { type: 'number', minimum: 0 },
    verdict: { type: 'string', enum: ['acknowledged', 'failed'] },
    reason: { type: 'string', minLength: 1, description: 'The verdict in plain words.' },
    replica: {
      type: 'string',
      description:
        'Which sandbox replica made the attempt (only with a shared PostgreSQL store, where any replica may).',
    },
  },
} as const;

/** A callback delivery (an outbox row) with its attempt log, as the admin API shows it. */
export const callbackDelivery = {
  $id: `${ID_BASE}callback-delivery.json`,
  title: 'Callback delivery (admin API)',
  type: 'object',
  required: [
    'id',
    'transaction_hash',
    'app_id',
    'url',
    'body',
    'status',
    'state',
    'created_at',
    'next_attempt_at',
    'attempts',
    'attempt_count',
    'note',
  ],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^dlv_[0-9a-f]{24}$', description: 'Also sent as X-Ktpay-Delivery-Id.' },
    transaction_hash: { $ref: 'transaction-hash.json' },
    app_id: { type: 'string' },
    url: { type: 'string' },
    body: { type: 'string', description: 'The JSON text POSTed (the documented callback body).' },
    status: { type: 'string', description: 'The payment status that triggered the delivery.' },
    state: { type: 'string', enum: ['pending', 'retrying', 'delivering', 'acknowledged', 'failed'] },
    created_at: epochMs,
    next_attempt_at: { oneOf: [epochMs, { type: 'null' }] },
    attempts: { type: 'array', items: { $ref: 'callback-attempt.json' } },
    attempt_count: { type: 'integer', minimum: 0 },
    note: { type: ['string', 'null'] },
    scenario: {
      type: 'object',
      description: 'Present when a scenario (issue 6) shaped this delivery.',
      required: ['name', 'explanation'],
      additionalProperties: false,
      properties: {
        name: { type: 'string' },
        action: { type: 'string', enum: CALLBACK_ACTIONS },
        explanation: { type: 'string', minLength: 1 },
        fail_first: {
          type: 'integer',
          minimum: 1,
          description: 'Attempts 1…n fail on the sandbox side without sending.',
        },
        retry_factor: {
          type: 'number',
          exclusiveMinimum: 0,
          description: 'Every retry delay is multiplied by this.',
        },
        stale: {
          type: 'object',
          description:
            'out_of_order: the stale earlier status still to be sent once this delivery is closed.',
          required: ['status', 'body'],
          additionalProperties: false,
          properties: { status: { type: 'string' }, body: { type: 'string' } },
        },
      },
    },
  },
} as const;

/** The query of `GET /__admin/callbacks` [mock]: filters and a page size (query values are strings). */
export const callbackListQuery = {
  $id: `${ID_BASE}callback-list-query.json`,
  title: 'Callback delivery list query',
  type: 'object',
  additionalProperties: false,
  properties: {
    transaction_hash: { type: 'string', minLength: 1 },
    state: callbackDelivery.properties.state,
    app_id: { type: 'string', minLength: 1 },
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$', description: '1 to 9999; 100 when absent.' },
  },
} as const;
