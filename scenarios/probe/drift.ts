/**
 * What `ktpay-mock probe` compares, one kind per aspect of an answer. A drift names its kind, the
 * place (a field path or envelope level), both sides and the contract rule involved.
 */
export const DRIFT_KINDS = [
  /** The HTTP status code. */
  'http_status',
  /** The media type of Content-Type (parameters such as charset are ignored). */
  'content_type',
  /** One side answered JSON, the other did not. */
  'body',
  /** reference vs widget envelope (or one that is neither). */
  'dialect',
  /** Same dialect, different envelope keys (e.g. the widget error's `response` compatibility key). */
  'envelope_keys',
  /** Success on one side, error on the other. */
  'outcome',
  /** The ktpay error code. */
  'error_code',
  /** The error's message text, or a field's validation message. */
  'message',
  /** The payload matches a different contract on each side (acquirer-options v1 vs v2). */
  'contract',
  /** A payload field the upstream sends and the sandbox does not. */
  'field_missing',
  /** A payload field the sandbox sends and the upstream does not. */
  'field_extra',
  /** A payload field of another JSON type. */
  'field_type',
  /** A value that legitimately differs (hash, time, URL, id) in another format. */
  'field_format',
  /** A value that should be the same on both sides (an echoed amount, a status name) is not. */
  'field_value',
] as const;

export type DriftKind = (typeof DRIFT_KINDS)[number];

export interface Drift {
  kind: DriftKind;
  /** A payload field path (`status.status`), an envelope level (`error`), or absent for the whole answer. */
  path?: string;
  /** What the upstream answered, as one line. */
  upstream: string;
  /** What the sandbox answered, as one line. */
  sandbox: string;
  /** The contract rule involved: a spec section, a schema `$id#pointer`, a catalog entry. */
  rule: string;
}

/** One line for a drift, e.g. `error_code: upstream 4040108, sandbox 5000107`. */
export function driftLine(d: Drift): string {
  return `${d.kind}${d.path ? ` at ${d.path}` : ''}: upstream ${d.upstream}; sandbox ${d.sandbox}`;
}
