import { ID_BASE } from './common.js';

/** Reference dialect (api-reference seed), success. */
export const referenceSuccess = {
  $id: `${ID_BASE}reference-success.json`,
  title: 'Reference dialect: success envelope',
  type: 'object',
  required: ['success', 'payload'],
  additionalProperties: false,
  properties: { success: { const: true }, payload: { type: 'object' } },
} as const;

/** Reference dialect, error. `validation` only for 422xxxx codes. */
export const referenceError = {
  $id: `${ID_BASE}reference-error.json`,
  title: 'Reference dialect: error envelope',
  type: 'object',
  required: ['success', 'error'],
  additionalProperties: false,
  properties: {
    success: { const: false },
    error: {
      type: 'object',
      required: ['code', 'message', 'hint'],
      additionalProperties: false,
      properties: {
        code: { type: 'integer' },
        message: { type: 'string' },
        hint: { type: 'string' },
        validation: {
          type: 'object',
          additionalProperties: { type: 'array', items: { type: 'string' }, minItems: 1 },
        },
      },
    },
  },
} as const;

/** Widget dialect (public SDKs, JS widget), success. */
export const widgetSuccess = {
  $id: `${ID_BASE}widget-success.json`,
  title: 'Widget dialect: success envelope',
  type: 'object',
  required: ['error', 'response'],
  additionalProperties: false,
  properties: {
    error: { type: 'array', maxItems: 0 },
    response: {
      type: 'object',
      required: ['success', 'data'],
      additionalProperties: false,
      properties: { success: { const: true }, data: { type: 'object' } },
    },
  },
} as const;

/**
 * Widget dialect, error. `response` is a [mock] compatibility key: the public PHP SDK reads
 * `response.success` on every reply. `messages` values are strings (the SDK `implode`s them).
 */
export const widgetError = {
  $id: `${ID_BASE}widget-error.json`,
  title: 'Widget dialect: error envelope',
  type: 'object',
  required: ['success', 'data', 'error', 'response'],
  additionalProperties: false,
  properties: {
    success: { const: false },
    data: { type: 'array', maxItems: 0 },
    error: {
      type: 'object',
      required: ['code', 'messages', 'hint'],
      additionalProperties: false,
      properties: {
        code: { type: 'integer' },
        messages: { type: 'object', additionalProperties: { type: 'string' }, minProperties: 1 },
        hint: { type: 'string' },
      },
    },
    response: {
      type: 'object',
      required: ['success', 'data'],
      additionalProperties: false,
      properties: { success: { const: false }, data: { type: 'array', maxItems: 0 } },
    },
  },
} as const;
