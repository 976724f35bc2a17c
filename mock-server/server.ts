import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { SandboxConfig } from './config/load-config.js';
import { DEFAULT_MERCHANT } from './merchants/default-merchant.js';
import type { ContextOverrides } from './sandbox-context.js';
import type { LocalCa } from './tls/local-ca.js';

export interface RunningServer {
  app: FastifyInstance;
  /** The origin it listens on, e.g. http://127.0.0.1:8077. */
  url: string;
  /** With TLS on: the HTTPS origin (e.g. https://127.0.0.1:8443) and the CA clients must trust. */
  tls?: { url: string; ca: LocalCa };
  close(): Promise<void>;
}

/** Listens with a built app. Used by `ktpay-mock serve`, the programmatic API and tests. */
export async function startServer(
  config: SandboxConfig,
  opts: ContextOverrides & { logger?: boolean } = {},
): Promise<RunningServer> {
  // On a terminal, pino-pretty formats in-process as a stream (not as a pino transport, whose
  // worker thread needs pino's own files beside the bundled CLI); loaded only then.
  const logger =
    opts.logger === false || config.log_level === 'silent'
      ? false
      : process.stdout.isTTY
        ? {
            level: config.log_level,
            stream: (await import('pino-pretty')).default({
              translateTime: 'HH:MM:ss',
              ignore: 'pid,hostname',
            }),
          }
        : { level: config.log_level };
  // The CA and the HTTPS code (and node-forge, when a certificate must be issued) load only with TLS on.
  const tls = config.tls ? await prepareTls(config.tls) : undefined;
  const app = await buildApp(config, { ...opts, logger });
  const https = tls ? tls.module.createHttpsListener(app, config, tls.credentials) : undefined;
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!https || !tls || !config.tls) return { app, url, close: () => app.close() };
  try {
    const tlsUrl = await https.listen(config.tls.port, config.tls.host);
    return { app, url, tls: { url: tlsUrl, ca: tls.ca }, close: () => app.close() };
  } catch (err) {
    await app.close();
    throw new TlsListenError(config.tls, err as NodeJS.ErrnoException);
  }
}

async function prepareTls(settings: NonNullable<SandboxConfig['tls']>) {
  const [{ ensureLocalCa, serverCredentials }, module] = await Promise.all([
    import('./tls/local-ca.js'),
    import('./tls/https-listener.js'),
  ]);
  const ca = await ensureLocalCa({ dir: settings.dir, names: settings.names });
  return { ca, module, credentials: serverCredentials(ca.files) };
}

/** The HTTPS port could not be bound; the message says what to do. */
export class TlsListenError extends Error {
  override name = 'TlsListenError';
  constructor(
    settings: NonNullable<SandboxConfig['tls']>,
    override readonly cause: NodeJS.ErrnoException,
  ) {
    const where = `${settings.host}:${settings.port}`;
    super(
      cause.code === 'EADDRINUSE'
        ? `the HTTPS port ${where} is already in use: set TLS_PORT to another port`
        : cause.code === 'EACCES'
          ? `binding ${where} needs privileges (ports below 1024 do on Linux): run as root, or allow it with \`sudo sysctl net.ipv4.ip_unprivileged_port_start=${settings.port}\`, or publish a higher TLS_PORT to ${settings.port} (docker run -p ${settings.port}:8443)`
          : cause.code === 'EADDRNOTAVAIL'
            ? `cannot bind the HTTPS listener to ${where}: no interface of this machine has that address (TLS_HOST)`
            : `cannot start the HTTPS listener on ${where}: ${cause.message}`,
    );
  }
}

/** The store setting without a password in it (a postgres:// URL may carry one). */
function redactStore(store: string): string {
  return store.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/** The startup banner: what a newcomer needs to make a first payment. */
export function banner(config: SandboxConfig, url: string, tls?: RunningServer['tls']): string {
  const base = config.public_url ?? url;
  const lines = [
    '',
    `  ktpay-mock sandbox listening on ${url}`,
    '',
    `  API          ${base}/api/v1/merchant-widget`,
    `  Demo shop    ${base}/demo   (pay in a browser: 5522 0427 0506 6736, OTP 1111)`,
    `  Dashboard    ${base}/__admin/ui`,
    `  API docs     ${base}/docs   (OpenAPI 3.1: ${base}/openapi.json)`,
    `  Health       ${base}/__admin/health`,
    `  Store        ${redactStore(config.store)}`,
  ];
  if (tls) {
    lines.push(
      '',
      `  HTTPS        ${tls.url}   (certificate for ${tls.ca.names.join(', ')})`,
      `  Local CA     ${tls.ca.files.ca}${tls.ca.created.ca ? '   (new: clients must trust it)' : ''}`,
      '               `ktpay-mock tls env` shows how to trust it and map the ktpay test hosts here',
    );
  }
  if (config.default_merchant.enabled) {
    lines.push(
      '',
      '  Built-in test merchant (sandbox only, never production):',
      `    app_id     ${DEFAULT_MERCHANT.app_id}`,
      `    app_key    ${DEFAULT_MERCHANT.app_key}`,
      `    domains    ${config.default_merchant.domains.join(', ')}`,
    );
  }
  if (config.admin_token) {
    lines.push(
      '',
      '  Admin API requires: Authorization: Bearer <ADMIN_TOKEN>',
      '  Dashboard asks for ADMIN_TOKEN once (or open it with ?token=<ADMIN_TOKEN>)',
    );
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * Stops on SIGTERM/SIGINT: stop accepting, let requests in flight finish, close the store.
 * A second signal, or 5 s, forces the exit.
 */
export function installGracefulShutdown(
  server: RunningServer,
  log: (msg: string) => void = console.error,
): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) process.exit(1);
    closing = true;
    log(`${signal} received: shutting down`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
