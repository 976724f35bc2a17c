/**
 * The container-equivalent test (issue 9). No Docker engine runs on our machines, so this replays
 * docker/Dockerfile on the host, step by step as the file says (see dockerfile-model.ts), in a
 * clean temporary folder:
 *   build stage    → copies the build context through .dockerignore, `npm ci`, build, pack;
 *   prod stage     → production-only install and the native better-sqlite3 addon;
 *   runtime stage  → the image: ENV, WORKDIR, USER, HEALTHCHECK, ENTRYPOINT + CMD.
 * Then it starts the image's ENTRYPOINT/CMD with configuration from the environment only, as
 * PID 1 of a fresh PID namespace and as the image's USER when the test runs as root (as in CI),
 * polls the image's own HEALTHCHECK command, creates and pays payments, and stops it with SIGTERM
 * the way `docker stop` does.
 *
 * The replay compiles better-sqlite3 with node-gyp (prebuilt binaries cannot be downloaded here),
 * so the build takes one to three minutes; the timings are printed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { cryptoReady, generateKeypair, sealToBase64 } from '../../mock-server/crypto/sealed-box.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';
import { assetTable } from '../../mock-server/views/assets.js';
import { ASSET_BASE } from '../../mock-server/views/layout.js';
import {
  hostsNamespaceAvailable,
  privateHostsArgs,
  randomLoopback,
  spawnWithHosts,
} from '../drop-in/tls-sandbox.js';
import {
  durationMs,
  hostPath,
  mapPath,
  parseDockerfile,
  replayBuild,
  userIds,
  which,
  type ReplayedImage,
} from './dockerfile-model.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const API = '/api/v1/merchant-widget';
const TEST_CARD = '4405639704015096';

const dockerfile = parseDockerfile(readFileSync(join(REPO, 'docker/Dockerfile'), 'utf8'));
const isRoot = process.getuid?.() === 0;
const unshareBin = which('unshare', process.env.PATH ?? '');
const setprivBin = which('setpriv', process.env.PATH ?? '');
/** As root, the entrypoint runs as PID 1 of its own PID namespace under the image's USER, like in a container. */
const containerMode = isRoot && unshareBin && setprivBin ? 'pid-namespace' : 'plain-process';

let workRoot = '';
let image: ReplayedImage;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A folder the container user can write, standing in for a mounted volume. */
function volume(name: string): string {
  const dir = join(workRoot, 'volumes', name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  return dir;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

interface RunningContainer {
  launcher: ChildProcess;
  /** Host pid of the ENTRYPOINT process (node). */
  pid: number;
  startedAt: number;
  exited: Promise<Exit>;
  output: () => { stdout: string; stderr: string };
  env: Record<string, string>;
}

/** `docker run -e …`: the image's ENV, then the run's environment; nothing from the host. */
function containerEnv(runEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...image.config.env, HOSTNAME: 'ktpay-mock', ...runEnv };
  env.PATH = hostPath(image.rootfs, env.PATH ?? '');
  return env;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * What a container's network gives it and the replay emulates, root only: its own /etc/hosts (the
 * names compose's DNS would answer, as a bind mount in a private mount namespace), and leave to bind
 * ports below 1024 as a non-root user (Docker's ip_unprivileged_port_start=0 in a container's
 * network namespace, granted here as the one capability that allows it).
 */
interface ContainerNetwork {
  hostsFile: string;
  bindLowPorts: boolean;
}

async function startContainer(
  runEnv: Record<string, string>,
  network?: ContainerNetwork,
): Promise<RunningContainer> {
  if (network && containerMode !== 'pid-namespace') throw new Error('a container network needs root');
  const env = containerEnv(runEnv);
  const argv = [...image.config.entrypoint, ...image.config.cmd];
  const exe = which(argv[0]!, env.PATH!);
  if (!exe) throw new Error(`${argv[0]} is not on the image's PATH (${env.PATH})`);
  const cwd = mapPath(image.rootfs, image.config.workdir);
  const { uid, gid } = userIds(image.config.user);
  const startedAt = performance.now();
  const launcher =
    containerMode === 'pid-namespace'
      ? spawn(
          unshareBin!,
          [
            '--pid',
            '--fork',
            '--kill-child',
            ...(network ? privateHostsArgs(network.hostsFile) : ['--']),
            setprivBin!,
            `--reuid=${uid}`,
            `--regid=${gid}`,
            '--clear-groups',
            ...(network?.bindLowPorts
              ? ['--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service']
              : []),
            '--',
            exe,
            ...argv.slice(1),
          ],
          { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
        )
      : spawn(exe, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  launcher.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  launcher.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((resolve) =>
    launcher.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  let pid = launcher.pid!;
  if (containerMode === 'pid-namespace') {
    const deadline = Date.now() + 5000;
    let child: number | undefined;
    while (!child && Date.now() < deadline) {
      child = childPids(launcher.pid!)[0];
      if (!child) await new Promise((r) => setTimeout(r, 5));
    }
    if (!child) throw new Error(`unshare started no child: ${stderr}`);
    pid = child;
  }
  return { launcher, pid, startedAt, exited, output: () => ({ stdout, stderr }), env };
}

/** Runs the image's HEALTHCHECK command as Docker does: container env, WORKDIR, USER, the timeout flag. */
function runHealthcheck(c: RunningContainer): Promise<number | null> {
  const hc = image.config.healthcheck!;
  const exe = which(hc.test[0]!, c.env.PATH!);
  if (!exe) throw new Error(`HEALTHCHECK: ${hc.test[0]} is not on the image's PATH`);
  const { uid, gid } = userIds(image.config.user);
  const timeout = durationMs(hc.flags.timeout ?? '30s');
  return new Promise((resolve) => {
    const p = spawn(exe, hc.test.slice(1), {
      cwd: mapPath(image.rootfs, image.config.workdir),
      env: c.env,
      stdio: 'ignore',
      timeout,
      ...(isRoot ? { uid, gid } : {}),
    });
    p.on('exit', (code) => resolve(code));
    p.on('error', () => resolve(null));
  });
}

/** utime + stime of a process, in ms (Linux /proc). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return (ticks * 1000) / hz;
}

function statusField(pid: number, field: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return (line ?? '').slice(field.length + 1).trim();
}

beforeAll(async () => {
  workRoot = mkdtempSync(join(tmpdir(), 'ktpay-container-'));
  chmodSync(workRoot, 0o755);
  const started = performance.now();
  image = await replayBuild({
    contextDir: REPO,
    dockerfile,
    workRoot,
    // npm's cache and config under the real HOME, as /root/.npm in a builder; prefer-offline
    // only skips revalidating what the cache already holds.
    hostEnv: { HOME: homedir(), npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
    log: (line) => console.log(`[container build] ${line}`),
  });
  console.log(
    `[container build] all stages replayed in ${Math.round((performance.now() - started) / 1000)} s (mode: ${containerMode})`,
  );
}, 20 * 60_000);

afterAll(async () => {
  // Two node_modules trees: removing them takes a while on a busy machine.
  if (workRoot) await rm(workRoot, { recursive: true, force: true });
}, 5 * 60_000);

describe('the image the Dockerfile builds (replayed without Docker)', () => {
  it('holds the built package and production dependencies only, with ktpay-mock on PATH', () => {
    const app = mapPath(image.rootfs, image.config.workdir);
    for (const file of [
      'package.json',
      'package-lock.json',
      'dist/mock-server/cli.js',
      'contracts/data/error-catalog.json',
    ]) {
      expect(existsSync(join(app, file)), file).toBe(true);
    }
    expect(
      readdirSync(join(app, 'scenarios/library')).filter((f) => f.endsWith('.yaml')).length,
    ).toBeGreaterThan(0);
    // No sources, tests or build config: only what package.json "files" ships.
    for (const absent of [
      'tsconfig.json',
      'test',
      'mock-server/app.ts',
      'node_modules/typescript',
      'node_modules/vitest',
      'node_modules/tsx',
    ]) {
      expect(existsSync(join(app, absent)), absent).toBe(false);
    }
    // The native addon was built for this Node by the prod stage.
    expect(existsSync(join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
    // ENTRYPOINT resolves through the image's PATH to the package's bin, executable.
    const entry = which(image.config.entrypoint[0]!, hostPath(image.rootfs, image.config.env.PATH!));
    expect(entry).toBe(join(app, 'node_modules/.bin/ktpay-mock'));
    expect(lstatSync(entry!).isSymbolicLink()).toBe(true);
    expect(readFileSync(entry!, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });
});

describe('a container started from the image with environment-only configuration', () => {
  let c: RunningContainer;
  let port = 0;
  let base = '';
  const adminToken = randomBytes(16).toString('hex');
  const admin = () => ({ authorization: `Bearer ${adminToken}` });
  // A merchant given only through MERCHANTS_JSON, and one through a mounted config file.
  const envKeys = { server: { publicKey: '', secretKey: '' }, merchantPublic: '' };
  const fileKeys = { server: { publicKey: '', secretKey: '' }, merchantPublic: '' };
  const envAppId = randomBytes(16).toString('hex');
  const fileAppId = randomBytes(16).toString('hex');
  let envHash = '';

  beforeAll(async () => {
    await cryptoReady();
    envKeys.server = generateKeypair();
    envKeys.merchantPublic = generateKeypair().publicKey;
    fileKeys.server = generateKeypair();
    fileKeys.merchantPublic = generateKeypair().publicKey;
  });

  afterAll(async () => {
    if (c && c.launcher.exitCode === null && c.launcher.signalCode === null) {
      c.launcher.kill('SIGKILL');
      await c.exited;
    }
  });

  it('becomes healthy by its own HEALTHCHECK, running as PID 1 under the image USER', async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const data = volume('data');
    const configDir = volume('config');
    writeFileSync(
      join(configDir, 'ktpay-mock.yaml'),
      toYaml({
        merchants: [
          {
            app_id: fileAppId,
            name: 'CI shop from a mounted file',
            domains: ['file-shop.ci.test'],
            public_key: fileKeys.merchantPublic,
            server_keys: [{ public_key: fileKeys.server.publicKey, secret_key: fileKeys.server.secretKey }],
          },
        ],
      }),
    );
    c = await startContainer({
      PORT: String(port),
      PUBLIC_URL: base,
      ADMIN_TOKEN: adminToken,
      STORE: `sqlite:${join(data, 'ktpay.sqlite')}`,
      KTPAY_MOCK_CONFIG: join(configDir, 'ktpay-mock.yaml'),
      CALLBACK_TIME_SCALE: '0.001',
      MERCHANTS_JSON: JSON.stringify([
        {
          app_id: envAppId,
          name: 'CI shop from MERCHANTS_JSON',
          domains: ['env-shop.ci.test'],
          public_key: envKeys.merchantPublic,
          server_keys: [{ public_key: envKeys.server.publicKey, secret_key: envKeys.server.secretKey }],
          envelope: 'widget',
        },
      ]),
    });

    // Docker probes every --interval; here the probe runs again 50 ms after each failure, so the
    // first pass is close to the moment the sandbox can answer.
    const flags = image.config.healthcheck!.flags;
    const startPeriod = durationMs(flags['start-period'] ?? '0s');
    // Docker marks the container unhealthy only after the start period and then `retries`
    // failed probes `interval` apart: before that, it is still starting.
    const unhealthyAfter = startPeriod + Number(flags.retries ?? 3) * durationMs(flags.interval ?? '30s');
    let probes = 0;
    for (;;) {
      probes++;
      const code = await runHealthcheck(c);
      if (code === 0) break;
      if (c.launcher.exitCode !== null || performance.now() - c.startedAt > unhealthyAfter) {
        throw new Error(`never healthy (${probes} probes): ${JSON.stringify(c.output())}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const healthyMs = performance.now() - c.startedAt;
    const cpuToHealthyMs = cpuMs(c.pid);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    // The figures the "healthy in ≤ 1 s" is about. They are printed, not asserted: on a
    // shared 2-core machine the wall clock mostly measures the other processes (DESIGN.md: timing
    // targets are checked by `npm run bench`, not by timed tests).
    console.log(
      `[container] healthy ${Math.round(healthyMs)} ms after start (wall clock, ${probes} HEALTHCHECK runs); ` +
        `the sandbox used ${Math.round(cpuToHealthyMs)} ms of CPU to get there; load average ${load}`,
    );
    expect(healthyMs).toBeLessThan(unhealthyAfter);

    if (containerMode === 'pid-namespace') {
      expect(statusField(c.pid, 'NSpid').split(/\s+/).at(-1)).toBe('1');
      const { uid } = userIds(image.config.user);
      expect(statusField(c.pid, 'Uid').split(/\s+/)[0]).toBe(String(uid));
      expect(uid).not.toBe(0);
    }
    expect(c.output().stdout).toContain(`listening on http://127.0.0.1:${port}`);
  }, 60_000);

  it('takes ADMIN_TOKEN, STORE, MERCHANTS_JSON and KTPAY_MOCK_CONFIG from the environment', async () => {
    const anonymous = await fetch(`${base}/__admin/health`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: number } }).error.code).toBe(4010121);

    const health = (await (await fetch(`${base}/__admin/health`, { headers: admin() })).json()) as {
      status: string;
      store: string;
    };
    expect(health).toMatchObject({ status: 'ok', store: 'sqlite' });
    expect(existsSync(join(workRoot, 'volumes/data/ktpay.sqlite'))).toBe(true);

    const list = (await (await fetch(`${base}/__admin/merchants`, { headers: admin() })).json()) as {
      merchants: { app_id: string; app_key: string; envelope: string }[];
    };
    const byId = new Map(list.merchants.map((m) => [m.app_id, m]));
    expect(byId.get(envAppId)).toMatchObject({ app_key: envKeys.server.publicKey, envelope: 'widget' });
    expect(byId.get(fileAppId)).toMatchObject({ app_key: fileKeys.server.publicKey });
    expect(byId.has(DEFAULT_MERCHANT.app_id)).toBe(true);
  });

  it('creates payments for the merchants from the environment and from the mounted file', async () => {
    const order = (id: string) => ({
      order: { amount: 1500, order_id: id, description: 'Заказ из CI', type: 'ecom' },
    });

    const fromEnv = await fetch(`${base}${API}/payment`, {
      method: 'POST',
      headers: { 'auth-identifier': envAppId, 'content-type': 'text/plain' },
      body: sealToBase64(JSON.stringify(order(`CI-ENV-${Date.now()}`)), envKeys.server.publicKey),
    });
    expect(fromEnv.status).toBe(200);
    const envBody = (await fromEnv.json()) as {
      response: { success: boolean; data: { transaction_hash: string } };
    };
    expect(envBody.response.success).toBe(true);
    expect(envBody.response.data.transaction_hash).toMatch(/^[0-9a-f]{40}$/);
    envHash = envBody.response.data.transaction_hash;

    const fromFile = await fetch(`${base}${API}/payment`, {
      method: 'POST',
      headers: { 'auth-identifier': fileAppId, 'content-type': 'text/plain' },
      body: sealToBase64(JSON.stringify(order(`CI-FILE-${Date.now()}`)), fileKeys.server.publicKey),
    });
    expect(fromFile.status).toBe(200);
    expect(
      ((await fromFile.json()) as { payload: { transaction_hash: string } }).payload.transaction_hash,
    ).toMatch(/^[0-9a-f]{40}$/);

    // The env merchant's key is the one that opens its requests: the built-in key does not.
    const wrongKey = await fetch(`${base}${API}/payment`, {
      method: 'POST',
      headers: { 'auth-identifier': envAppId, 'content-type': 'text/plain' },
      body: sealToBase64(JSON.stringify(order(`CI-WRONG-${Date.now()}`)), DEFAULT_MERCHANT.app_key),
    });
    expect(wrongKey.status).toBe(422);
    expect(((await wrongKey.json()) as { error: { code: number } }).error.code).toBe(4220102);
  });

  it('pays a payment with test card 4405 6397 0401 5096 through the admin API', async () => {
    const expYear = String(new Date().getFullYear() + 3);
    const paid = await fetch(`${base}/__admin/transactions/${envHash}/pay`, {
      method: 'POST',
      headers: { ...admin(), 'content-type': 'application/json' },
      body: JSON.stringify({
        pan: TEST_CARD,
        exp_month: '12',
        exp_year: expYear,
        cvc: '123',
        cardholder: 'CI TESTER',
      }),
    });
    expect(paid.status).toBe(200);
    const result = (await paid.json()) as {
      outcome: string;
      acquirer_code: string;
      transaction: { status: string };
    };
    expect(result).toMatchObject({
      outcome: 'approved',
      acquirer_code: '00',
      transaction: { status: 'success' },
    });

    const read = (await (
      await fetch(`${base}/__admin/transactions/${envHash}`, { headers: admin() })
    ).json()) as {
      status: string;
      app_id: string;
    };
    expect(read.app_id).toBe(envAppId);
    expect(['success', 'completed']).toContain(read.status);
  });

  it('serves the pages, their static assets and the PDF receipt from the production install', async () => {
    // Static files come from mock-server/views/assets (package.json "files") and from node_modules
    // (libsodium's browser builds); the receipt font comes from dejavu-fonts-ttf.
    for (const name of Object.keys(assetTable())) {
      const res = await fetch(`${base}${ASSET_BASE}/${name}`);
      expect(res.status, name).toBe(200);
      expect((await res.arrayBuffer()).byteLength, name).toBeGreaterThan(0);
    }
    const demo = await fetch(`${base}/demo`);
    expect(demo.status).toBe(200);
    expect(demo.headers.get('content-type')).toContain('text/html');

    const pdf = await fetch(`${base}${API}/payment/${envHash}/pdf`, {
      headers: { 'auth-identifier': envAppId },
    });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toContain('application/pdf');
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString('latin1'),
    ).toBe('%PDF-');
  });

  it('stops on SIGTERM, as docker stop sends it to PID 1, with exit code 0 in under 2 s', async () => {
    // An idle keep-alive connection from the requests above is still open: shutdown must not wait for it.
    const sentAt = performance.now();
    process.kill(c.pid, image.config.stopSignal as NodeJS.Signals);
    const exit = await Promise.race([
      c.exited,
      new Promise<Exit>((resolve) =>
        setTimeout(() => resolve({ code: null, signal: null, at: Number.NaN }), 5000),
      ),
    ]);
    const ms = exit.at - sentAt;
    console.log(`[container] ${image.config.stopSignal} → exit ${exit.code} in ${Math.round(ms)} ms`);
    expect(exit.code).toBe(0);
    expect(ms).toBeLessThan(2000);
    expect(c.output().stderr).toContain('SIGTERM received');
  });
});

/**
 * docker/compose.drop-in.yaml, replayed: the sandbox service (the image, its environment from the
 * compose file, the named volume at TLS_DIR, port 443 for its non-root user, the ktpay hosts as its
 * network aliases) and the shop service (the image's Node and production dependencies, the fixture
 * mounted as compose mounts it, the CA volume read-only, its environment from the compose file).
 * Compose's network is emulated: each service gets a loopback address of its own and an /etc/hosts
 * naming the others (private mount namespaces), so the shop reaches https://fintech.test.nplus.tech
 * and the sandbox calls http://shop:3000 back. Root only (namespaces, uid 1000, port 443).
 */
const dropIn = hostsNamespaceAvailable('the drop-in compose replay (docker/compose.drop-in.yaml)');

describe.skipIf(!dropIn)(
  'docker/compose.drop-in.yaml replayed: a shop reaching the sandbox as fintech.test.nplus.tech',
  () => {
    const compose = parseYaml(readFileSync(join(REPO, 'docker/compose.drop-in.yaml'), 'utf8')) as {
      services: Record<
        string,
        {
          environment: Record<string, string>;
          volumes?: string[];
          entrypoint?: string[];
          working_dir?: string;
        }
      >;
    };
    const sandboxService = compose.services['ktpay-mock']!;
    const shopService = compose.services.shop!;
    const sandboxIp = randomLoopback();
    let shopIp = randomLoopback();
    while (shopIp === sandboxIp) shopIp = randomLoopback();
    let c: RunningContainer;
    let shop: ReturnType<typeof spawnWithHosts> | undefined;
    let tlsVolume = '';
    let port = 0;
    let shopBase = '';

    afterAll(async () => {
      shop?.child.kill('SIGTERM');
      if (c && c.launcher.exitCode === null && c.launcher.signalCode === null) {
        c.launcher.kill('SIGKILL');
        await c.exited;
      }
    });

    it("starts with TLS on from the compose file's environment, its CA made in the volume by the image's user", async () => {
      const tlsDir = image.config.env.TLS_DIR!;
      const volumeName = sandboxService.volumes!.find((v) => v.endsWith(`:${tlsDir}`))!.split(':')[0]!;
      // A new named volume starts as a copy of the image's folder, owner and mode included.
      tlsVolume = join(workRoot, 'volumes', volumeName);
      mkdirSync(tlsVolume, { recursive: true });
      const imageDir = statSync(mapPath(image.rootfs, tlsDir));
      chownSync(tlsVolume, imageDir.uid, imageDir.gid);
      chmodSync(tlsVolume, imageDir.mode & 0o7777);

      const hostsFile = join(workRoot, 'volumes', 'sandbox-hosts');
      writeFileSync(hostsFile, `127.0.0.1 localhost\n${shopIp} shop\n`);
      port = await freePort();
      c = await startContainer(
        {
          ...sandboxService.environment,
          TLS_DIR: tlsVolume,
          // The container's own address: compose's aliases point there. (HTTP keeps the image's
          // 0.0.0.0, on a free port, for the HEALTHCHECK.)
          TLS_HOST: sandboxIp,
          PORT: String(port),
        },
        { hostsFile, bindLowPorts: Number(sandboxService.environment.TLS_PORT) < 1024 },
      );
      const flags = image.config.healthcheck!.flags;
      const give =
        durationMs(flags['start-period'] ?? '0s') +
        Number(flags.retries ?? 3) * durationMs(flags.interval ?? '30s');
      for (;;) {
        if ((await runHealthcheck(c)) === 0) break;
        if (c.launcher.exitCode !== null || performance.now() - c.startedAt > give)
          throw new Error(`never healthy: ${JSON.stringify(c.output())}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      console.log(
        `[container drop-in] healthy ${Math.round(performance.now() - c.startedAt)} ms after start, CA made on the way`,
      );
      expect(c.output().stdout).toContain(`HTTPS        https://${sandboxIp}:443`);
      const key = statSync(join(tlsVolume, 'ca-key.pem'));
      expect(key.mode & 0o777).toBe(0o600);
      expect(key.uid).toBe(userIds(image.config.user).uid);
      expect(existsSync(join(tlsVolume, 'ca.pem'))).toBe(true);
    }, 90_000);

    it('runs the shop with its compose environment: it creates a payment at https://fintech.test.nplus.tech, trusting the CA from the volume', async () => {
      // The shop's mounts, as compose makes them: the fixture into the image's /app, the CA volume.
      const app = mapPath(image.rootfs, shopService.working_dir!);
      const fixtureMount = shopService.volumes!.find((v) => v.startsWith('../test/fixtures/'))!.split(':');
      const fixtureAt = mapPath(image.rootfs, fixtureMount[1]!);
      mkdirSync(dirname(fixtureAt), { recursive: true });
      // A copy, not a link: Node resolves a linked file's imports from where it really lies, and the
      // shop must use the image's production dependencies, as in the container.
      cpSync(join(REPO, 'docker', fixtureMount[0]!), fixtureAt, { recursive: true });
      const caMount = shopService
        .volumes!.find((v) => v.startsWith(`${basename(tlsVolume)}:`))!
        .split(':')[1]!;
      const env = Object.fromEntries(
        Object.entries(shopService.environment).map(([k, v]) => [k, v.replace(caMount, tlsVolume)]),
      );
      shop = spawnWithHosts(sandboxIp, process.execPath, shopService.entrypoint!.slice(1), {
        cwd: app,
        env: { ...env, HOST: shopIp },
        hosts: [`${shopIp} shop`],
      });
      shopBase = `http://${shopIp}:${env.PORT}`;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const up = await fetch(`${shopBase}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) break;
        if (Date.now() > deadline)
          throw new Error(`the shop did not start: ${JSON.stringify(shop.output())}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const res = await fetch(`${shopBase}/checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 2500, product: 'Чайник' }),
      });
      const body = (await res.json()) as { order_id: string; transaction_hash: string; payment_url: string };
      expect(res.status, JSON.stringify(body) + JSON.stringify(shop.output())).toBe(201);
      expect(body.payment_url).toBe(
        `https://fintech.test.nplus.tech/acquirer/payform?params=${body.transaction_hash}`,
      );

      // Paid, cleared, and the callback goes to http://shop:3000, which confirms over HTTPS again.
      const paid = await fetch(`http://127.0.0.1:${port}/__admin/transactions/${body.transaction_hash}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          pan: TEST_CARD,
          exp_month: '12',
          exp_year: String(new Date().getFullYear() + 3),
          cvc: '123',
        }),
      });
      expect(paid.status).toBe(200);
      let status = '';
      const until = Date.now() + 30_000;
      while (status !== 'paid' && Date.now() < until) {
        status = ((await (await fetch(`${shopBase}/orders/${body.order_id}`)).json()) as { status: string })
          .status;
        if (status !== 'paid') await new Promise((r) => setTimeout(r, 200));
      }
      expect(status, JSON.stringify(shop.output())).toBe('paid');
    }, 90_000);
  },
);
