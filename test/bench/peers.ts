import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Launch } from './processes.js';

/**
 * The peers `npm run bench -- --peers` measures beside the sandbox: other mock servers a team
 * might use instead, each given stubs equivalent to the sandbox's status GET. They are installed
 * with npm into a folder of their own under the system temp folder (never the project's
 * dependencies), once per version pair, and started as their own processes.
 */
export const PEER_PACKAGES = {
  /** Prism 5: 5.14.2 is the newest 5.x whose package supports Node 20 (later ones need Node 24). */
  prism: { name: '@stoplight/prism-cli', version: '5.14.2' },
  /** The `wiremock` npm package ships the WireMock standalone jar; it runs on Java 17 or later. */
  wiremock: { name: 'wiremock', version: '3.13.2' },
} as const;

export type PeerName = keyof typeof PEER_PACKAGES;

/** One peer ready to start: how, and what it is called in the report. */
export interface Peer {
  name: PeerName;
  label: string;
  /** Starts the peer; `PORT` is not read by the peers, so the port is in the arguments. */
  launch(port: number): Launch;
}

/** A peer that cannot run here, and why (one line for the report). */
export interface MissingPeer {
  name: PeerName;
  label: string;
  reason: string;
}

/** The status GET the peers stub: its path pattern and the exact answer the sandbox gave. */
export interface StatusStub {
  /** e.g. /api/v1/merchant-widget/payment/ — the hash follows. */
  prefix: string;
  /** The body the sandbox answered for one real transaction (served as is, for any hash). */
  body: string;
}

const installDir = () =>
  join(
    tmpdir(),
    `ktpay-bench-peers-prism${PEER_PACKAGES.prism.version}-wiremock${PEER_PACKAGES.wiremock.version}`,
  );

/**
 * Installs both peers with `npm install` into a folder of their own (kept between runs, so a
 * second bench reuses it). Returns the folder. Throws with npm's message when the install fails.
 */
export function installPeers(log: (line: string) => void): string {
  const dir = installDir();
  const marker = join(dir, 'node_modules', '.ktpay-bench-peers-installed');
  if (existsSync(marker)) return dir;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "name": "ktpay-bench-peers", "private": true }\n');
  const specs = Object.values(PEER_PACKAGES).map((p) => `${p.name}@${p.version}`);
  log(`peers: npm install ${specs.join(' ')} into ${dir} (once; not the project's dependencies)…`);
  const res = spawnSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--no-save', '--loglevel=error', ...specs],
    { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (res.status !== 0)
    throw new Error(`installing the peers failed (npm exited ${res.status}): ${res.stderr.slice(-2000)}`);
  writeFileSync(marker, `${specs.join('\n')}\n`);
  return dir;
}

/** The major version of `java` on PATH, or undefined when there is none. */
export function javaMajor(): number | undefined {
  // `java -version` writes to stderr.
  const res = spawnSync('java', ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (res.error || res.status !== 0) return undefined;
  return parseJavaVersion(`${res.stderr}\n${res.stdout}`);
}

/**
 * The major version in `java -version` output: `openjdk version "17.0.15"` → 17, `"1.8.0_392"` → 8.
 *
 * @example
 * parseJavaVersion('openjdk version "21.0.2" 2024-01-16'); // 21
 */
export function parseJavaVersion(text: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] ? Number(m[2]) : first;
}

/** The standalone jar inside the `wiremock` npm package. */
function wiremockJar(dir: string): string | undefined {
  const pkg = join(dir, 'node_modules', 'wiremock');
  if (!existsSync(pkg)) return undefined;
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() && depth < 3 && e.name !== 'node_modules') walk(join(d, e.name), depth + 1);
      else if (/^wiremock.*standalone.*\.jar$/.test(e.name)) found.push(join(d, e.name));
    }
  };
  walk(pkg, 0);
  return found[0];
}

/**
 * The stubs: a WireMock mapping and a Prism OpenAPI document that answer any
 * `GET {prefix}{40 hex}` with the sandbox's own status body, as `application/json`. Written into
 * `dir`.
 */
export function writeStubs(dir: string, stub: StatusStub): { wiremockRoot: string; prismSpec: string } {
  const wiremockRoot = join(dir, 'wiremock');
  mkdirSync(join(wiremockRoot, 'mappings'), { recursive: true });
  mkdirSync(join(wiremockRoot, '__files'), { recursive: true });
  writeFileSync(
    join(wiremockRoot, 'mappings', 'status-get.json'),
    JSON.stringify(
      {
        request: { method: 'GET', urlPathPattern: `${escapeRegex(stub.prefix)}[0-9a-f]{40}` },
        response: { status: 200, headers: { 'Content-Type': 'application/json' }, body: stub.body },
      },
      null,
      2,
    ),
  );
  const prismSpec = join(dir, 'prism-status.json');
  writeFileSync(
    prismSpec,
    JSON.stringify(
      {
        openapi: '3.0.3',
        info: { title: 'ktpay status GET (bench stub)', version: '1' },
        paths: {
          [`${stub.prefix}{hash}`]: {
            get: {
              parameters: [
                {
                  name: 'hash',
                  in: 'path',
                  required: true,
                  schema: { type: 'string', pattern: '^[0-9a-f]{40}$' },
                },
              ],
              responses: {
                '200': {
                  description: 'the status object, as the sandbox answered it',
                  content: { 'application/json': { example: JSON.parse(stub.body) as unknown } },
                },
              },
            },
          },
        },
      },
      null,
      2,
    ),
  );
  return { wiremockRoot, prismSpec };
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Installs the peers and prepares their stubs. Java is checked first: without Java 17 WireMock is
 * reported as missing (one line), and Prism is still measured.
 */
export function preparePeers(
  stub: StatusStub,
  stubDir: string,
  log: (line: string) => void,
): { peers: Peer[]; missing: MissingPeer[] } {
  const peers: Peer[] = [];
  const missing: MissingPeer[] = [];
  const dir = installPeers(log);
  const { wiremockRoot, prismSpec } = writeStubs(stubDir, stub);
  const prismLabel = `Prism ${PEER_PACKAGES.prism.version}`;
  const prismBin = join(dir, 'node_modules', '@stoplight', 'prism-cli', 'dist', 'index.js');
  if (existsSync(prismBin)) {
    peers.push({
      name: 'prism',
      label: prismLabel,
      launch: (port) => ({
        command: process.execPath,
        args: [prismBin, 'mock', prismSpec, '--port', String(port), '--host', '127.0.0.1'],
        cwd: stubDir,
      }),
    });
  } else {
    missing.push({ name: 'prism', label: prismLabel, reason: `not found after npm install (${prismBin})` });
  }
  const wmLabel = `WireMock ${PEER_PACKAGES.wiremock.version}`;
  const java = javaMajor();
  const jar = wiremockJar(dir);
  if (java === undefined || java < 17) {
    missing.push({
      name: 'wiremock',
      label: wmLabel,
      reason: `skipped: WireMock needs Java 17 or later, and ${java === undefined ? 'there is no `java` on PATH' : `java is version ${java}`} (Debian: apt-get install openjdk-17-jre-headless)`,
    });
  } else if (!jar) {
    missing.push({
      name: 'wiremock',
      label: wmLabel,
      reason: 'the wiremock package holds no standalone jar',
    });
  } else {
    peers.push({
      name: 'wiremock',
      label: wmLabel,
      launch: (port) => ({
        command: 'java',
        args: [
          '-jar',
          jar,
          '--port',
          String(port),
          '--bind-address',
          '127.0.0.1',
          '--root-dir',
          wiremockRoot,
          '--disable-banner',
        ],
        cwd: stubDir,
      }),
    });
  }
  return { peers, missing };
}
