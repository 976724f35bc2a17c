import { ID_BASE } from './common.js';

/** What a recording has replaced (scenarios/probe/redact.ts), named in the file for its reader. */
export const PROBE_REDACTIONS = [
  'app_id',
  'app_key',
  'transaction_hash',
  'merchant_id',
  'payment_page_parameters',
  'signed_order',
] as const;

/**
 * `ktpay-mock probe --record <dir>` writes `ktpay-probe-recording.json`: the upstream's answers
 * to the fixed battery, redacted, so `--replay <dir>` can compare a sandbox with them offline.
 */
export const probeRecording = {
  $id: `${ID_BASE}probe-recording.json`,
  title: 'ktpay-mock probe recording (the upstream answers to the probe battery, redacted)',
  type: 'object',
  required: [
    'format',
    'version',
    'recorded_at',
    'tool_version',
    'upstream',
    'battery_version',
    'redacted',
    'answers',
  ],
  additionalProperties: false,
  properties: {
    format: { const: 'ktpay-mock-probe-recording' },
    /** The file format's version; a reader refuses versions it does not know. */
    version: { const: 1 },
    recorded_at: { type: 'string', format: 'date-time' },
    tool_version: { type: 'string' },
    /** The upstream API base the answers came from (no credentials). */
    upstream: { type: 'string', format: 'uri', pattern: '^https?://' },
    /** scenarios/probe/battery.ts BATTERY_VERSION at recording time. */
    battery_version: { type: 'integer', minimum: 1 },
    redacted: { type: 'array', items: { type: 'string', enum: PROBE_REDACTIONS }, uniqueItems: true },
    answers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['probe', 'request'],
        additionalProperties: false,
        properties: {
          probe: { type: 'string', pattern: '^[a-z0-9-]+$' },
          request: {
            type: 'object',
            required: ['method', 'path', 'auth'],
            additionalProperties: false,
            properties: {
              method: { type: 'string', enum: ['GET', 'POST'] },
              /** As the battery writes it: `{hash}` stands for the probe's own payment. */
              path: { type: 'string', pattern: '^/' },
              auth: { type: 'string', enum: ['own', 'unknown', 'none'] },
              /** The plaintext before sealing (or the raw body): never the ciphertext. */
              payload: {},
            },
          },
          /** Absent when the probe was not sent (`skipped` says why). */
          response: {
            type: 'object',
            required: ['status', 'content_type'],
            additionalProperties: false,
            properties: {
              status: { type: 'integer', minimum: 100, maximum: 599 },
              content_type: { type: ['string', 'null'] },
              /** The body when it is JSON (redacted)… */
              json: {},
              /** …otherwise the body as text (redacted). */
              text: { type: 'string' },
            },
            oneOf: [{ required: ['json'] }, { required: ['text'] }],
          },
          skipped: { type: 'string', minLength: 1 },
          duration_ms: { type: 'integer', minimum: 0 },
        },
        oneOf: [{ required: ['response'] }, { required: ['skipped'] }],
      },
    },
  },
} as const;
