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
import { banner, installGracefulShutdown, startServer } from './server.js';
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
  .action(async (flags: { port?: number; host?: string; config?: string; store?: string }) => {
    let config;
    try {
      config = loadConfig({
        env: process.env,
        ...(flags.config ? { file: flags.config } : {}),
        flags: {
          ...(flags.port !== undefined ? { port: flags.port } : {}),
          ...(flags.host ? { host: flags.host } : {}),
          ...(flags.store ? { store: flags.store } : {}),
        },
      });
    } catch (err) {
      if (err instanceof ConfigError) fail(err.message);
      throw err;
    }
    try {
      const server = await startServer(config);
      if (config.log_level !== 'silent') process.stdout.write(banner(config, server.url) + '\n');
      installGracefulShutdown(server);
    } catch (err) {
      if (err instanceof ConfigError) fail(err.message);
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE') fail(`port ${config.port} is already in use: set PORT to another port`);
      throw err;
    }
  });

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
  .option('--merchant <app_id>', "merchant to check (default: the sandbox's built-in test merchant)")
  .option(
    '--trigger <spec>',
    '"POST http://shop/checkout" or a shell command that makes the shop create a payment',
  )
  .option('--app <command>', 'command that starts the shop for the run (overrides app.command)')
  .option(
    '--suite <name|path>',
    'a built-in suite (merchant-checks) or a suite file/folder; repeatable',
    (v: string, acc: string[]) => [...acc, v],
    [] as string[],
  )
  .addOption(
    new Option('--reporter <name>', 'pretty, junit or json; repeatable (default pretty)').argParser(
      (v: string, acc: string[] | undefined) => {
        if (!['pretty', 'junit', 'json'].includes(v))
          throw new InvalidArgumentError('use pretty, junit or json');
        return [...(acc ?? []), v];
      },
    ),
  )
  .option('--out <dir>', 'where junit/json reports go (default ./ktpay-mock-report)')
  .option('--seed <n>', 'seed for the faker data, so a run repeats', (v) => Number(v))
  .option('--admin-token <token>', "the running sandbox's ADMIN_TOKEN")
  .option(
    '--only <text>',
    'run only scenarios whose name contains this; repeatable',
    (v: string, acc: string[]) => [...acc, v],
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
      },
    ) => {
      const live = Boolean(process.stdout.isTTY) && !process.env.CI;
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
        },
        {
          cwd: process.cwd(),
          stdout: (t) => process.stdout.write(t),
          stderr: (t) => process.stderr.write(t),
          live,
          color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
        },
      );
      // Let piped output drain before leaving (an embedded sandbox may still hold timers).
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    },
  );

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
