import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, connect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandSucceeds, foreignRuntime } from '../../test/helpers/foreign-runtime.js';
import { ensureLocalCa, readLocalCa, serverCredentials, spkiPin, type LocalCa } from './local-ca.js';
import { certificateNames, DEFAULT_TLS_NAMES, defaultTlsDir, KTPAY_TEST_HOSTS } from './tls-dir.js';

const mode = (path: string) => statSync(path).mode & 0o777;
const openssl = foreignRuntime(
  'the openssl command (apt-get install openssl)',
  'local CA checked by openssl',
  commandSucceeds('openssl', ['version']),
);

/**
 * A real TLS handshake against a server holding the folder's key and chain, verified the way
 * every client does it: the CA as the only trust anchor, `servername` as the name to check.
 */
async function handshake(ca: LocalCa, servername: string): Promise<{ ok: boolean; error?: string }> {
  const server = createTlsServer(serverCredentials(ca.files), (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve) => {
      const socket: TLSSocket = connect({
        host: '127.0.0.1',
        port,
        servername: /^[\d.]+$/.test(servername) ? undefined : servername,
        ca: readFileSync(ca.files.ca),
        // Node's own check, against the name the client meant (an IP is checked as an IP).
        checkServerIdentity: (_host, cert) => checkServerIdentity(servername, cert),
      });
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve({ ok: true });
      });
      socket.once('error', (err) =>
        resolve({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }),
      );
    });
  } finally {
    server.close();
  }
}

describe('ensureLocalCa', () => {
  let dir = '';
  let first: LocalCa;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ktpay-ca-'));
    first = await ensureLocalCa({ dir, names: ['Shop.Test', '10.1.2.3'] });
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a CA and a server certificate, private keys 0600, certificates 0644', () => {
    expect(first.created).toEqual({ ca: true, server: true });
    expect(mode(first.files.caKey)).toBe(0o600);
    expect(mode(first.files.key)).toBe(0o600);
    expect(mode(first.files.ca)).toBe(0o644);
    expect(mode(first.files.cert)).toBe(0o644);
    const ca = new X509Certificate(readFileSync(first.files.ca));
    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain('ktpay-mock local CA');
  });

  it('encodes names as UTF8String: PrintableString has no @, and Chromium refuses a certificate that breaks it', () => {
    for (const path of [first.files.ca, first.files.cert]) {
      const cert = new X509Certificate(readFileSync(path));
      const cn = /CN=([^\n]+)/.exec(cert.subject)![1]!;
      expect(cert.raw.includes(Buffer.concat([Buffer.from([0x0c, cn.length]), Buffer.from(cn)])), cn).toBe(
        true,
      );
    }
  });

  it('covers the ktpay test hosts, localhost, 127.0.0.1 and the extra names, signed by the CA', () => {
    expect(first.names).toEqual([...DEFAULT_TLS_NAMES, 'shop.test', '10.1.2.3']);
    const [leafPem] = readFileSync(first.files.cert, 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/);
    const leaf = new X509Certificate(leafPem!);
    const ca = new X509Certificate(readFileSync(first.files.ca));
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    expect(leaf.subjectAltName).toContain('DNS:fintech.test.nplus.tech');
    expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1');
    // Within the 398-day ceiling clients put on server certificates.
    expect(Date.parse(leaf.validTo) - Date.now()).toBeLessThan(398 * 86_400_000);
  });

  it('passes a real TLS handshake for every name with the CA as the only trust anchor', async () => {
    for (const name of [...KTPAY_TEST_HOSTS, 'localhost', '127.0.0.1', 'shop.test', '10.1.2.3']) {
      expect(await handshake(first, name), name).toEqual({ ok: true });
    }
    // And the check does bite: a name the certificate lacks is refused.
    expect((await handshake(first, 'fintech.nplus.tech')).error).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it.skipIf(!openssl)('verifies with openssl too (purpose sslserver)', () => {
    const r = spawnSync(
      'openssl',
      ['verify', '-CAfile', first.files.ca, '-purpose', 'sslserver', first.files.cert],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stdout.trim()).toBe(`${first.files.cert}: OK`);
  });

  it.skipIf(!openssl)("gives the CA's SPKI pin as openssl computes it", () => {
    const ca = new X509Certificate(readFileSync(first.files.ca));
    expect(first.caSpkiPin).toBe(spkiPin(ca));
    const pub = spawnSync('openssl', ['x509', '-in', first.files.ca, '-pubkey', '-noout']);
    const der = spawnSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub.stdout });
    const digest = spawnSync('openssl', ['dgst', '-sha256', '-binary'], { input: der.stdout });
    expect(first.caSpkiPin).toBe(digest.stdout.toString('base64'));
  });

  it('keeps both when nothing changed, and re-issues only the server certificate for a new name', async () => {
    const again = await ensureLocalCa({ dir, names: ['shop.test'] });
    expect(again.created).toEqual({ ca: false, server: false });
    expect(again.caFingerprint256).toBe(first.caFingerprint256);

    const widened = await ensureLocalCa({ dir, names: ['other.test'] });
    expect(widened.created).toEqual({ ca: false, server: true });
    expect(widened.caFingerprint256).toBe(first.caFingerprint256);
    expect(widened.names).toContain('other.test');
    expect(await handshake(widened, 'other.test')).toEqual({ ok: true });
  }, 60_000);

  it('puts a widened key file back to 0600, and readLocalCa reads the folder without changing it', () => {
    chmodSync(first.files.caKey, 0o644);
    const read = readLocalCa(dir);
    expect(read?.caFingerprint256).toBe(first.caFingerprint256);
    expect(read?.created).toEqual({ ca: false, server: false });
    expect(mode(first.files.caKey)).toBe(0o600);
    expect(readLocalCa(join(dir, 'missing'))).toBeUndefined();
  });

  it('writes ca-bundle.pem: the CA first, then the public roots Node ships', () => {
    const bundle = readFileSync(first.files.bundle, 'utf8');
    expect(bundle.startsWith(readFileSync(first.files.ca, 'utf8').trimEnd())).toBe(true);
    expect(bundle.match(/BEGIN CERTIFICATE/g)!.length).toBeGreaterThan(100);
  });

  it('makes a new CA when the old one is unusable, or with force', async () => {
    writeFileSync(first.files.ca, 'not a certificate');
    const replaced = await ensureLocalCa({ dir });
    expect(replaced.created).toEqual({ ca: true, server: true });
    expect(replaced.caFingerprint256).not.toBe(first.caFingerprint256);
    const forced = await ensureLocalCa({ dir, force: true });
    expect(forced.created.ca).toBe(true);
    expect(forced.caFingerprint256).not.toBe(replaced.caFingerprint256);
    expect(await handshake(forced, 'widget.test.nplus.tech')).toEqual({ ok: true });
  }, 60_000);

  it('issues again a server certificate that ends within 30 days', async () => {
    const now = Date.now();
    const soon = await ensureLocalCa({ dir, now: () => now + 380 * 86_400_000 });
    expect(soon.created).toEqual({ ca: false, server: true });
  }, 60_000);

  it('says which folder it cannot create', async () => {
    // A path under a regular file cannot be a folder, for root as for anyone.
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    await expect(ensureLocalCa({ dir: join(blocker, 'tls') })).rejects.toThrow(
      `cannot create the TLS folder ${join(blocker, 'tls')}`,
    );
  });
});

describe('certificate names and the TLS folder', () => {
  it('normalizes names, refuses what is neither a host name nor an IP', () => {
    expect(certificateNames(['SHOP.test', 'shop.test', '[::1]', '*.shop.test'])).toEqual([
      ...DEFAULT_TLS_NAMES,
      'shop.test',
      '::1',
      '*.shop.test',
    ]);
    for (const bad of ['shop test', 'https://shop.test', 'a..b', '-x.test', 'x'.repeat(64) + '.test']) {
      expect(() => certificateNames([bad]), bad).toThrow(/not a host name or an IP address/);
    }
  });

  it('defaults to the XDG data folder, and to LOCALAPPDATA on Windows', () => {
    expect(defaultTlsDir({ XDG_DATA_HOME: '/data' }, 'linux')).toBe('/data/ktpay-mock/tls');
    expect(defaultTlsDir({}, 'linux', () => '/home/u')).toBe('/home/u/.local/share/ktpay-mock/tls');
    // A relative XDG_DATA_HOME is invalid by the spec and ignored.
    expect(defaultTlsDir({ XDG_DATA_HOME: 'rel' }, 'darwin', () => '/Users/u')).toBe(
      '/Users/u/.local/share/ktpay-mock/tls',
    );
    expect(defaultTlsDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32')).toContain('ktpay-mock');
  });
});
