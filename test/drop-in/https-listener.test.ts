/**
 * The HTTPS listener beside the HTTP one (issue 23): one app behind both, the same limits and
 * error codes, the CA served for CI jobs, a clean shutdown, readable startup errors.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsListenError } from '../../mock-server/server.js';
import { API, APP_ID, orderPayload, seal } from '../helpers/sandbox.js';
import { httpsRequest, startTlsSandbox, testTlsFolder, type TlsSandbox } from './tls-sandbox.js';

let folder: Awaited<ReturnType<typeof testTlsFolder>>;
let sandbox: TlsSandbox;
const FINTECH = 'fintech.test.nplus.tech';
const https = (path: string, opts: Parameters<typeof httpsRequest>[4] = {}) =>
  httpsRequest(folder.ca, { host: '127.0.0.1', port: sandbox.httpsPort }, FINTECH, path, opts);

beforeAll(async () => {
  folder = await testTlsFolder();
  sandbox = await startTlsSandbox(folder.dir, { admin_token: 'tls-admin' });
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  folder?.remove();
});

describe('the HTTPS listener', () => {
  it('serves the same sandbox as HTTP: a payment created over HTTPS is read over HTTP', async () => {
    const created = await https(`${API}/payment`, {
      method: 'POST',
      headers: { 'auth-identifier': APP_ID, 'content-type': 'text/plain' },
      body: await seal(orderPayload()),
    });
    const hash = (JSON.parse(created.body) as { payload: { transaction_hash: string } }).payload
      .transaction_hash;
    const read = await fetch(`${sandbox.url}/__admin/transactions/${hash}`, {
      headers: { authorization: 'Bearer tls-admin' },
    });
    expect(read.status).toBe(200);
    // The journal notes the HTTPS request like any other.
    const journal = (await (
      await fetch(`${sandbox.url}/__admin/journal?transaction_hash=${hash}`, {
        headers: { authorization: 'Bearer tls-admin' },
      })
    ).json()) as { entries: { path: string }[] };
    expect(journal.entries.some((e) => e.path === `${API}/payment`)).toBe(true);
  });

  it('serves the CA certificate at /__admin/tls/ca.pem (admin token applies), the key never', async () => {
    expect((await https('/__admin/tls/ca.pem')).status).toBe(401);
    const res = await fetch(`${sandbox.url}/__admin/tls/ca.pem`, {
      headers: { authorization: 'Bearer tls-admin' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-pem-file');
    const pem = await res.text();
    expect(pem).toBe(readFileSync(folder.ca.files.ca, 'utf8'));
    expect(pem).not.toContain('PRIVATE KEY');
  });

  it('answers an oversized request head with 431 / 4310126 there too', async () => {
    const res = await https('/__admin/health', { headers: { 'x-big': 'x'.repeat(20_000) } });
    expect(res.status).toBe(431);
    expect((JSON.parse(res.body) as { error: { code: number } }).error.code).toBe(4310126);
  });

  it('refuses a client that does not trust the CA: the certificate check is the client’s, and it bites', async () => {
    const error = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: sandbox.httpsPort, servername: FINTECH });
      socket.once('secureConnect', () => resolve('connected'));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(error).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  });
});

describe('the HTTPS listener at startup and shutdown', () => {
  it('names the port in use, without leaving the HTTP listener behind', async () => {
    const err = await startTlsSandbox(folder.dir, { tls: { port: sandbox.httpsPort } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TlsListenError);
    expect((err as Error).message).toContain(
      `the HTTPS port 127.0.0.1:${sandbox.httpsPort} is already in use`,
    );
  });

  it('closes with the app, an idle keep-alive connection included, and stops answering', async () => {
    const other = await startTlsSandbox(folder.dir);
    // A client that keeps its connection open after an answer, as browsers and SDK pools do.
    const socket = connect({
      host: '127.0.0.1',
      port: other.httpsPort,
      servername: FINTECH,
      ca: readFileSync(folder.ca.files.ca),
    });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    socket.write(`GET /__admin/health HTTP/1.1\r\nHost: ${FINTECH}\r\nConnection: keep-alive\r\n\r\n`);
    while (!received.includes('"status":"ok"')) await new Promise((r) => setTimeout(r, 20));
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    expect(received.toLowerCase()).toContain('connection: keep-alive');

    // Shutdown does not wait for the idle connection (Node keeps one open 72 s otherwise).
    const started = performance.now();
    await other.close();
    await ended;
    expect(performance.now() - started).toBeLessThan(10_000);
    await expect(
      httpsRequest(folder.ca, { host: '127.0.0.1', port: other.httpsPort }, FINTECH, '/__admin/health'),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
