import { sealToBase64 } from '../../mock-server/crypto/sealed-box.js';
import { PROBE_ORDER_PREFIX, UNKNOWN_APP_ID, UNKNOWN_HASH, type ProbeDefinition } from './battery.js';
import type { ProbeAnswer } from './read-answer.js';

/** One side of a probe run: the gateway's API base and the merchant the probe acts as there. */
export interface ProbeTarget {
  /** e.g. `https://card.test.nplus.tech/api/v1/merchant-widget`. */
  apiUrl: string;
  appId: string;
  appKey: string;
}

/** Values shared by both sides of one run. */
export interface RunValues {
  /** `20260301120500-a1b2`: marks this run's order ids. */
  stamp: string;
  /** A box public key no gateway holds (the foreign-key probe). */
  foreignKey: string;
}

export interface PreparedRequest {
  method: 'GET' | 'POST';
  /** The path as the battery writes it (`/payment/{hash}`): what reports show. */
  path: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The plaintext before sealing, for the recording (never the ciphertext). */
  payload?: unknown;
}

export const API_PREFIX = '/api/v1/merchant-widget';

/** A gateway URL as the API base: an origin gets `/api/v1/merchant-widget`, a URL with a path is kept. */
export function apiBase(url: string): string {
  const u = new URL(url);
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.origin}${path === '' ? API_PREFIX : path}`;
}

/** The run stamp: time (UTC, to the second) and 4 random hex, so two runs never share an order id. */
export function runStamp(now: Date, random: () => number = Math.random): string {
  const t = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${t}-${Math.floor(random() * 0x10000)
    .toString(16)
    .padStart(4, '0')}`;
}

/** The order id a probe sends: the marker, the run stamp, the probe id. */
export const orderIdOf = (stamp: string, probeId: string) => `${PROBE_ORDER_PREFIX}-${stamp}-${probeId}`;

function fill(v: unknown, values: Record<string, string>): unknown {
  if (typeof v === 'string') return v.replace(/\{\{(\w+)\}\}/g, (m, k: string) => values[k] ?? m);
  if (Array.isArray(v)) return v.map((x) => fill(x, values));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, values)]));
  return v;
}

/** Whether a probe needs `{hash}` (the payment create-valid made on that side). */
export const needsHash = (p: ProbeDefinition): boolean =>
  p.path.includes('{hash}') || JSON.stringify(p.body).includes('{{valid_order_id}}');

/**
 * The concrete request of a probe for one side: placeholders filled, the body sealed to that
 * side's app_key (crypto must be ready: `cryptoReady()`).
 *
 * @example
 * const req = prepareRequest(BATTERY[0], target, { stamp, foreignKey }, undefined);
 */
export function prepareRequest(
  probe: ProbeDefinition,
  target: ProbeTarget,
  run: RunValues,
  hash: string | undefined,
): PreparedRequest {
  const orderId = orderIdOf(run.stamp, probe.id);
  const values = {
    order_id: orderId,
    valid_order_id: orderIdOf(run.stamp, 'create-valid'),
    long_order_id: `${orderId}-`.padEnd(256, 'x'),
  };
  const path = probe.path;
  const concrete = path.replace('{hash}', hash ?? UNKNOWN_HASH).replace('{unknown_hash}', UNKNOWN_HASH);
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': 'ktpay-mock-probe',
  };
  if (probe.auth === 'own') headers['auth-identifier'] = target.appId;
  if (probe.auth === 'unknown') headers['auth-identifier'] = UNKNOWN_APP_ID;
  const req: PreparedRequest = { method: probe.method, path, url: `${target.apiUrl}${concrete}`, headers };
  const b = probe.body;
  if (b.kind === 'none') return req;
  // The JS widget's Content-Type: the body is base64 text (spec §2).
  headers['content-type'] = 'text/plain';
  if (b.kind === 'raw') return { ...req, body: b.text, payload: b.text };
  if (b.kind === 'sealed_text') return { ...req, body: sealToBase64(b.text, target.appKey), payload: b.text };
  const payload = fill(b.payload, values);
  const key = b.kind === 'sealed_foreign' ? run.foreignKey : target.appKey;
  return { ...req, body: sealToBase64(JSON.stringify(payload), key), payload };
}

/** The upstream or sandbox did not answer at all (no HTTP answer to compare). */
export class ProbeTransportError extends Error {
  override name = 'ProbeTransportError';
}

/** Sends a prepared request over HTTP (redirects are not followed) and reads the answer as text. */
export async function sendRequest(req: PreparedRequest, timeoutMs: number): Promise<ProbeAnswer> {
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    throw new ProbeTransportError(
      `${req.method} ${req.path}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    );
  }
  return { status: res.status, content_type: res.headers.get('content-type'), body: await res.text() };
}
