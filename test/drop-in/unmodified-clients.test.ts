/**
 * Issue 23's acceptance: clients that hardcode https://fintech.test.nplus.tech create payments in
 * the sandbox with no line changed. Each runs as its own process in a private mount namespace
 * whose /etc/hosts maps the ktpay test hosts to a random loopback address, where the sandbox's
 * HTTPS listener is on port 443 (root only, as /etc/hosts and port 443 are). The CA is trusted the
 * way `ktpay-mock tls env` says: PHP's openssl.cafile, Node's NODE_EXTRA_CA_CERTS. No certificate
 * check is relaxed: each suite also shows the same call failing without the CA.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { commandSucceeds, foreignRuntime } from '../helpers/foreign-runtime.js';
import { nextOrderId } from '../helpers/sandbox.js';
import {
  hostsNamespaceAvailable,
  randomLoopback,
  runWithHosts,
  startTlsSandbox,
  testTlsFolder,
  type Finished,
  type TlsSandbox,
} from './tls-sandbox.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/drop-in/', import.meta.url));
const PHP_SCRIPT = `${FIXTURES}guzzle-sdk-create.php`;
const NODE_SCRIPT = `${FIXTURES}node-fetch-create.js`;
const CREDENTIALS = { KTPAY_APP_ID: DEFAULT_MERCHANT.app_id, KTPAY_APP_KEY: DEFAULT_MERCHANT.app_key };
const order = (id = nextOrderId('DROPIN')) =>
  JSON.stringify({ order: { order_id: id, amount: 1500, description: 'Заказ из магазина', type: 'ecom' } });

const mapped = hostsNamespaceAvailable('drop-in clients on the ktpay host names');
const php =
  mapped &&
  foreignRuntime(
    'PHP 8 with sodium and Guzzle (apt-get install php-cli php-curl php-guzzlehttp-guzzle)',
    'the PHP SDK client over HTTPS',
    commandSucceeds('php', [
      '-r',
      'require "/usr/share/php/GuzzleHttp/autoload.php"; exit(extension_loaded("sodium") && extension_loaded("curl") ? 0 : 1);',
    ]),
  );

let folder: Awaited<ReturnType<typeof testTlsFolder>>;

beforeAll(async () => {
  folder = await testTlsFolder();
}, 60_000);
afterAll(() => folder?.remove());

/** The payment the sandbox holds for an order, read over the HTTP listener. */
async function paymentOf(sandbox: TlsSandbox, orderId: string) {
  const journal = (await (await fetch(`${sandbox.url}/__admin/journal?order_id=${orderId}`)).json()) as {
    entries: { transaction_hash: string | null; headers: Record<string, string>; path: string }[];
  };
  return journal.entries.find((e) => e.path === '/api/v1/merchant-widget/payment');
}

const parsed = (run: Finished) => {
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}${run.stdout}`);
  return JSON.parse(run.stdout.trim()) as { status: number; body: string; payment_page?: string | null };
};

describe.skipIf(!mapped)('as fintech.test.nplus.tech on port 443', () => {
  let sandbox: TlsSandbox;
  let ip = '';

  beforeAll(async () => {
    ip = randomLoopback();
    sandbox = await startTlsSandbox(folder.dir, {
      // What the public SDKs parse: response.success, response.data.
      default_merchant: { envelope: 'widget' },
      tls: { host: ip, port: 443 },
    });
  }, 60_000);
  afterAll(async () => sandbox?.close());

  describe.skipIf(!php)('PHP: Guzzle as ktwidget-api-php uses it', () => {
    const runPhp = (ini: string[], extra: string[] = []) =>
      runWithHosts(ip, 'php', [...ini, ...extra, PHP_SCRIPT, order()], { env: CREDENTIALS });

    it('creates a payment at https://fintech.test.nplus.tech/api/v1/merchant-widget/payment, the CA trusted by openssl.cafile', async () => {
      const id = nextOrderId('PHP');
      const run = await runWithHosts(
        ip,
        'php',
        ['-d', `openssl.cafile=${folder.ca.files.ca}`, PHP_SCRIPT, order(id)],
        {
          env: CREDENTIALS,
        },
      );
      const out = parsed(run);
      expect(out.status).toBe(200);
      const reply = JSON.parse(out.body) as {
        response: { success: boolean; data: { transaction_hash: string } };
      };
      expect(reply.response.success).toBe(true);
      expect(reply.response.data.transaction_hash).toMatch(/^[0-9a-f]{40}$/);
      // The sandbox got it as the SDK sent it: to that host, no Content-Type.
      const seen = await paymentOf(sandbox, id);
      expect(seen?.transaction_hash).toBe(reply.response.data.transaction_hash);
      expect(seen?.headers.host).toBe('fintech.test.nplus.tech');
      expect(seen?.headers['content-type']).toBeUndefined();
      expect(seen?.headers['user-agent']).toMatch(/^GuzzleHttp\//);
      // The bank page it is given stays on the host it asked.
      expect(out.payment_page).toBe(
        `https://fintech.test.nplus.tech/acquirer/payform?params=${reply.response.data.transaction_hash}`,
      );
    });

    it('trusts the CA by openssl.cafile in Guzzle’s stream handler too (a PHP without ext-curl)', async () => {
      // php -n loads no extension from conf.d: no curl, so Guzzle picks its StreamHandler. The
      // handshake verified the certificate, and the payment is created: PHP's http stream sends
      // the body with a Content-Type of its own, which the sandbox takes like none (spec §2).
      const out = parsed(await runPhp(['-n', '-d', `openssl.cafile=${folder.ca.files.ca}`]));
      expect(out.status).toBe(200);
      const reply = JSON.parse(out.body) as {
        error: unknown[];
        response: { success: boolean; data: { transaction_hash: string } };
      };
      expect(reply.error).toEqual([]);
      expect(reply.response.success).toBe(true);
      expect(reply.response.data.transaction_hash).toMatch(/^[0-9a-f]{40}$/);
    });

    it('fails with the certificate unverified when the CA is not trusted: nothing is relaxed', async () => {
      const run = await runPhp([]);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/cURL error 60: SSL certificate problem/);
      // The stream handler refuses too (Guzzle words it as a ConnectException).
      const streams = await runPhp(['-n']);
      expect(streams.code).toBe(3);
      expect(streams.stderr).toMatch(/^GuzzleHttp\\Exception\\ConnectException/);
    });
  });

  describe('Node: fetch with NODE_EXTRA_CA_CERTS', () => {
    it('creates a payment at https://fintech.test.nplus.tech', async () => {
      const id = nextOrderId('NODE');
      const run = await runWithHosts(ip, process.execPath, [NODE_SCRIPT, order(id)], {
        env: { ...CREDENTIALS, NODE_EXTRA_CA_CERTS: folder.ca.files.ca },
      });
      const out = parsed(run);
      expect(out.status).toBe(200);
      const hash = (JSON.parse(out.body) as { response: { data: { transaction_hash: string } } }).response
        .data.transaction_hash;
      expect((await paymentOf(sandbox, id))?.transaction_hash).toBe(hash);
    });

    it('is refused without NODE_EXTRA_CA_CERTS', async () => {
      const run = await runWithHosts(ip, process.execPath, [NODE_SCRIPT, order()], { env: CREDENTIALS });
      expect(run.code).toBe(3);
      expect(run.stderr.trim()).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    });
  });
});

// Where the names cannot be mapped (not root), the trust half still runs: Node and the CA, on localhost.
describe('Node trusts the CA through NODE_EXTRA_CA_CERTS (localhost, any user)', () => {
  let sandbox: TlsSandbox;
  beforeAll(async () => {
    sandbox = await startTlsSandbox(folder.dir);
  }, 60_000);
  afterAll(async () => sandbox?.close());

  const runNode = (env: Record<string, string>) =>
    new Promise<Finished>((resolve) => {
      const child = spawn(
        process.execPath,
        [NODE_SCRIPT, order(), `https://localhost:${sandbox.httpsPort}`],
        { env: { PATH: process.env.PATH ?? '', ...CREDENTIALS, ...env } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('creates a payment with the CA trusted, and is refused without it', async () => {
    expect(parsed(await runNode({ NODE_EXTRA_CA_CERTS: folder.ca.files.ca })).status).toBe(200);
    const refused = await runNode({});
    expect(refused.code).toBe(3);
    expect(refused.stderr.trim()).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  });
});
