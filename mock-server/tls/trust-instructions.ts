import type { LocalCa } from './local-ca.js';
import { KTPAY_TEST_HOSTS } from './tls-dir.js';

export interface TrustTarget {
  /** The address the ktpay test hosts should resolve to (default 127.0.0.1). */
  ip: string;
  /** The port the sandbox's HTTPS listener is on; the public clients always call 443. */
  port: number;
}

/** The trust and name-mapping settings `ktpay-mock tls env --json` prints (same facts as the text). */
export function trustSettings(ca: LocalCa, target: TrustTarget) {
  const hosts = [...KTPAY_TEST_HOSTS];
  return {
    dir: ca.files.dir,
    ca: ca.files.ca,
    ca_bundle: ca.files.bundle,
    names: ca.names,
    ca_subject: ca.caSubject,
    ca_sha256: ca.caFingerprint256,
    spki_pin: ca.caSpkiPin,
    hosts_line: `${target.ip} ${hosts.join(' ')}`,
    docker_add_host: hosts.map((h) => `--add-host=${h}:host-gateway`),
    chromium_args: [
      `--host-resolver-rules=${hosts.map((h) => `MAP ${h} ${target.ip}:${target.port}`).join(', ')}`,
      `--ignore-certificate-errors-spki-list=${ca.caSpkiPin}`,
    ],
    env: {
      NODE_EXTRA_CA_CERTS: ca.files.ca,
      CURL_CA_BUNDLE: ca.files.bundle,
      REQUESTS_CA_BUNDLE: ca.files.bundle,
      SSL_CERT_FILE: ca.files.bundle,
    },
    php_ini: { 'openssl.cafile': ca.files.bundle, 'curl.cainfo': ca.files.bundle },
  };
}

const q = (path: string) => (/^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`);

/**
 * What `ktpay-mock tls env` prints: how to make the public clients (which hardcode
 * `https://fintech.test.nplus.tech` and `https://widget.test.nplus.tech`) reach this sandbox
 * unmodified — map the names, then trust the local CA — for Node, curl, PHP, Python, Java,
 * Chromium, `/etc/hosts` and `docker run`. Paths are this machine's; lines starting with `export`
 * can be pasted into a POSIX shell.
 *
 * @example
 * process.stdout.write(trustInstructions(await ensureLocalCa({ dir }), { ip: '127.0.0.1', port: 443 }));
 */
export function trustInstructions(ca: LocalCa, target: TrustTarget): string {
  const s = trustSettings(ca, target);
  const portNote =
    target.port === 443
      ? []
      : [
          `# The SDKs call port 443, and this sandbox's HTTPS port is ${target.port}. Listen on 443 instead`,
          '# (TLS_PORT=443; on Linux as root or after `sudo sysctl -w net.ipv4.ip_unprivileged_port_start=443`),',
          `# or publish it: docker run -p 443:${target.port} …`,
        ];
  return `${[
    `# ktpay-mock local CA in ${s.dir}`,
    `#   certificate  ${s.ca}`,
    `#   subject      ${s.ca_subject}`,
    `#   SHA-256      ${s.ca_sha256}`,
    `#   SPKI pin     ${s.spki_pin}`,
    `#   server names ${s.names.join(', ')}`,
    '',
    '# 1. Map the ktpay test hosts to the sandbox.',
    '# /etc/hosts (Windows: C:\\Windows\\System32\\drivers\\etc\\hosts):',
    s.hosts_line,
    ...portNote,
    '# A shop in a container, the sandbox on its host (the sandbox listens on 0.0.0.0: TLS_HOST=0.0.0.0):',
    `#   docker run ${s.docker_add_host.join(' ')} \\`,
    `#     -v ${q(s.ca)}:/etc/ktpay-mock/ca.pem:ro -e NODE_EXTRA_CA_CERTS=/etc/ktpay-mock/ca.pem … your-shop-image`,
    '# With docker compose, give the sandbox service these network aliases instead (docker/compose.drop-in.yaml).',
    '',
    '# 2. Trust the local CA.',
    '# Node (adds it to the roots Node ships):',
    `export NODE_EXTRA_CA_CERTS=${q(s.env.NODE_EXTRA_CA_CERTS)}`,
    '# curl and Python requests replace their trust store with the file they are given:',
    '# ca-bundle.pem is this CA followed by the public roots Node ships, so other sites still work.',
    `export CURL_CA_BUNDLE=${q(s.env.CURL_CA_BUNDLE)}`,
    `export REQUESTS_CA_BUNDLE=${q(s.env.REQUESTS_CA_BUNDLE)}`,
    '# OpenSSL-based tools (Ruby, Python ssl, git):',
    `export SSL_CERT_FILE=${q(s.env.SSL_CERT_FILE)}`,
    '# PHP (php.ini, or -d on the command line): openssl.cafile serves PHP streams and ext-curl',
    '# (Guzzle, the ktpay SDK); curl.cainfo is ext-curl only.',
    `#   openssl.cafile=${s.php_ini['openssl.cafile']}`,
    `#   curl.cainfo=${s.php_ini['curl.cainfo']}`,
    '# Java: into the JDK truststore (Java 9+; may need sudo) …',
    `#   keytool -importcert -noprompt -cacerts -storepass changeit -alias ktpay-mock -file ${q(s.ca)}`,
    '# … or a truststore of its own (it then holds only this CA):',
    `#   keytool -importcert -noprompt -storetype PKCS12 -keystore ktpay-truststore.p12 -storepass changeit -alias ktpay-mock -file ${q(s.ca)}`,
    '#   java -Djavax.net.ssl.trustStore=ktpay-truststore.p12 -Djavax.net.ssl.trustStorePassword=changeit …',
    '# Chromium in tests: map the names (and the port), and accept certificates under this CA by its key',
    '# (the waiver covers only chains holding that key; every other site is checked as usual):',
    `#   chromium ${s.chromium_args.map((a) => `'${a}'`).join(' ')}`,
    '# Chrome or Chromium on a Linux desktop (NSS database; libnss3-tools):',
    `#   certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n ktpay-mock -i ${q(s.ca)}`,
    '# The whole system (Debian/Ubuntu; macOS: security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain):',
    `#   sudo cp ${q(s.ca)} /usr/local/share/ca-certificates/ktpay-mock.crt && sudo update-ca-certificates`,
    '',
    `# Trust this CA on test machines only: whoever holds ${q(ca.files.caKey)} can sign for any name.`,
  ].join('\n')}\n`;
}
