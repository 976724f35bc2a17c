#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig } from './config/load-config.js';
import {
  cryptoReady,
  decodeOriginalBase64,
  generateKeypair,
  openSealed,
  publicKeyOf,
  sealToBase64,
} from './crypto/sealed-box.js';
import { KtpayError } from './envelope/ktpay-error.js';
import { readSealedBody } from './envelope/sealed-body-text.js';
import { DEFAULT_MERCHANT } from './merchants/default-merchant.js';
import { buildOpenApi } from './openapi/build-openapi.js';
import { banner, installGracefulShutdown, startServer, TlsListenError } from './server.js';
import { DEFAULT_TLS_PORT, tlsDirFrom } from './tls/tls-dir.js';
import type { ReporterName } from '../scenarios/runner/check-config.js';

async function readInput(file: string | undefined): Promise<string> {
  if (file && file !== '-') return readFileSync(file, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function fail(message: string): never {
  process.stderr.write(`ktpay-mock: ${message}\n`);
  process.exit(2);
}

/** `--reporter`, shared by `run` and `probe` (the same reporters). */
const reporterOption = () =>
  new Option('--reporter <name>', 'pretty, junit, json or html; repeatable (default pretty)').argParser(
    (v: string, acc: string[] | undefined) => {
      if (!['pretty', 'junit', 'json', 'html'].includes(v))
        throw new InvalidArgumentError('use pretty, junit, json or html');
      return [...(acc ?? []), v];
    },
  );

const repeatable = (v: string, acc: string[]) => [...acc, v];

/** Exit once piped output has drained (an embedded sandbox may still hold timers). */
const exitAfterOutput = (code: number) =>
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));

const commandIo = () => ({
  cwd: process.cwd(),
  stdout: (t: string) => process.stdout.write(t),
  stderr: (t: string) => process.stderr.write(t),
  live: Boolean(process.stdout.isTTY) && !process.env.CI,
  color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
});

const program = new Command('ktpay-mock')
  .description('Sandbox and contract-testing harness for the ktpay merchant widget API')
  .showHelpAfterError();

program
  .command('serve', { isDefault: true })
  .description('run the sandbox (default); configured by environment, a config file and these flags')
  .option('-p, --port <port>', 'port to listen on (env PORT)', (v) => Number(v))
  .option('--host <host>', 'interface to bind (env HOST)')
  .option('-c, --config <file>', 'YAML or JSON config file (env KTPAY_MOCK_CONFIG)')
  .option('--store <store>', 'memory, sqlite:<path> or postgres://… (env STORE)')
  .option(
    '--tls [port]',
    `also serve HTTPS with the local CA's certificate (env TLS_PORT; ${DEFAULT_TLS_PORT} when no port is given)`,
  )
  .action(
    async (flags: { port?: number; host?: string; config?: string; store?: string; tls?: string | true }) => {
      let config;
      try {
        const tlsPort = typeof flags.tls === 'string' ? Number(flags.tls) : undefined;
        config = loadConfig({
          env: process.env,
          ...(flags.config ? { file: flags.config } : {}),
          flags: {
            ...(flags.port !== undefined ? { port: flags.port } : {}),
            ...(flags.host ? { host: flags.host } : {}),
            ...(flags.store ? { store: flags.store } : {}),
            ...(tlsPort !== undefined ? { tls: { port: tlsPort } } : {}),
          },
          enableTls: flags.tls === true,
        });
      } catch (err) {
        if (err instanceof ConfigError) fail(err.message);
        throw err;
      }
      try {
        const server = await startServer(config);
        if (config.log_level !== 'silent')
          process.stdout.write(banner(config, server.url, server.tls) + '\n');
        installGracefulShutdown(server);
      } catch (err) {
        if (err instanceof ConfigError || err instanceof TlsListenError) fail(err.message);
        if (err instanceof Error && err.name === 'TlsSetupError') fail(err.message);
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EADDRINUSE') fail(`port ${config.port} is already in use: set PORT to another port`);
        throw err;
      }
    },
  );

program
  .command('keygen')
  .description('make a libsodium box keypair and print both halves as base64 (JSON)')
  .action(async () => {
    await cryptoReady();
    const kp = generateKeypair();
    process.stdout.write(
      JSON.stringify({ public_key: kp.publicKey, secret_key: kp.secretKey }, null, 2) + '\n',
    );
  });

program
  .command('seal')
  .description(
    'seal JSON (stdin or files) to an app_key and print the request body, for curl; several files: one body a line',
  )
  .argument('[files...]', 'JSON files; stdin when none or -')
  .addOption(
    new Option('-k, --app-key <base64>', "the gateway's app_key").default(
      DEFAULT_MERCHANT.app_key,
      'the built-in merchant',
    ),
  )
  .action(async (files: string[], flags: { appKey: string }) => {
    await cryptoReady();
    if (decodeOriginalBase64(flags.appKey)?.length !== 32) fail('--app-key must be base64 of 32 bytes');
    const inputs = files.length > 0 ? files : [undefined];
    const bodies: string[] = [];
    for (const file of inputs) {
      const text = await readInput(file);
      try {
        JSON.parse(text);
      } catch {
        process.stderr.write(
          `ktpay-mock: warning: ${file && file !== '-' ? file : 'the input'} is not valid JSON; sealing it anyway\n`,
        );
      }
      bodies.push(sealToBase64(text.trim(), flags.appKey));
    }
    // One body: a newline only on a terminal, so `seal > body.txt` holds exactly the body, with
    // nothing the sandbox would have to strip (and warn about) when curl sends --data-binary @body.txt.
    // Several: one body a line.
    process.stdout.write(
      bodies.length > 1 ? `${bodies.join('\n')}\n` : bodies[0] + (process.stdout.isTTY ? '\n' : ''),
    );
  });

program
  .command('open')
  .description('open a sealed body (stdin or a file) with a server secret key and print the plaintext')
  .argument('[file]', 'file holding the base64 body; stdin when omitted or -')
  .addOption(
    new Option('-s, --secret-key <base64>', 'server secret key').default(
      DEFAULT_MERCHANT.server_secret_key,
      "the built-in merchant's",
    ),
  )
  .action(async (file: string | undefined, flags: { secretKey: string }) => {
    await cryptoReady();
    let cipher: Uint8Array;
    try {
      const body = readSealedBody(await readInput(file));
      for (const w of body.warnings) process.stderr.write(`ktpay-mock: warning: ${w}\n`);
      cipher = body.cipher;
    } catch (err) {
      fail(err instanceof KtpayError && err.diagnostic ? err.diagnostic : String(err));
    }
    const opened = openSealed(cipher, {
      publicKey: publicKeyOf(flags.secretKey),
      secretKey: flags.secretKey,
    });
    if (!opened) fail('the sealed box does not open with this secret key');
    process.stdout.write(Buffer.from(opened).toString('utf8') + '\n');
  });

program
  .command('run')
  .description("check a merchant's integration end to end (the scenario runner); reads ktpay-mock.check.yaml")
  .argument(
    '[files...]',
    'suite files to run (default: the suites of the check config, else merchant-checks)',
  )
  .option('-c, --config <file>', 'check config file (default: ./ktpay-mock.check.yaml when present)')
  .option('--sandbox <url>', 'URL of a running sandbox (default: start an embedded one)')
  .option(
    '--merchant <app_id>',
    'merchant to check (default: embedded, the built-in test merchant; with --sandbox, one the run creates and deletes)',
  )
  .option(
    '--trigger <spec>',
    '"POST http://shop/checkout" or a shell command that makes the shop create a payment',
  )
  .option('--app <command>', 'command that starts the shop for the run (overrides app.command)')
  .option(
    '--suite <name|path>',
    'a built-in suite (merchant-checks) or a suite file/folder; repeatable',
    repeatable,
    [] as string[],
  )
  .addOption(reporterOption())
  .option('--out <dir>', 'where junit/json/html reports go (default ./ktpay-mock-report)')
  .option('--parallel <n>', 'run n scenarios at a time, each with its own order (default 1)', (v) =>
    Number(v),
  )
  .option('--seed <n>', 'seed for the faker data, so a run repeats', (v) => Number(v))
  .option('--admin-token <token>', "the running sandbox's ADMIN_TOKEN")
  .option(
    '--only <text>',
    'run only scenarios whose name contains this; repeatable',
    repeatable,
    [] as string[],
  )
  .action(
    async (
      files: string[],
      flags: {
        config?: string;
        sandbox?: string;
        merchant?: string;
        trigger?: string;
        app?: string;
        suite: string[];
        reporter?: string[];
        out?: string;
        seed?: number;
        adminToken?: string;
        only: string[];
        parallel?: number;
      },
    ) => {
      // The runner (and faker, ~250 ms to import) loads only for `run`, so `serve` starts fast (issue 10).
      const { runCommand } = await import('../scenarios/runner/run-command.js');
      const { code } = await runCommand(
        {
          files,
          suites: flags.suite,
          only: flags.only,
          ...(flags.config ? { config: flags.config } : {}),
          ...(flags.sandbox ? { sandbox: flags.sandbox } : {}),
          ...(flags.merchant ? { merchant: flags.merchant } : {}),
          ...(flags.trigger ? { trigger: flags.trigger } : {}),
          ...(flags.app ? { app: flags.app } : {}),
          ...(flags.reporter ? { reporters: flags.reporter as ReporterName[] } : {}),
          ...(flags.out ? { out: flags.out } : {}),
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
          ...(flags.adminToken ? { adminToken: flags.adminToken } : {}),
          ...(flags.parallel !== undefined ? { parallel: flags.parallel } : {}),
        },
        commandIo(),
      );
      exitAfterOutput(code);
    },
  );

program
  .command('probe')
  .description(
    'compare the sandbox with a real ktpay environment: a fixed, harmless battery to both, every difference reported as drift',
  )
  .option(
    '--upstream <url>',
    'the ktpay environment, e.g. https://card.test.nplus.tech (API base /api/v1/merchant-widget)',
  )
  .addOption(new Option('--app-id <id>', "your merchant's app_id there").env('KTPAY_PROBE_APP_ID'))
  .addOption(new Option('--app-key <base64>', "your merchant's app_key there").env('KTPAY_PROBE_APP_KEY'))
  .option(
    '--allow-host <host>',
    'also allow this upstream host (or *.domain); repeatable',
    repeatable,
    [] as string[],
  )
  .option('--allow-production', 'allow a production host (ktpay.kz, nplus.tech outside test.)')
  .option('--sandbox <url>', 'a running sandbox to compare (default: start an embedded one)')
  .option('--admin-token <token>', "that sandbox's ADMIN_TOKEN")
  .option('--sandbox-merchant <app_id>', "probe as this sandbox merchant instead of the run's own")
  .addOption(
    new Option('--envelope <dialect>', "the run's sandbox merchant dialect (default reference)").choices([
      'reference',
      'widget',
    ]),
  )
  .addOption(
    new Option('--acquirer-options <version>', 'its acquirer-options version (default 2)').choices([
      '1',
      '2',
    ]),
  )
  .option('--record <dir>', "save the upstream's answers (redacted) as a recording in this folder")
  .option('--replay <dir>', 'compare the sandbox with a recording instead of an upstream (offline)')
  .addOption(reporterOption())
  .option('--out <dir>', 'where junit/json/html reports go (default ./ktpay-mock-report)')
  .option('--timeout <ms>', 'per-request timeout (default 15000)', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive number of milliseconds');
    return n;
  })
  .action(
    async (flags: {
      upstream?: string;
      appId?: string;
      appKey?: string;
      allowHost: string[];
      allowProduction?: boolean;
      sandbox?: string;
      adminToken?: string;
      sandboxMerchant?: string;
      envelope?: 'reference' | 'widget';
      acquirerOptions?: '1' | '2';
      record?: string;
      replay?: string;
      reporter?: string[];
      out?: string;
      timeout?: number;
    }) => {
      // Loaded only for `probe`, like the runner, so `serve` starts fast.
      const { probeCommand } = await import('../scenarios/probe/probe-command.js');
      const { code } = await probeCommand(
        {
          ...(flags.upstream ? { upstream: flags.upstream } : {}),
          ...(flags.appId ? { appId: flags.appId } : {}),
          ...(flags.appKey ? { appKey: flags.appKey } : {}),
          allowHosts: flags.allowHost,
          allowProduction: Boolean(flags.allowProduction),
          ...(flags.sandbox ? { sandbox: flags.sandbox } : {}),
          ...(flags.adminToken ? { adminToken: flags.adminToken } : {}),
          ...(flags.sandboxMerchant ? { sandboxMerchant: flags.sandboxMerchant } : {}),
          ...(flags.envelope ? { envelope: flags.envelope } : {}),
          ...(flags.acquirerOptions ? { acquirerOptions: Number(flags.acquirerOptions) as 1 | 2 } : {}),
          ...(flags.record ? { record: flags.record } : {}),
          ...(flags.replay ? { replay: flags.replay } : {}),
          ...(flags.reporter ? { reporters: flags.reporter as ReporterName[] } : {}),
          ...(flags.out ? { out: flags.out } : {}),
          ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
        },
        commandIo(),
      );
      exitAfterOutput(code);
    },
  );

const collect = (v: string, acc: string[]) => [...acc, v];
const tlsCommand = program
  .command('tls')
  .description('the local CA for HTTPS as the ktpay test hosts: create it, show how clients trust it');

tlsCommand
  .command('init')
  .description(
    'create a local CA and a server certificate for fintech/widget/card.test.nplus.tech, localhost, 127.0.0.1 and --name (an existing CA is kept)',
  )
  .option('--dir <dir>', 'the TLS folder (env TLS_DIR; default ~/.local/share/ktpay-mock/tls)')
  .option(
    '-n, --name <name>',
    'another DNS name or IP the certificate covers (env TLS_NAMES); repeatable',
    collect,
    [],
  )
  .option('--force', 'make a new CA even if one exists (every client must trust the new one)')
  .action(async (flags: { dir?: string; name: string[]; force?: boolean }) => {
    const { ensureLocalCa } = await import('./tls/local-ca.js');
    const fromEnv = (process.env.TLS_NAMES ?? '').split(',').map((n) => n.trim());
    const dir = flags.dir ?? tlsDirFrom(process.env);
    let ca;
    try {
      ca = await ensureLocalCa({ dir, names: [...fromEnv, ...flags.name], force: Boolean(flags.force) });
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
    const state = (made: boolean, what: string) => `${made ? 'created' : 'kept   '} ${what}`;
    process.stdout.write(
      [
        state(ca.created.ca, `CA           ${ca.files.ca}  (key ${ca.files.caKey}, mode 0600)`),
        state(
          ca.created.server,
          `certificate  ${ca.files.cert}  (until ${ca.serverValidTo.toISOString().slice(0, 10)})`,
        ),
        `        names        ${ca.names.join(', ')}`,
        `        SPKI pin     ${ca.caSpkiPin}`,
        '',
        'Next: `ktpay-mock tls env` shows how to trust the CA and map the names;',
        '      `ktpay-mock serve --tls 443` (or TLS_PORT=443) serves HTTPS with it.',
        '',
      ].join('\n'),
    );
  });

tlsCommand
  .command('env')
  .description(
    'print how to trust the local CA and map the ktpay test hosts (Node, curl, PHP, Python, Java, Chromium, hosts, docker)',
  )
  .option('--dir <dir>', 'the TLS folder (env TLS_DIR; default ~/.local/share/ktpay-mock/tls)')
  .option('--ip <address>', 'where the names should point', '127.0.0.1')
  .option('--port <port>', "the sandbox's HTTPS port (env TLS_PORT)", process.env.TLS_PORT || '443')
  .option('--json', 'the same facts as JSON')
  .action(async (flags: { dir?: string; ip: string; port: string; json?: boolean }) => {
    const { readLocalCa } = await import('./tls/local-ca.js');
    const { trustInstructions, trustSettings } = await import('./tls/trust-instructions.js');
    const dir = flags.dir ?? tlsDirFrom(process.env);
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) fail('--port must be a port number');
    const ca = readLocalCa(dir);
    if (!ca) fail(`no local CA in ${dir}: run \`ktpay-mock tls init\` first (or set TLS_DIR / --dir)`);
    const target = { ip: flags.ip, port };
    process.stdout.write(
      flags.json ? `${JSON.stringify(trustSettings(ca, target), null, 2)}\n` : trustInstructions(ca, target),
    );
  });

const exportCommand = program
  .command('export')
  .description('print the OpenAPI document, or write the contract bundle for merchants');

exportCommand
  .command('openapi')
  .description('print the OpenAPI 3.1 document (generated from contracts/) as JSON')
  .action(() => {
    // `export openapi | head` closes the pipe early: that is the reader's choice, not an error.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
    process.stdout.write(JSON.stringify(buildOpenApi(), null, 2) + '\n');
  });

exportCommand
  .command('contracts')
  .description(
    'write every JSON Schema, the OpenAPI document, the error catalog, the test cards and a sealed example with its keypair',
  )
  .requiredOption('-o, --out <dir>', 'folder to write the bundle into (created if missing)')
  .action(async (flags: { out: string }) => {
    try {
      const { exportContracts } = await import('./openapi/export-contracts.js');
      const files = await exportContracts(flags.out);
      process.stdout.write(`wrote ${files.length} files to ${flags.out} (see README.txt there)\n`);
    } catch (err) {
      fail(`cannot write the bundle to ${flags.out}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });

await program.parseAsync(process.argv);
