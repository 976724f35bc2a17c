import type { FastifyInstance } from 'fastify';
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

/**
 * Records every request to a route marked `config: { journal: true }`: time, app_id, headers,
 * body size (not the body), the decrypted payload, the verdict and the response.
 */
export const requestJournal = fp(
  async function requestJournal(app: FastifyInstance, opts: { store: Store; clock: Clock }) {
    app.decorateRequest('ktpay', null as never);
    app.addHook('onRequest', async (request) => {
      request.ktpay = { warnings: [], raw_body_size: Number(request.headers['content-length'] ?? 0) || 0 };
    });
    app.addHook('onSend', async (request, reply, payload) => {
      if (request.routeOptions.config?.journal) {
        (reply as unknown as { journalBody?: unknown }).journalBody = payload;
      }
      return payload;
    });
    app.addHook('onResponse', async (request, reply) => {
      if (!request.routeOptions.config?.journal) return;
      const s = request.ktpay;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.headers)) {
        if (v === undefined) continue;
        headers[k] = REDACTED_HEADERS.has(k) ? '<redacted>' : Array.isArray(v) ? v.join(', ') : v;
      }
      const body = parseBody((reply as unknown as { journalBody?: unknown }).journalBody);
      opts.store.appendJournal({
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
      });
    });
  },
  { name: 'request-journal' },
);
