import type { DeliveryScenario } from './callback-scenario.js';

/**
 * One callback delivery (an outbox row) and its attempts (spec §10, issue 4).
 *
 * States:
 * - `pending`: waiting for its first attempt (or left by a shutdown before an attempt finished);
 * - `delivering`: an attempt is in flight (found at startup, it is treated as due);
 * - `retrying`: at least one attempt failed; the next one is due at `next_attempt_at`;
 * - `acknowledged`: the receiver answered 2xx with JSON `{"status":"ok"}`;
 * - `failed`: every scheduled attempt failed, or the destination is blocked.
 */
export type DeliveryState = 'pending' | 'retrying' | 'delivering' | 'acknowledged' | 'failed';

export const DELIVERY_STATES: readonly DeliveryState[] = [
  'pending',
  'retrying',
  'delivering',
  'acknowledged',
  'failed',
];

/** What started an attempt: the retry schedule, `POST /__admin/callbacks/flush`, or a redelivery. */
export type AttemptTrigger = 'schedule' | 'flush' | 'redeliver';

export interface DeliveryAttempt {
  /** 1-based; also sent as `X-Ktpay-Attempt`. */
  attempt: number;
  trigger: AttemptTrigger;
  /** When the schedule wanted this attempt (clock ms); null for a manual redelivery. */
  due_at: number | null;
  /** When it started (clock ms). */
  at: number;
  request_headers: Record<string, string>;
  /** Always the delivery's `body`: recorded so the log itself shows the bytes never change. */
  request_body: string;
  /** False when nothing left the sandbox (a blocked destination). */
  sent: boolean;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  /** Truncated to {@link RESPONSE_BODY_LOG_LIMIT} characters. */
  response_body: string | null;
  /** Wall-clock milliseconds from start to verdict. */
  latency_ms: number;
  verdict: 'acknowledged' | 'failed';
  /** The verdict in plain words, e.g. "answered 200 but the body was not {"status":"ok"}". */
  reason: string;
  /** The replica that made it, when several share a PostgreSQL store (its lease owner id). */
  replica?: string;
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
  /** When the next scheduled attempt is due (clock ms); null once acknowledged or failed. */
  next_attempt_at: number | null;
  attempts: DeliveryAttempt[];
  /** Why this delivery exists or behaves oddly, e.g. where its URL came from or why it is blocked. */
  note: string | null;
  /** Set when a scenario (issue 6) shaped this delivery: what it does and the parameters it needs. */
  scenario?: DeliveryScenario;
}

export interface DeliveryFilter {
  transaction_hash?: string;
  state?: DeliveryState;
  app_id?: string;
}

/** How much of a receiver's answer the attempt log keeps. */
export const RESPONSE_BODY_LOG_LIMIT = 4096;

export const isOpen = (d: Pick<Delivery, 'state'>): boolean =>
  d.state !== 'acknowledged' && d.state !== 'failed';
