/** An HTTP answer as the probe keeps it (already redacted; see redact.ts). */
export interface ProbeAnswer {
  status: number;
  content_type: string | null;
  body: string;
}

export type Dialect = 'reference' | 'widget' | 'unknown';

/** What the comparison reads out of an answer, whatever its dialect. */
export interface ReadAnswer {
  status: number;
  /** Content-Type without parameters, lower case. */
  media_type: string | null;
  /** The parsed body, or undefined when the body is not JSON. */
  json: unknown;
  dialect: Dialect | 'not_json';
  outcome: 'success' | 'error' | 'unknown';
  /** Envelope level (`(top)`, `error`, `response`) → its keys, sorted; payloads are not envelope. */
  keys: Record<string, string[]>;
  /** The success payload (`payload`, or `response.data`). */
  payload?: unknown;
  code?: unknown;
  /**
   * The error's messages in one shape for both dialects, as the widget dialect carries them: field
   * path → text for validation errors, else `{error: message}` (spec §5).
   */
  messages?: Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const keysOf = (v: Record<string, unknown>) => Object.keys(v).sort();

/** The reference dialect's error in the widget dialect's `messages` shape (spec §5). */
function referenceMessages(error: Record<string, unknown>): Record<string, string> | undefined {
  const validation = error.validation;
  if (isObject(validation) && Object.keys(validation).length > 0) {
    const out: Record<string, string> = {};
    for (const [field, list] of Object.entries(validation))
      out[field] = Array.isArray(list) ? list.map(String).join(' ') : String(list);
    return out;
  }
  return typeof error.message === 'string' ? { error: error.message } : undefined;
}

function widgetMessages(error: Record<string, unknown>): Record<string, string> | undefined {
  const messages = error.messages;
  if (!isObject(messages)) return undefined;
  const out: Record<string, string> = {};
  for (const [field, text] of Object.entries(messages))
    out[field] = Array.isArray(text) ? text.map(String).join(' ') : String(text);
  return out;
}

/**
 * Reads an answer: its dialect (by the envelope's shape, so a non-conforming envelope is still
 * recognised and its differences reported), success or error, the envelope keys per level, the
 * payload, the code and the messages.
 *
 * @example
 * readAnswer({ status: 200, content_type: 'application/json', body: '{"success":true,"payload":{}}' })
 * // { dialect: 'reference', outcome: 'success', keys: { '(top)': ['payload', 'success'] }, payload: {}, … }
 */
export function readAnswer(a: ProbeAnswer): ReadAnswer {
  const media_type = a.content_type ? a.content_type.split(';')[0]!.trim().toLowerCase() : null;
  let json: unknown;
  try {
    json = JSON.parse(a.body);
  } catch {
    return {
      status: a.status,
      media_type,
      json: undefined,
      dialect: 'not_json',
      outcome: 'unknown',
      keys: {},
    };
  }
  const base = { status: a.status, media_type, json };
  if (!isObject(json)) return { ...base, dialect: 'unknown', outcome: 'unknown', keys: {} };
  const top = { '(top)': keysOf(json) };
  const { error, response } = json;

  // Widget success: {"error": [], "response": {"success": true, "data": {…}}}.
  if (Array.isArray(error) && isObject(response)) {
    return {
      ...base,
      dialect: 'widget',
      outcome: response.success === true ? 'success' : 'error',
      keys: { ...top, response: keysOf(response) },
      payload: response.data,
    };
  }
  // Widget error: {"success": false, "data": [], "error": {"code", "messages", "hint"}, "response": {…}}.
  if (isObject(error) && ('messages' in error || Array.isArray(json.data))) {
    return {
      ...base,
      dialect: 'widget',
      outcome: 'error',
      keys: { ...top, error: keysOf(error), ...(isObject(response) ? { response: keysOf(response) } : {}) },
      code: error.code,
      ...(widgetMessages(error) ? { messages: widgetMessages(error)! } : {}),
    };
  }
  // Reference: {"success": true, "payload": {…}} or {"success": false, "error": {"code", "message", …}}.
  if (json.success === true && 'payload' in json) {
    return { ...base, dialect: 'reference', outcome: 'success', keys: top, payload: json.payload };
  }
  if (json.success === false && isObject(error)) {
    const messages = referenceMessages(error);
    return {
      ...base,
      dialect: 'reference',
      outcome: 'error',
      keys: { ...top, error: keysOf(error) },
      code: error.code,
      ...(messages ? { messages } : {}),
    };
  }
  return { ...base, dialect: 'unknown', outcome: 'unknown', keys: top };
}
