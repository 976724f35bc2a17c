import { createServer, type Server } from 'node:https';
import type { FastifyInstance } from 'fastify';
import type { SandboxConfig } from '../config/load-config.js';
import { clientErrorHandler } from '../envelope/client-error.js';

/** How long shutdown waits for HTTPS requests in flight before it cuts their connections. */
const CLOSE_GRACE_MS = 2000;

export interface HttpsListener {
  server: Server;
  /** Starts listening; resolves with the origin, e.g. `https://127.0.0.1:8443`. */
  listen(port: number, host: string): Promise<string>;
}

/**
 * An HTTPS server beside Fastify's HTTP one, handing every request to the same app
 * (`app.routing`): one router, one store, one journal, so a payment created over HTTPS is paid over
 * HTTP and the other way round. Requests on it have `request.protocol === 'https'` (the TLS socket),
 * which is how generated links keep the scheme. It takes the HTTP server's limits and error
 * handling, and closes with the app: it stops accepting at `preClose`, lets requests in flight
 * finish for up to 2 s, then cuts what is left. Call it before `app.listen()` (hooks must be added
 * before the app is ready) and `listen()` after.
 *
 * @example
 * const https = createHttpsListener(app, config, serverCredentials(files));
 * await app.listen({ port: 8077 });
 * const origin = await https.listen(8443, '127.0.0.1');
 */
export function createHttpsListener(
  app: FastifyInstance,
  config: SandboxConfig,
  credentials: { key: string; cert: string },
): HttpsListener {
  const server = createServer(
    { ...credentials, maxHeaderSize: config.max_header_size, minVersion: 'TLSv1.2' },
    (req, res) => app.routing(req, res),
  );
  server.on('clientError', clientErrorHandler(config));
  // A client that does not trust the CA (or speaks plain HTTP to this port) fails the handshake.
  // That is the client's answer to give; the sandbox only notes it.
  server.on('tlsClientError', (err) => app.log.debug({ err }, 'TLS handshake failed'));

  app.addHook('preClose', async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Connections become idle as their last response ends: close them as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    server.closeIdleConnections();
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), CLOSE_GRACE_MS).unref());
    if ((await Promise.race([closed, timer])) === 'late') server.closeAllConnections();
    clearInterval(sweep);
    await closed;
  });

  return {
    server,
    async listen(port, host) {
      // The same timeouts as Fastify gave its own server.
      server.keepAliveTimeout = app.server.keepAliveTimeout;
      server.headersTimeout = app.server.headersTimeout;
      server.requestTimeout = app.server.requestTimeout;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      return `https://${shown.includes(':') ? `[${shown}]` : shown}:${bound}`;
    },
  };
}
