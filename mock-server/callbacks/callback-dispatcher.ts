import { performance } from 'node:perf_hooks';
import type { Agent, Dispatcher } from 'undici';
import type { Merchant } from '../merchants/merchant.js';
import { setOwn } from '../shared/own-property.js';
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

/**
 * undici, loaded on the first attempt. Plain Node gives its named exports; the bundled CLI
 * (esbuild) exposes the CommonJS module only as `default`, so the named ones are undefined there.
 */
async function importUndici(): Promise<{ Agent: typeof Agent }> {
  return { Agent: undiciAgentOf(await import('undici')) };
}

/**
 * The Agent class of an imported undici module, whether it came with named exports (Node) or as a
 * CommonJS `default` only (the esbuild bundle).
 *
 * @example
 * undiciAgentOf({ default: require('undici') }) === require('undici').Agent; // true
 */
export function undiciAgentOf(mod: unknown): typeof Agent {
  const m = mod as { Agent?: unknown; default?: { Agent?: unknown } } | null;
  const found = m?.Agent ?? m?.default?.Agent;
  if (typeof found !== 'function') throw new Error('undici did not load: the module has no Agent export');
  return found as typeof Agent;
}

/** The largest answer read to judge an ack; a bigger answer is a failed attempt. */
const MAX_ANSWER_BYTES = 65_536;
/** How many distinct callback URLs the dispatcher keeps parsed. */
const URL_CACHE_SIZE = 1_000;
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

/** Response headers as the attempt log keeps them: lower-case names, repeated ones joined with ", ". */
function flattenHeaders(raw: Buffer[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('utf8');
    // Own keys only: a receiver's `constructor` header must not read Object, nor `__proto__` vanish.
    const prev = Object.hasOwn(out, name) ? out[name] : undefined;
    setOwn(out, name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return out;
}

/** The receiver's answer to one POST, or how it went wrong. */
type Answer =
  | { ok: true; status: number; headers: Record<string, string>; text: string; tooLarge: boolean }
  | { ok: false; err: unknown; status: number | null; headers: Record<string, string> | null };

/**
 * One POST through undici's dispatch interface: the answer's body is collected straight from the
 * parser (no stream, no async iterator, no AbortController), which was most of undici's share
 * of a delivery in the bench's profile (issue 10). `cancel()` cuts it short at any point: before
 * the request reaches a socket it is refused there, afterwards the socket is destroyed.
 */
class AttemptHandler implements Dispatcher.DispatchHandlers {
  status: number | null = null;
  headers: Record<string, string> | null = null;
  private abort: ((err?: Error) => void) | undefined;
  private cancelled: Error | undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private settled = false;

  constructor(private readonly settle: (a: Answer) => void) {}

  cancel(err: Error): void {
    if (this.settled) return;
    this.cancelled ??= err;
    this.abort?.(err);
  }

  private finish(a: Answer): void {
    if (this.settled) return;
    this.settled = true;
    this.chunks = [];
    this.settle(a);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.cancelled) abort(this.cancelled);
    else this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true; // 1xx: the real answer follows
    this.status = statusCode;
    this.headers = flattenHeaders(rawHeaders);
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > MAX_ANSWER_BYTES) {
      // Judged on what arrived; the rest is not read, and the connection is not reused.
      const text = Buffer.concat(this.chunks).toString('utf8');
      this.finish({ ok: true, status: this.status ?? 0, headers: this.headers ?? {}, text, tooLarge: true });
      this.abort?.();
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    const text =
      this.chunks.length === 1
        ? this.chunks[0]!.toString('utf8')
        : Buffer.concat(this.chunks).toString('utf8');
    this.finish({ ok: true, status: this.status ?? 0, headers: this.headers ?? {}, text, tooLarge: false });
  }

  onError(err: Error): void {
    this.finish({ ok: false, err, status: this.status, headers: this.headers });
  }
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
  const loadUndici = () =>
    (undici ??= importUndici().catch((err: unknown) => {
      undici = undefined; // the next attempt tries again
      throw err;
    }));
  const inFlight = new Set<AttemptHandler>();
  // Parsed callback URLs: a merchant's deliveries all go to one or a few, so each is parsed once.
  const urls = new Map<string, URL | null>();
  function parsedUrl(text: string): URL | null {
    let u = urls.get(text);
    if (u === undefined) {
      u = URL.canParse(text) ? new URL(text) : null;
      if (urls.size >= URL_CACHE_SIZE) urls.clear();
      urls.set(text, u);
    }
    return u;
  }
  const cutByShutdown = new WeakSet<AttemptHandler>();

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
      // Encoded once: its length is the Content-Length, and undici sends these very bytes.
      const payload = Buffer.from(d.body, 'utf8');
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'content-length': String(payload.length),
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
      const url = parsedUrl(d.url);
      const check = checkDestination(url ?? d.url, merchant, rules);
      if (!check.ok) return refuse(check.reason);

      if (!url) return refuse(`${JSON.stringify(d.url)} is not a valid URL`);
      let timedOut = false;
      let handler: AttemptHandler | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        handler?.cancel(new Error(`no complete answer within ${opts.timeoutMs} ms`));
      }, opts.timeoutMs);
      timer.unref();
      let answer: Answer;
      try {
        const { Agent: AgentClass } = await loadUndici();
        const agent = agentFor(AgentClass, merchant.app_id, rules);
        answer = await new Promise<Answer>((settle) => {
          handler = new AttemptHandler(settle);
          inFlight.add(handler);
          if (timedOut) handler.cancel(new Error('timed out before the request was sent'));
          agent.dispatch(
            {
              origin: url.origin,
              path: `${url.pathname}${url.search}`,
              method: 'POST',
              headers,
              body: payload,
            },
            handler,
          );
        });
      } catch (err) {
        answer = { ok: false, err, status: null, headers: null };
      } finally {
        clearTimeout(timer);
        if (handler) inFlight.delete(handler);
      }
      if (answer.ok) {
        const { status } = answer;
        const verdict = answer.tooLarge
          ? {
              acknowledged: false,
              reason: `answered ${status} with a body larger than ${MAX_ANSWER_BYTES} bytes`,
            }
          : judgeAnswer(status, answer.headers['content-type'], answer.text);
        return {
          ...base,
          sent: true,
          blocked: false,
          aborted: false,
          response_status: status,
          response_headers: answer.headers,
          response_body: clip(answer.text),
          latency_ms: latency(),
          acknowledged: verdict.acknowledged,
          reason: verdict.reason,
        };
      }
      const { status } = answer;
      const partial = { ...base, response_status: status, response_headers: answer.headers };
      if (handler && cutByShutdown.has(handler)) {
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
        : describeFailure(answer.err, url);
      return {
        ...partial,
        sent: !failure.blocked,
        blocked: failure.blocked,
        aborted: false,
        latency_ms: latency(),
        acknowledged: false,
        reason: failure.reason,
      };
    },

    /** Cuts every attempt in flight short (shutdown); their outcomes come back `aborted`. */
    abortAll() {
      for (const h of inFlight) {
        cutByShutdown.add(h);
        h.cancel(new Error('cut short by shutdown'));
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
