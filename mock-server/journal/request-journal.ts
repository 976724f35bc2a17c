import type {
  FastifyInstance,
  onResponseHookHandler,
  onSendHookHandler,
  preSerializationHookHandler,
} from 'fastify';
import fp from 'fastify-plugin';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import '../request-state.js';

const REDACTED_HEADERS = new Set(['authorization', 'cookie']);
const MAX_BODY_CHARS = 8192;

function parseBody(payload: unknown): unknown {
  if (typeof payload !== 'string') return payload instanceof Buffer ? `<${payload.length} bytes>` : null;
  if (payload.length > MAX_BODY_CHARS) return `${payload.slice(0, MAX_BODY_CHARS)}…`;
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

/** What the journal keeps on a reply between its hooks. */
interface JournalReply {
  /** The response as sent (serialized string, HTML, a Buffer…). */
  journalBody?: unknown;
  /** The object a JSON reply was serialized from, when Fastify serialized it with JSON.stringify. */
  journalObject?: unknown;
}

/** A route-level hook list as Fastify takes it: absent, one function, or several. */
type HookList<F> = F | F[] | undefined;
const withHook = <F>(existing: HookList<F>, hook: F): F[] =>
  existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];

/**
 * Records every request to a route marked `config: { journal: true }`: time, app_id, headers,
 * body size (not the body), the decrypted payload, the verdict and the response.
 *
 * The recording hooks are attached to the journaled routes only (in `onRoute`), so other routes pay
 * nothing and no hook has to ask `request.routeOptions` (a getter that builds a fresh object on
 * every read). They are callback-style (no promise per hook), and a JSON reply is recorded from the
 * object it was serialized from instead of parsing the string just produced: all measured
 * per-request costs (issue 10). A route with a response schema (whose serializer may drop fields),
 * a non-object payload or a body over 8 KiB is still recorded from what was actually sent.
 */
export const requestJournal = fp(
  async function requestJournal(app: FastifyInstance, opts: { store: Store; clock: Clock }) {
    app.decorateRequest('ktpay', null as never);
    app.addHook('onRequest', (request, _reply, done) => {
      request.ktpay = { warnings: [], raw_body_size: Number(request.headers['content-length'] ?? 0) || 0 };
      done();
    });

    const keepObject: preSerializationHookHandler = (_request, reply, payload, done) => {
      (reply as unknown as JournalReply).journalObject = payload;
      done(null, payload);
    };
    const keepSent: onSendHookHandler = (_request, reply, payload, done) => {
      (reply as unknown as JournalReply).journalBody = payload;
      done(null, payload);
    };
    const record: onResponseHookHandler = (request, reply, done) => {
      let entry: Parameters<Store['appendJournal']>[0];
      try {
        const s = request.ktpay;
        const headers: Record<string, string> = {};
        // As sent: `request.headers` may carry the sealed-body parser's stand-in Content-Type.
        const raw = request.raw.headers;
        for (const k in raw) {
          const v = raw[k];
          if (v === undefined) continue;
          headers[k] = REDACTED_HEADERS.has(k) ? '<redacted>' : Array.isArray(v) ? v.join(', ') : v;
        }
        const kept = reply as unknown as JournalReply;
        const sent = kept.journalBody;
        const body =
          kept.journalObject !== undefined && typeof sent === 'string' && sent.length <= MAX_BODY_CHARS
            ? kept.journalObject
            : parseBody(sent);
        entry = {
          at: opts.clock.now(),
          app_id: s.app_id ?? s.merchant?.app_id ?? null,
          order_id: s.order_id ?? null,
          transaction_hash: s.transaction_hash ?? null,
          method: request.method,
          path: request.url,
          headers,
          raw_body_size: s.raw_body_size,
          decrypted: s.decrypted ?? null,
          verdict: {
            ok: reply.statusCode < 400,
            error_code: s.error_code ?? null,
            explanation: s.explanation ?? null,
            contract_warnings: s.warnings,
            scenario: s.scenario ?? null,
          },
          response: { status: reply.statusCode, body },
          duration_ms: Math.round(reply.elapsedTime * 100) / 100,
        };
      } catch (err) {
        done(err as Error);
        return;
      }
      // The reply has gone out; the entry is committed before the request counts as finished, so
      // a graceful shutdown (which waits for requests) never closes the store under it.
      opts.store.appendJournal(entry).then(() => done(), done);
    };

    app.addHook('onRoute', (route) => {
      const config = route.config as { journal?: boolean } | undefined;
      if (!config?.journal) return;
      if (route.schema?.response === undefined) {
        route.preSerialization = withHook(route.preSerialization, keepObject);
      }
      route.onSend = withHook(route.onSend, keepSent);
      route.onResponse = withHook(route.onResponse, record);
    });
  },
  { name: 'request-journal' },
);
