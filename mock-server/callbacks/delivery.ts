/** One callback delivery (an outbox row) and its attempts (spec §10, issue 4). */
export type DeliveryState = 'pending' | 'retrying' | 'delivering' | 'acknowledged' | 'failed';

export interface DeliveryAttempt {
  attempt: number;
  at: number;
  request_headers: Record<string, string>;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  /** Truncated. */
  response_body: string | null;
  latency_ms: number;
  verdict: 'acknowledged' | 'failed';
  reason: string;
}

export interface Delivery {
  id: string;
  transaction_hash: string;
  app_id: string;
  url: string;
  /** The exact JSON text POSTed, so every attempt sends identical bytes. */
  body: string;
  /** Which status triggered it. */
  status: string;
  state: DeliveryState;
  created_at: number;
  next_attempt_at: number | null;
  attempts: DeliveryAttempt[];
  /** Why this delivery exists or behaves oddly, e.g. a scenario's explanation. */
  note: string | null;
}

export interface DeliveryFilter {
  transaction_hash?: string;
  state?: DeliveryState;
  app_id?: string;
}
