import {
  createHash,
  createPrivateKey,
  generateKeyPair,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { rootCertificates } from 'node:tls';
import { promisify } from 'node:util';
import type * as Forge from 'node-forge';
import { certificateNames, tlsFiles, type TlsFiles } from './tls-dir.js';

const DAY_MS = 86_400_000;
/** The CA outlives many server certificates: clients trust it once. */
const CA_DAYS = 3650;
/** Within the 398-day ceiling browsers and Apple platforms put on server certificates. */
const SERVER_DAYS = 397;
/** A server certificate this close to its end is issued again (the CA stays). */
const RENEW_BEFORE_DAYS = 30;
const PRIVATE = 0o600;
const PUBLIC = 0o644;

/** What a TLS folder holds, as clients need to know it. */
export interface LocalCa {
  files: TlsFiles;
  /** Names the server certificate covers (DNS names and IP addresses). */
  names: string[];
  caSubject: string;
  /** SHA-256 fingerprint of the CA certificate (colon-separated hex, as `openssl x509 -fingerprint`). */
  caFingerprint256: string;
  /** base64 SHA-256 of the CA's SubjectPublicKeyInfo: Chromium's `--ignore-certificate-errors-spki-list`. */
  caSpkiPin: string;
  caValidTo: Date;
  serverValidTo: Date;
  /** What this call made: a new CA (clients must trust it again), a new server certificate. */
  created: { ca: boolean; server: boolean };
}

interface LoadedCa {
  cert: X509Certificate;
  key: KeyObject;
  pem: string;
  keyPem: string;
}

/** A TLS folder that cannot be used as it is (unreadable, or a CA node-forge cannot sign with). */
export class TlsSetupError extends Error {
  override name = 'TlsSetupError';
}

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo (an HPKP-style pin). */
export function spkiPin(cert: X509Certificate): string {
  return createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
}

/** The DNS names and IP addresses of a certificate's subjectAltName, lower case. */
export function subjectAltNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry.trim())?.[1]?.toLowerCase())
    .filter((v): v is string => Boolean(v));
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TlsSetupError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Writes through a temporary file and a rename, so a reader never sees half a key. */
function writeFileAtomically(path: string, text: string, mode: number) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** A private key file keeps mode 0600 even if something widened it. */
function keepPrivate(path: string) {
  try {
    chmodSync(path, PRIVATE);
  } catch {
    // Not ours to change (a read-only mount): reading it is all we need.
  }
}

function loadCa(files: TlsFiles, now: number): LoadedCa | undefined {
  const pem = readText(files.ca);
  const keyPem = readText(files.caKey);
  if (!pem || !keyPem) return undefined;
  try {
    const cert = new X509Certificate(pem);
    const key = createPrivateKey(keyPem);
    if (!cert.ca || !cert.checkPrivateKey(key)) return undefined;
    if (Date.parse(cert.validTo) <= now + DAY_MS) return undefined;
    keepPrivate(files.caKey);
    return { cert, key, pem, keyPem };
  } catch {
    return undefined;
  }
}

/** The server certificate, if it is signed by `ca`, holds its key, covers `names` and is not near its end. */
function loadServer(files: TlsFiles, ca: LoadedCa, names: readonly string[], now: number) {
  const chain = readText(files.cert);
  const keyPem = readText(files.key);
  if (!chain || !keyPem) return undefined;
  try {
    const cert = new X509Certificate(chain);
    if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) return undefined;
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    if (Date.parse(cert.validFrom) > now) return undefined;
    if (Date.parse(cert.validTo) <= now + RENEW_BEFORE_DAYS * DAY_MS) return undefined;
    const covered = new Set(subjectAltNames(cert));
    if (!names.every((n) => covered.has(n))) return undefined;
    keepPrivate(files.key);
    return cert;
  } catch {
    return undefined;
  }
}

/** node-forge is CommonJS: the bundled CLI may expose it only as `default`. Loaded only to issue. */
async function loadForge(): Promise<typeof Forge> {
  const mod = (await import('node-forge')) as unknown as typeof Forge & { default?: typeof Forge };
  return mod.default ?? mod;
}

async function newRsaKey(forge: typeof Forge) {
  // Node's own generator (native, off the main thread); node-forge only builds and signs.
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const forgeKey = forge.pki.privateKeyFromPem(keyPem) as Forge.pki.rsa.PrivateKey;
  return { keyPem, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

/** A positive 128-bit serial number, as hex. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function validity(cert: Forge.pki.Certificate, now: number, days: number) {
  // An hour back, so a client whose clock is slightly behind still accepts it.
  cert.validity.notBefore = new Date(now - 3_600_000);
  cert.validity.notAfter = new Date(now + days * DAY_MS);
}

/**
 * Name attributes as UTF8String: node-forge's default, PrintableString, has no `@` or `_`, and
 * Chromium refuses a certificate that breaks that rule (ERR_SSL_SERVER_CERT_BAD_FORMAT).
 */
function attributes(forge: typeof Forge, values: Record<string, string>): Forge.pki.CertificateField[] {
  // @types/node-forge declares valueTagClass as an asn1 Class; node-forge reads it as the value's tag type.
  const utf8 = forge.asn1.Type.UTF8 as unknown as Forge.asn1.Class;
  return Object.entries(values).map(([name, value]) => ({ name, value, valueTagClass: utf8 }));
}

async function createCa(forge: typeof Forge, now: number): Promise<{ pem: string; keyPem: string }> {
  const { pki } = forge;
  const key = await newRsaKey(forge);
  const cert = pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, CA_DAYS);
  let who = 'local';
  try {
    who = `${userInfo().username}@${hostname()}`;
  } catch {
    who = hostname();
  }
  const subject = attributes(forge, {
    commonName: `ktpay-mock local CA (${who})`,
    organizationName: 'ktpay-mock development CA',
  });
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.privateKey, forge.md.sha256.create());
  return { pem: pki.certificateToPem(cert), keyPem: key.keyPem };
}

async function issueServer(
  forge: typeof Forge,
  ca: LoadedCa,
  names: readonly string[],
  now: number,
  dir: string,
): Promise<{ chain: string; keyPem: string }> {
  const { pki } = forge;
  let caCert: Forge.pki.Certificate;
  let caKey: Forge.pki.rsa.PrivateKey;
  try {
    caCert = pki.certificateFromPem(ca.pem);
    caKey = pki.privateKeyFromPem(ca.keyPem) as Forge.pki.rsa.PrivateKey;
  } catch (err) {
    throw new TlsSetupError(
      `the CA in ${dir} cannot sign with node-forge (${(err as Error).message}); only RSA CAs can: run \`ktpay-mock tls init --force\` for a new one`,
    );
  }
  const key = await newRsaKey(forge);
  const cert = pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, SERVER_DAYS);
  cert.setSubject(attributes(forge, { commonName: names[0]!, organizationName: 'ktpay-mock sandbox' }));
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      // 2 = dNSName, 7 = iPAddress (RFC 5280 GeneralName).
      altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  // The listener presents the chain, so a client that trusts only the CA builds it without fetching.
  return { chain: `${pki.certificateToPem(cert)}${ca.pem.trimEnd()}\n`, keyPem: key.keyPem };
}

/**
 * Makes sure `dir` holds a local CA and a server certificate for the ktpay test hosts,
 * `localhost`, `127.0.0.1` and `names`, and returns what clients need to trust them. An existing
 * CA is kept (clients already trust it); the server certificate is issued again when it is
 * missing, signed by another CA, lacks a name, or ends within 30 days. `force` makes a new CA.
 * node-forge is loaded only when something has to be issued.
 *
 * @example
 * const ca = await ensureLocalCa({ dir: tlsDirFrom(process.env), names: ['shop.test'] });
 * console.log(ca.files.ca, ca.caSpkiPin);
 */
export async function ensureLocalCa(opts: {
  dir: string;
  names?: readonly string[];
  force?: boolean;
  now?: () => number;
}): Promise<LocalCa> {
  const files = tlsFiles(opts.dir);
  const names = certificateNames(opts.names);
  const now = (opts.now ?? Date.now)();
  try {
    mkdirSync(files.dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new TlsSetupError(`cannot create the TLS folder ${files.dir}: ${(err as Error).message}`);
  }

  let forge: typeof Forge | undefined;
  const created = { ca: false, server: false };
  let ca = opts.force ? undefined : loadCa(files, now);
  try {
    if (!ca) {
      forge = await loadForge();
      const made = await createCa(forge, now);
      // The key first: a CA certificate without its key would be useless to the next run.
      writeFileAtomically(files.caKey, made.keyPem, PRIVATE);
      writeFileAtomically(files.ca, made.pem, PUBLIC);
      ca = loadCa(files, now);
      if (!ca) throw new TlsSetupError(`the CA just written to ${files.dir} does not read back`);
      created.ca = true;
    }
    let server = loadServer(files, ca, names, now);
    if (!server) {
      forge ??= await loadForge();
      const issued = await issueServer(forge, ca, names, now, files.dir);
      writeFileAtomically(files.key, issued.keyPem, PRIVATE);
      writeFileAtomically(files.cert, issued.chain, PUBLIC);
      server = loadServer(files, ca, names, now);
      if (!server)
        throw new TlsSetupError(`the server certificate just written to ${files.dir} does not verify`);
      created.server = true;
    }
    if (created.ca || !readText(files.bundle)?.startsWith(ca.pem.trimEnd())) {
      writeFileAtomically(files.bundle, `${ca.pem.trimEnd()}\n${rootCertificates.join('\n')}\n`, PUBLIC);
    }
    return describe(files, ca.cert, server, created);
  } catch (err) {
    if (err instanceof TlsSetupError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new TlsSetupError(
        `cannot write the CA to ${files.dir} (${code}): make the folder writable for this user (uid ${process.getuid?.() ?? '?'}), or set TLS_DIR to one that is`,
      );
    }
    throw err;
  }
}

function describe(
  files: TlsFiles,
  ca: X509Certificate,
  server: X509Certificate,
  created: LocalCa['created'],
): LocalCa {
  return {
    files,
    names: subjectAltNames(server),
    caSubject: ca.subject.replace(/\n/g, ', '),
    caFingerprint256: ca.fingerprint256,
    caSpkiPin: spkiPin(ca),
    caValidTo: new Date(ca.validTo),
    serverValidTo: new Date(server.validTo),
    created,
  };
}

/**
 * Reads a TLS folder without changing it (for `tls env`): undefined when it holds no usable CA
 * and server certificate yet.
 */
export function readLocalCa(dir: string, now: number = Date.now()): LocalCa | undefined {
  const files = tlsFiles(dir);
  if (!existsSync(files.ca)) return undefined;
  const ca = loadCa(files, now);
  if (!ca) return undefined;
  const chain = readText(files.cert);
  if (!chain) return undefined;
  try {
    const server = new X509Certificate(chain);
    if (!server.checkIssued(ca.cert)) return undefined;
    return describe(files, ca.cert, server, { ca: false, server: false });
  } catch {
    return undefined;
  }
}

/** The key and chain an HTTPS listener needs, read from a folder {@link ensureLocalCa} filled. */
export function serverCredentials(files: TlsFiles): { key: string; cert: string } {
  const key = readText(files.key);
  const cert = readText(files.cert);
  if (!key || !cert)
    throw new TlsSetupError(`${files.dir} holds no server certificate: run ktpay-mock tls init`);
  return { key, cert };
}
