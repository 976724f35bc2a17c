import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import type { SandboxConfigInput } from '../../contracts/types.js';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { ensureLocalCa, type LocalCa } from '../../mock-server/tls/local-ca.js';
import { KTPAY_TEST_HOSTS } from '../../mock-server/tls/tls-dir.js';
import { commandSucceeds, foreignRuntime } from '../helpers/foreign-runtime.js';
import { testConfig } from '../helpers/sandbox.js';

/** A TLS folder for one test file: the CA and server certificate are made once (RSA keys take a moment). */
export async function testTlsFolder(
  names: string[] = [],
): Promise<{ dir: string; ca: LocalCa; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'ktpay-tls-test-'));
  const ca = await ensureLocalCa({ dir, names });
  return { dir, ca, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type TlsSandbox = RunningServer & { tls: NonNullable<RunningServer['tls']>; httpsPort: number };

/** A sandbox with HTTP on 127.0.0.1 and HTTPS on `tls.host:tls.port` (port 0 = a free one). */
export async function startTlsSandbox(
  dir: string,
  flags: SandboxConfigInput = {},
  env: Record<string, string> = {},
): Promise<TlsSandbox> {
  const { tls, ...rest } = flags;
  const config = testConfig(
    { port: 0, host: '127.0.0.1', clearing_delay_ms: 'manual', ...rest, tls: { port: 0, dir, ...tls } },
    env,
  );
  const server = await startServer(config, { logger: false });
  if (!server.tls) throw new Error('the sandbox started without its HTTPS listener');
  return { ...server, tls: server.tls, httpsPort: Number(new URL(server.tls.url).port || 443) };
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTPS request to the sandbox's listener as a client of `host` makes it: TLS with SNI and
 * certificate verification of that name against the local CA (nothing relaxed), and that Host
 * header. `connectTo` is where the socket really goes (the test process has no DNS for the names).
 */
export function httpsRequest(
  ca: LocalCa,
  connectTo: { host: string; port: number },
  host: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpsAnswer> {
  const servername = host.replace(/:\d+$/, '');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: connectTo.host,
        port: connectTo.port,
        method: opts.method ?? 'GET',
        path,
        servername,
        ca: readFileSync(ca.files.ca),
        checkServerIdentity: (_dialled, cert) => checkServerIdentity(servername, cert),
        headers: { host, ...opts.headers },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Root with util-linux's unshare and mount: a child process can get a private mount namespace
 * with its own /etc/hosts, where the ktpay test hosts resolve to the sandbox. Elsewhere the suites
 * that need it skip, saying so in one line.
 */
export function hostsNamespaceAvailable(suite: string): boolean {
  const root = process.getuid?.() === 0;
  return foreignRuntime(
    'root with unshare and mount (a private mount namespace for /etc/hosts, and port 443)',
    suite,
    root && commandSucceeds('unshare', ['--mount', '--', 'mount', '--version']),
  );
}

/** A random loopback address other than 127.0.0.1: port 443 there clashes with no other test. */
export function randomLoopback(): string {
  return `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(2, 255)}`;
}

/** An /etc/hosts that maps the ktpay test hosts (and `extra` names) to `ip`, plus more lines. */
export function hostsFileText(ip: string, extra: string[] = [], lines: string[] = []): string {
  return [
    '127.0.0.1 localhost',
    '::1 localhost',
    `${ip} ${[...KTPAY_TEST_HOSTS, ...extra].join(' ')}`,
    ...lines,
    '',
  ].join('\n');
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * unshare arguments that run the rest of the command line in a private mount namespace whose
 * /etc/hosts is `hostsFile` (a bind mount nobody else sees).
 */
export function privateHostsArgs(hostsFile: string): string[] {
  return [
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    'mount --bind "$0" /etc/hosts && exec "$@"',
    hostsFile,
  ];
}

export interface HostsOptions {
  env?: Record<string, string>;
  /** More `ip names…` lines, e.g. the other services of a compose file. */
  hosts?: string[];
  extra?: string[];
  cwd?: string;
}

/**
 * Starts `command args…` unchanged, in a private mount namespace whose /etc/hosts maps the ktpay
 * test hosts (and `extra` names) to `ip`: what a shop's machine does after `ktpay-mock tls env`'s
 * hosts line, without touching this machine's /etc/hosts. The caller ends it.
 */
export function spawnWithHosts(ip: string, command: string, args: string[], opts: HostsOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ktpay-hosts-'));
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, hostsFileText(ip, opts.extra, opts.hosts));
  const child = spawn('unshare', [...privateHostsArgs(hosts), command, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const finished = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
  return { child, finished, output: () => ({ stdout, stderr }) };
}

/** {@link spawnWithHosts}, waited for (killed after `timeoutMs`). */
export async function runWithHosts(
  ip: string,
  command: string,
  args: string[],
  opts: HostsOptions & { timeoutMs?: number } = {},
): Promise<Finished> {
  const run = spawnWithHosts(ip, command, args, opts);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  try {
    return await run.finished;
  } finally {
    clearTimeout(timer);
  }
}
