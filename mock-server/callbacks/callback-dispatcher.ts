import { performance } from 'node:perf_hooks';
import type { Agent } from 'undici';
import type { Merchant } from '../merchants/merchant.js';
import { judgeAnswer } from './ack-rule.js';
import { RESPONSE_BODY_LOG_LIMIT, type Delivery } from './delivery.js';
import {
  addressRulesFor,
  BlockedDestinationError,
  checkDestination,
  guardedLookup,
  systemResolver,
  type AddressRules,
  type Resolver,
} from './destination-guard.js';

const importUndici = () => import('undici');

/** The largest answer read to judge an ack; a bigger answer is a failed attempt. */
const MAX_ANSWER_BYTES = 65_536;
/** How long an idle keep-alive connection to a receiver is kept. */
const KEEP_ALIVE_MS = 4_000;

/** What one HTTP attempt came to. The outbox turns it into a `DeliveryAttempt`. */
export interface SendOutcome {
  /** False when the destination was refused before anything left the sandbox. */
  sent: boolean;
  /** True when the destination is refused for good: no retry can help. */
  blocked: boolean;
  /** True when shutdown cut the attempt short: this is not a verdict on the receiver. */
  aborted: boolean;
  request_headers: Record<string, string>;
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: string | null;
  latency_ms: number;
  acknowledged: boolean;
  reason: string;
}

export interface DispatcherOptions {
  /** Per-attempt deadline in wall-clock ms, covering connect, headers and body (config.callbacks.timeout_ms). */
  timeoutMs: number;
  /** config.callbacks.allow_hosts */
  allowHosts: readonly string[];
  resolve?: Resolver;
}

type ErrorLike = { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };

function errorCode(err: unknown): string | undefined {
  const e = err as ErrorLike | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function readAnswer(body: AsyncIterable<Buffer>): Promise<{ text: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) return { text: Buffer.concat(chunks).toString('utf8'), tooLarge: true };
    chunks.push(chunk);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), tooLarge: false };
}

const clip = (s: string) =>
  s.length > RESPONSE_BODY_LOG_LIMIT ? `${s.slice(0, RESPONSE_BODY_LOG_LIMIT)}…` : s;

/**
 * Sends callback attempts with undici: one keep-alive agent per merchant (its connect-time DNS
 * guard knows that merchant's loopback rule), a wall-clock timeout per attempt, no redirects
 * followed, and every failure described in plain words.
 *
 * @example
 * const dispatcher = createCallbackDispatcher({ timeoutMs: 10_000, allowHosts: [] });
 * const outcome = await dispatcher.send(delivery, merchant, 1);
 * outcome.acknowledged; // true only for 2xx application/json {"status":"ok"}
 */
export function createCallbackDispatcher(opts: DispatcherOptions) {
  const resolve = opts.resolve ?? systemResolver;
  const agents = new Map<string, Agent>();
  // undici is loaded with the first attempt, not at startup: importing it took ~60 ms of the
  // sandbox's start (issue 10), and many runs never send a callback.
  type Undici = Awaited<ReturnType<typeof importUndici>>;
  let undici: Promise<Undici> | undefined;
  const loadUndici = () => (undici ??= importUndici());
  const inFlight = new Set<AbortController>();
  const cutByShutdown = new WeakSet<AbortController>();

  function agentFor(AgentClass: typeof Agent, appId: string, rules: AddressRules): Agent {
    const key = `${appId}|${rules.loopbackAllowed}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = new AgentClass({
        keepAliveTimeout: KEEP_ALIVE_MS,
        // Our own timer decides; undici's own deadlines only back it up.
        headersTimeout: opts.timeoutMs + 1_000,
        bodyTimeout: opts.timeoutMs + 1_000,
        connect: { timeout: opts.timeoutMs + 1_000, lookup: guardedLookup(rules, resolve) },
      });
      agents.set(key, agent);
    }
    return agent;
  }

  function describeFailure(err: unknown, url: URL): { reason: string; blocked: boolean } {
    if (err instanceof BlockedDestinationError)
      return { reason: `blocked: ${err.message}; nothing was sent`, blocked: true };
    const code = errorCode(err);
    const where = url.host;
    const message = String((err as ErrorLike | null)?.message ?? err);
    switch (code) {
      case 'ECONNREFUSED':
        return { reason: `connection refused by ${where}: nothing is listening there`, blocked: false };
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_FAIL':
      case 'EAI_NODATA':
      case 'EAI_NONAME':
        return { reason: `DNS lookup for ${url.hostname} failed (${code})`, blocked: false };
      case 'ECONNRESET':
      case 'EPIPE':
      case 'UND_ERR_SOCKET':
        return { reason: `connection reset by ${where} before a complete answer (${code})`, blocked: false };
      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
        return {
          reason: `no complete answer from ${where} within ${opts.timeoutMs} ms (timeout)`,
          blocked: false,
        };
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return { reason: `${where} is unreachable (${code})`, blocked: false };
      default:
        if (code && /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code)) {
          return { reason: `TLS handshake with ${where} failed (${code}): ${message}`, blocked: false };
        }
        return {
          reason: `request to ${where} failed${code ? ` (${code})` : ''}: ${message}`,
          blocked: false,
        };
    }
  }

  return {
    /**
     * One attempt: POST the delivery's exact body with `X-Ktpay-Delivery-Id` and
     * `X-Ktpay-Attempt`, judge the answer, never throw.
     */
    async send(d: Delivery, merchant: Merchant | undefined, attempt: number): Promise<SendOutcome> {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(d.body)),
        'user-agent': 'ktpay-mock-callback',
        'x-ktpay-delivery-id': d.id,
        'x-ktpay-attempt': String(attempt),
      };
      const start = performance.now();
      const latency = () => Math.round((performance.now() - start) * 100) / 100;
      const base = {
        request_headers: headers,
        response_status: null,
        response_headers: null,
        response_body: null,
      };
      const refuse = (reason: string): SendOutcome => ({
        ...base,
        sent: false,
        blocked: true,
        aborted: false,
        latency_ms: latency(),
        acknowledged: false,
        reason: `blocked: ${reason}; nothing was sent`,
      });
      if (!merchant) return refuse(`merchant ${d.app_id} no longer exists`);
      const rules = addressRulesFor(merchant, opts.allowHosts);
      const check = checkDestination(d.url, merchant, rules);
      if (!check.ok) return refuse(check.reason);

      const url = new URL(d.url);
      const ac = new AbortController();
      inFlight.add(ac);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ac.abort();
      }, opts.timeoutMs);
      timer.unref();
      let status: number | null = null;
      let responseHeaders: Record<string, string> | null = null;
      try {
        const { Agent: AgentClass, request } = await loadUndici();
        const res = await request(url, {
          method: 'POST',
          headers,
          body: d.body,
          dispatcher: agentFor(AgentClass, merchant.app_id, rules),
          signal: ac.signal,
        });
        status = res.statusCode;
        responseHeaders = flattenHeaders(res.headers);
        const answer = await readAnswer(res.body);
        const verdict = answer.tooLarge
          ? {
              acknowledged: false,
              reason: `answered ${status} with a body larger than ${MAX_ANSWER_BYTES} bytes`,
            }
          : judgeAnswer(status, responseHeaders['content-type'], answer.text);
        return {
          ...base,
          sent: true,
          blocked: false,
          aborted: false,
          response_status: status,
          response_headers: responseHeaders,
          response_body: clip(answer.text),
          latency_ms: latency(),
          acknowledged: verdict.acknowledged,
          reason: verdict.reason,
        };
      } catch (err) {
        const partial = { ...base, response_status: status, response_headers: responseHeaders };
        if (cutByShutdown.has(ac)) {
          return {
            ...partial,
            sent: true,
            blocked: false,
            aborted: true,
            latency_ms: latency(),
            acknowledged: false,
            reason: 'cut short by shutdown',
          };
        }
        const failure = timedOut
          ? {
              reason: `no complete answer from ${url.host} within ${opts.timeoutMs} ms (timeout${status === null ? '' : `; status ${status} had arrived`})`,
              blocked: false,
            }
          : describeFailure(err, url);
        return {
          ...partial,
          sent: !failure.blocked,
          blocked: failure.blocked,
          aborted: false,
          latency_ms: latency(),
          acknowledged: false,
          reason: failure.reason,
        };
      } finally {
        clearTimeout(timer);
        inFlight.delete(ac);
      }
    },

    /** Cuts every attempt in flight short (shutdown); their outcomes come back `aborted`. */
    abortAll() {
      for (const ac of inFlight) {
        cutByShutdown.add(ac);
        ac.abort();
      }
    },

    /** Closes every keep-alive connection. */
    async close() {
      const all = [...agents.values()];
      agents.clear();
      await Promise.all(all.map((a) => a.destroy().catch(() => undefined)));
    },
  };
}

export type CallbackDispatcher = ReturnType<typeof createCallbackDispatcher>;
