/**
 * `ktpay-mock tls init`, `tls env` and `serve --tls` as a user runs them, and the recipes `tls env`
 * prints, tried with the clients they are for (curl, Python requests, Java's keytool truststore).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandSucceeds, foreignRuntime } from '../helpers/foreign-runtime.js';
import { startTlsSandbox, type TlsSandbox } from '../drop-in/tls-sandbox.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'mock-server/cli.ts'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs a client without blocking: the sandbox it talks to lives in this process's event loop, which
 * a spawnSync would stall.
 */
function runClient(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
) {
  return new Promise<Run>((resolve) => {
    const child = spawn(command, args, {
      cwd: opts.cwd ?? ROOT,
      env: { PATH: process.env.PATH ?? '', ...opts.env },
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir = '';
let init: Run;
// Each CLI run starts tsx: the outputs the tests share are taken once.
const once = <T>(make: () => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};
const envText = once(() => cli(['tls', 'env', '--dir', dir]));
const envJson = once(
  () =>
    JSON.parse(cli(['tls', 'env', '--dir', dir, '--json']).stdout) as {
      ca: string;
      spki_pin: string;
      names: string[];
      chromium_args: string[];
      env: Record<string, string>;
    },
);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ktpay-tls-cli-'));
  init = cli(['tls', 'init', '--dir', dir, '--name', 'shop.test'], { TLS_NAMES: 'ci.test' });
}, 90_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ktpay-mock tls init', () => {
  it('creates the CA (key 0600) and a certificate for the ktpay hosts, localhost, 127.0.0.1, TLS_NAMES and --name', () => {
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^created CA {11}.*ca\.pem {2}\(key .*ca-key\.pem, mode 0600\)$/m);
    expect(init.stdout).toContain(
      'names        fintech.test.nplus.tech, widget.test.nplus.tech, card.test.nplus.tech, localhost, 127.0.0.1, ci.test, shop.test',
    );
    expect(statSync(join(dir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'server-key.pem')).mode & 0o777).toBe(0o600);
  });

  it('keeps what is there on a second run', () => {
    const again = cli(['tls', 'init', '--dir', dir, '--name', 'shop.test'], { TLS_NAMES: 'ci.test' });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^kept {4}CA/m);
    expect(again.stdout).toMatch(/^kept {4}certificate/m);
  }, 60_000);

  it('refuses a name that is not one, with exit code 2', () => {
    const bad = cli(['tls', 'init', '--dir', dir, '--name', 'not a host']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"not a host" is not a host name or an IP address');
  });
});

describe('ktpay-mock tls env', () => {
  it('prints the trust and mapping recipe for every client the issue names, with this folder’s paths', () => {
    const env = envText();
    expect(env.code, env.stderr).toBe(0);
    const out = env.stdout;
    for (const needle of [
      `export NODE_EXTRA_CA_CERTS=${dir}/ca.pem`,
      `export CURL_CA_BUNDLE=${dir}/ca-bundle.pem`,
      `export REQUESTS_CA_BUNDLE=${dir}/ca-bundle.pem`,
      `openssl.cafile=${dir}/ca-bundle.pem`,
      `curl.cainfo=${dir}/ca-bundle.pem`,
      'keytool -importcert',
      `--host-resolver-rules=MAP fintech.test.nplus.tech 127.0.0.1:443, MAP widget.test.nplus.tech 127.0.0.1:443, MAP card.test.nplus.tech 127.0.0.1:443`,
      '--ignore-certificate-errors-spki-list=',
      'certutil -d sql:$HOME/.pki/nssdb',
      '\n127.0.0.1 fintech.test.nplus.tech widget.test.nplus.tech card.test.nplus.tech\n',
      '--add-host=fintech.test.nplus.tech:host-gateway',
    ]) {
      expect(out, needle).toContain(needle);
    }
    // Port 443 is what the SDKs call: another port gets a note on how to bridge it.
    const other = cli(['tls', 'env', '--dir', dir, '--ip', '10.0.0.7', '--port', '8443']);
    expect(other.stdout).toContain('MAP fintech.test.nplus.tech 10.0.0.7:8443');
    expect(other.stdout).toContain('The SDKs call port 443');
    expect(out).not.toContain('The SDKs call port 443');
  });

  it('gives the same facts as JSON, the SPKI pin matching the CA', () => {
    const json = envJson();
    expect(json.ca).toBe(join(dir, 'ca.pem'));
    expect(json.names).toContain('shop.test');
    expect(json.chromium_args[1]).toBe(`--ignore-certificate-errors-spki-list=${json.spki_pin}`);
    expect(init.stdout).toContain(`SPKI pin     ${json.spki_pin}`);
  });

  it('says to run tls init first when the folder holds no CA', () => {
    const empty = cli(['tls', 'env', '--dir', join(dir, 'nothing-here')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('run `ktpay-mock tls init` first');
  });
});

describe('the recipes of tls env, with the clients they are for', () => {
  let sandbox: TlsSandbox;
  let origin = '';
  const settings = envJson;

  beforeAll(async () => {
    sandbox = await startTlsSandbox(dir, { tls: { names: ['shop.test', 'ci.test'] } });
    origin = `https://localhost:${sandbox.httpsPort}`;
  }, 60_000);
  afterAll(async () => sandbox?.close());

  it.skipIf(!commandSucceeds('curl', ['--version']))('curl with CURL_CA_BUNDLE', async () => {
    const { env } = settings();
    const health = ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `${origin}/__admin/health`];
    const ok = await runClient('curl', health, { env: { CURL_CA_BUNDLE: env.CURL_CA_BUNDLE! } });
    expect(ok.stdout, ok.stderr).toBe('200');
    // The bundle still holds the public roots, so the variable breaks nothing else.
    const certificates = readFileSync(env.CURL_CA_BUNDLE!, 'utf8').match(/BEGIN CERTIFICATE/g)!;
    expect(certificates.length).toBeGreaterThan(100);
    const refused = await runClient('curl', health, { env: { CURL_CA_BUNDLE: '/dev/null' } });
    expect(refused.code).toBe(77); // CURLE_SSL_CACERT_BADFILE: with no CA, nothing is trusted
  });

  const python = foreignRuntime(
    'Debian Python 3 with requests (/usr/bin/python3; apt-get install python3-requests)',
    'tls env: Python requests with REQUESTS_CA_BUNDLE',
    commandSucceeds('/usr/bin/python3', ['-c', 'import requests']),
  );
  it.skipIf(!python)('Python requests with REQUESTS_CA_BUNDLE', async () => {
    const { env } = settings();
    const get = `import requests; print(requests.get("${origin}/__admin/health", timeout=30).json()["status"])`;
    const r = await runClient('/usr/bin/python3', ['-c', get], {
      env: { REQUESTS_CA_BUNDLE: env.REQUESTS_CA_BUNDLE! },
    });
    expect(r.stdout.trim(), r.stderr).toBe('ok');
  });

  const java = foreignRuntime(
    'Java 11+ (java and keytool; apt-get install default-jdk-headless)',
    'tls env: Java with a keytool truststore',
    commandSucceeds('java', ['-version']) && commandSucceeds('keytool', ['-help']),
  );
  it.skipIf(!java)(
    'Java with the truststore the printed keytool line makes',
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'ktpay-java-'));
      try {
        const recipe = envText().stdout;
        const line = /^#\s+keytool (-importcert -noprompt -storetype PKCS12 .*)$/m.exec(recipe)![1]!;
        const imported = await runClient('keytool', line.split(' '), { cwd: work });
        expect(imported.code, imported.stderr + imported.stdout).toBe(0);
        writeFileSync(
          join(work, 'Health.java'),
          `public class Health { public static void main(String[] a) throws Exception {
  var c = (javax.net.ssl.HttpsURLConnection) new java.net.URL(a[0]).openConnection();
  System.out.println(c.getResponseCode()); } }`,
        );
        const javaFlags =
          /^#\s+java (-Djavax\.net\.ssl\.trustStore=\S+ -Djavax\.net\.ssl\.trustStorePassword=\S+)/m.exec(
            recipe,
          )![1]!;
        const run = await runClient(
          'java',
          [...javaFlags.split(' '), 'Health.java', `${origin}/__admin/health`],
          {
            cwd: work,
          },
        );
        expect(run.stdout.trim(), run.stderr).toBe('200');
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    90_000,
  );
});

describe('ktpay-mock serve --tls', () => {
  /** Starts the CLI, waits for its banner, returns it and the module URLs it loaded; then stops it. */
  async function serve(args: string[], env: Record<string, string>) {
    const log = join(dir, `modules-${args.join('_').replace(/\W/g, '')}.log`);
    const child = spawn(
      process.execPath,
      [
        ...CLI.slice(0, 2),
        '--import',
        './test/cli/module-log.mjs',
        'mock-server/cli.ts',
        'serve',
        '--port',
        '0',
        ...args,
      ],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? tmpdir(),
          MODULE_LOG: log,
          LOG_LEVEL: 'warn',
          ...env,
        },
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (!stdout.includes('Built-in test merchant') && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const code = await exited;
    const modules = existsSync(log) ? readFileSync(log, 'utf8') : '';
    return { stdout, stderr, modules, code };
  }

  it('serves HTTPS with the folder’s certificate and says where the CA is', async () => {
    const run = await serve(['--tls', '0'], { TLS_DIR: dir });
    expect(run.stdout, run.stderr).toMatch(
      /HTTPS {8}https:\/\/127\.0\.0\.1:\d+ {3}\(certificate for fintech\.test\.nplus\.tech/,
    );
    expect(run.stdout).toContain(`Local CA     ${dir}/ca.pem`);
    expect(run.modules).toContain('/mock-server/tls/https-listener.ts');
    // The folder already held a certificate for these names: nothing was issued, node-forge never loaded.
    expect(run.modules).not.toContain('node-forge');
  }, 90_000);

  it('without TLS loads none of the TLS code', async () => {
    const run = await serve([], {});
    expect(run.stdout).toContain('ktpay-mock sandbox listening on');
    expect(run.stdout).not.toContain('HTTPS');
    expect(run.modules).toContain('/mock-server/server.ts');
    for (const name of [
      'node-forge',
      '/tls/local-ca.ts',
      '/tls/https-listener.ts',
      '/tls/trust-instructions.ts',
    ])
      expect(run.modules, name).not.toContain(name);
  }, 90_000);

  it('says what to do when the HTTPS port cannot be had, with exit code 2', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const run = await serve(['--tls', String((taken.address() as AddressInfo).port)], { TLS_DIR: dir });
      expect(run.stderr).toContain('is already in use: set TLS_PORT to another port');
      expect(run.code).toBe(2);
    } finally {
      taken.close();
    }
  }, 90_000);
});
