import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A merchant's callback endpoint on a real socket: records every body it receives per
 * transaction_hash, and answers either the documented acknowledgement or a failure.
 */
export interface CallbackReceiver {
  url: string;
  /** `ok` answers `{"status":"ok"}`; `fail` answers 503. */
  mode: 'ok' | 'fail';
  /** Bodies received while answering `ok`, by transaction_hash. */
  acknowledged: Map<string, number>;
  /** Every request received, in order. */
  received: { hash: string; mode: 'ok' | 'fail'; attempt: string | undefined; body: unknown }[];
  close(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const receiver: CallbackReceiver = {
    url: '',
    mode: 'fail',
    acknowledged: new Map(),
    received: [],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      const hash = String((body as { transaction_hash?: unknown } | null)?.transaction_hash ?? '');
      const mode = receiver.mode;
      receiver.received.push({
        hash,
        mode,
        attempt: req.headers['x-ktpay-attempt'] as string | undefined,
        body,
      });
      if (mode === 'ok') {
        receiver.acknowledged.set(hash, (receiver.acknowledged.get(hash) ?? 0) + 1);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      } else {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('not now');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ktpay/callback`;
  return receiver;
}
