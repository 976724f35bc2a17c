/**
 * Lints docker/Dockerfile (dockerfile-utils, the validator behind VS Code's Dockerfile support;
 * hadolint is in neither npm nor Debian 12) and checks the rules we hold it to at parser level,
 * runs its HEALTHCHECK command against a real socket, and checks that .dockerignore, compose.yaml,
 * the CI examples and the recipes in docs/ agree with the image.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { DEFAULT_PORT, ENV_VARS } from '../../mock-server/config/load-config.js';
import { KTPAY_TEST_HOSTS } from '../../mock-server/tls/tls-dir.js';
import { docSection } from '../helpers/docs-page.js';
import { buildTestApp } from '../helpers/sandbox.js';
import {
  aptPackages,
  durationMs,
  loadDockerignore,
  parseDockerfile,
  userIds,
  type Stage,
  type Step,
} from './dockerfile-model.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');
const dockerfileText = read('docker/Dockerfile');
const model = parseDockerfile(dockerfileText);
const finalStage = model.stages.at(-1)!;
const stepsOf = <K extends Step['kind']>(stage: Stage, kind: K) =>
  stage.steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === kind);
const allSteps = <K extends Step['kind']>(kind: K) => model.stages.flatMap((s) => stepsOf(s, kind));

/** Environment names the sandbox reads (docs/configuration.md), plus the config file path. */
const KNOWN_ENV = new Set([...Object.keys(ENV_VARS), 'KTPAY_MOCK_CONFIG']);

describe('docker/Dockerfile', () => {
  it('passes dockerfile-utils validation with every rule turned on', () => {
    const all: ValidatorSettings = {
      deprecatedMaintainer: ValidationSeverity.ERROR,
      directiveCasing: ValidationSeverity.ERROR,
      emptyContinuationLine: ValidationSeverity.ERROR,
      instructionCasing: ValidationSeverity.ERROR,
      instructionCmdMultiple: ValidationSeverity.ERROR,
      instructionEntrypointMultiple: ValidationSeverity.ERROR,
      instructionHealthcheckMultiple: ValidationSeverity.ERROR,
      instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
      instructionWorkdirRelative: ValidationSeverity.ERROR,
    };
    const problems = validate(dockerfileText, all).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
    // The linter does flag a broken file, so an empty list means something.
    expect(
      validate('FROM node:20-bookworm-slim\nHEALTHCHECK --interval=soon CMD true\nFOO bar\n', all).length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('is multi-stage: named build stages, a slim Node 20/22 runtime, pinned tags', () => {
    expect(model.stages.length).toBeGreaterThanOrEqual(2);
    const names = model.stages.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const stage of model.stages) {
      expect(stage.name, 'every stage is named').toMatch(/^[a-z][a-z0-9-]*$/);
      expect(stage.imageName).toBe('node');
      expect(stage.imageTag, `${stage.image} has a tag`).toMatch(/^(20|22)(\.\d+)*-bookworm-slim$/);
    }
    // Every COPY --from names an earlier stage.
    model.stages.forEach((stage, i) => {
      for (const copy of stepsOf(stage, 'COPY')) {
        if (copy.from !== undefined) expect(names.slice(0, i)).toContain(copy.from);
      }
    });
    // The runtime stage installs nothing: it only copies the finished tree.
    expect(stepsOf(finalStage, 'RUN')).toEqual([]);
    expect(stepsOf(finalStage, 'COPY').every((c) => c.from !== undefined)).toBe(true);
  });

  it('builds with npm ci, installs production dependencies only, and cleans apt lists', () => {
    const runs = allSteps('RUN').map((r) => r.command);
    expect(runs.some((r) => /\bnpm install\b/.test(r))).toBe(false);
    expect(runs.some((r) => /\bnpm ci\b(?!.*--omit=dev)/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm ci --omit=dev\b/.test(r))).toBe(true);
    // No lifecycle scripts in the production install (the package's `prepare` needs tsc);
    // the native addon is rebuilt explicitly instead.
    const prod = runs.find((r) => /npm ci --omit=dev/.test(r))!;
    expect(prod).toContain('--ignore-scripts');
    expect(prod).toContain('npm rebuild better-sqlite3');
    for (const run of runs.filter((r) => aptPackages(r))) {
      expect(run).toContain('--no-install-recommends');
      expect(run).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
    }
    // WORKDIR instead of cd, so the test's replay knows each RUN's directory.
    expect(runs.some((r) => /(^|&&|;)\s*cd\s/.test(r))).toBe(false);
  });

  it('runs as a non-root numeric user with the ktpay-mock entrypoint, default serve, on the default port', () => {
    const user = stepsOf(finalStage, 'USER').at(-1)!.user;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(userIds(user).uid).not.toBe(0);
    const entrypoint = stepsOf(finalStage, 'ENTRYPOINT').at(-1)!;
    expect(entrypoint).toMatchObject({ execForm: true, argv: ['ktpay-mock'] });
    expect(stepsOf(finalStage, 'CMD').at(-1)).toMatchObject({ execForm: true, argv: ['serve'] });
    // HTTP first (GitLab waits for the first exposed port), then 443 for TLS_PORT=443.
    expect(stepsOf(finalStage, 'EXPOSE').flatMap((e) => e.ports)).toEqual([String(DEFAULT_PORT), '443']);
    expect(stepsOf(finalStage, 'STOPSIGNAL').at(-1)?.signal ?? 'SIGTERM').toBe('SIGTERM');
  });

  it('sets only HOST, TLS_DIR and housekeeping in ENV, so PORT, STORE and the rest stay free for -e and a mounted file', () => {
    const env = Object.fromEntries(stepsOf(finalStage, 'ENV').flatMap((e) => e.pairs));
    expect(env.HOST).toBe('0.0.0.0');
    for (const name of Object.keys(env)) {
      expect(['NODE_ENV', 'PATH', 'HOST', 'TLS_DIR'], `ENV ${name}`).toContain(name);
    }
  });

  it("makes TLS_DIR a folder of the image user's own, so a named volume there starts writable for it", () => {
    const env = Object.fromEntries(stepsOf(finalStage, 'ENV').flatMap((e) => e.pairs));
    const user = stepsOf(finalStage, 'USER').at(-1)!.user;
    const copy = stepsOf(finalStage, 'COPY').find((c) => c.dest.replace(/\/$/, '') === env.TLS_DIR);
    expect(copy, `a COPY creating ${env.TLS_DIR}`).toBeDefined();
    expect(userIds(copy!.chown!)).toEqual(userIds(user));
    // TLS stays off unless TLS_PORT is given: the image sets none.
    expect(env.TLS_PORT).toBeUndefined();
  });

  it('has a node HEALTHCHECK against /__admin/health that honours PORT and ADMIN_TOKEN', () => {
    const checks = stepsOf(finalStage, 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const hc = checks[0]!;
    expect(hc.test).not.toBe('NONE');
    const test = hc.test as string[];
    expect(test.slice(0, 2)).toEqual(['node', '-e']);
    expect(test[2]).toContain('/__admin/health');
    expect(test[2]).toContain('process.env.PORT');
    expect(test[2]).toContain('process.env.ADMIN_TOKEN');
    for (const flag of ['interval', 'timeout', 'start-period'])
      expect(durationMs(hc.flags[flag]!)).toBeGreaterThan(0);
    expect(durationMs(hc.flags.timeout!)).toBeLessThan(durationMs(hc.flags.interval!));
    expect(Number(hc.flags.retries)).toBeGreaterThanOrEqual(1);
  });

  it('uses only instructions the container test can replay', () => {
    expect(allSteps('UNSUPPORTED')).toEqual([]);
    for (const run of allSteps('RUN').filter((r) => !aptPackages(r.command))) {
      expect(run.command, `line ${run.line}`).not.toMatch(/(^|[\s=:'"(])\/[A-Za-z]/);
    }
  });
});

describe('the Dockerfile HEALTHCHECK command', () => {
  let app: FastifyInstance;
  let port = 0;
  const token = 'health-check-token';
  const test = (stepsOf(finalStage, 'HEALTHCHECK')[0]!.test as string[]).slice(1);
  // Async: the sandbox answering the probe lives in this process's event loop.
  const probe = (env: Record<string, string>) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, test, {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: 'ignore',
        timeout: 10_000,
      });
      child.on('exit', (code) => resolve(code));
    });

  beforeAll(async () => {
    app = await buildTestApp({ admin_token: token });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app.close();
  });

  it('passes with the port and token the container runs with', async () => {
    expect(await probe({ PORT: String(port), ADMIN_TOKEN: token })).toBe(0);
  });

  it('fails when the sandbox answers 401 (token missing or wrong) or nothing listens', async () => {
    expect(await probe({ PORT: String(port) })).toBe(1);
    expect(await probe({ PORT: String(port), ADMIN_TOKEN: 'wrong' })).toBe(1);
    expect(await probe({ PORT: '1', ADMIN_TOKEN: token })).toBe(1);
  });
});

describe('.dockerignore', () => {
  const ignore = loadDockerignore(REPO);

  it('keeps local builds, dependencies, VCS data, tests and databases out of the build context', () => {
    for (const path of [
      'node_modules/fastify/package.json',
      'dist/mock-server/cli.js',
      '.git/HEAD',
      'test/helpers/sandbox.ts',
      'reports/vitest.json',
      'data.db',
      'README.md',
      'docs/images/dashboard.png',
      'mock-server/payments/payment-state.test.ts',
    ]) {
      expect(ignore.ignores(path), path).toBe(true);
    }
  });

  it('sends everything the build reads: package files, tsconfigs and the compiled folders', () => {
    const tsconfigBuild = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    const pkg = JSON.parse(read('package.json')) as { files: string[] };
    const needed = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      ...tsconfigBuild.include,
      ...pkg.files.filter((f) => f !== 'dist'),
    ];
    for (const path of needed) expect(ignore.ignores(path), path).toBe(false);
    expect(ignore.ignores('mock-server/app.ts')).toBe(false);
    expect(ignore.ignores('contracts/data/error-catalog.json')).toBe(false);
    // Context sources the Dockerfile names exist and are not ignored.
    for (const copy of allSteps('COPY').filter((c) => c.from === undefined)) {
      for (const source of copy.sources.filter((s) => s !== '.')) {
        expect(existsSync(join(REPO, source)), source).toBe(true);
        expect(ignore.ignores(source), source).toBe(false);
      }
    }
  });
});

/** The example correct merchant's code, where every variable compose gives it must be read. */
function correctShopSources(): string {
  const dir = join(REPO, 'test/fixtures/merchants/correct');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

function envNamesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v).split('=')[0]!);
  return Object.keys((value ?? {}) as Record<string, unknown>);
}

describe('docker/compose.yaml', () => {
  const compose = parseYaml(read('docker/compose.yaml')) as {
    services: Record<
      string,
      {
        build?: { context: string; dockerfile: string };
        image?: string;
        ports?: string[];
        environment?: unknown;
        depends_on?: Record<string, { condition: string }>;
        entrypoint?: string[];
        volumes?: string[];
      }
    >;
  };

  it('builds the sandbox from the repository root with docker/Dockerfile and publishes its port', () => {
    const sandbox = compose.services['ktpay-mock']!;
    expect(sandbox.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    expect(sandbox.ports).toContain(`${DEFAULT_PORT}:${DEFAULT_PORT}`);
    for (const name of envNamesOf(sandbox.environment)) expect(KNOWN_ENV, name).toContain(name);
  });

  it('starts the example correct merchant once the sandbox is healthy', () => {
    const merchant = compose.services.merchant!;
    expect(merchant.depends_on?.['ktpay-mock']?.condition).toBe('service_healthy');
    expect(merchant.entrypoint?.join(' ')).toContain('test/fixtures/merchants/correct/');
    expect(merchant.volumes?.some((v) => v.startsWith('../test/fixtures/merchants/correct:'))).toBe(true);
    // The mounted fixture holds the script, and reads every variable compose gives it.
    const script = merchant.entrypoint!.at(-1)!;
    expect(existsSync(join(REPO, script)), script).toBe(true);
    const sources = correctShopSources();
    for (const name of envNamesOf(merchant.environment))
      expect(sources, name).toContain(`process.env.${name}`);
  });
});

describe('CI examples', () => {
  it('GitHub Actions: the image as a service container with health options, and a job running ktpay-mock run', () => {
    const wf = parseYaml(read('docker/examples/github-actions.yml')) as {
      jobs: Record<
        string,
        {
          services?: Record<string, { image: string; ports: string[]; env?: unknown; options?: string }>;
          steps: { run?: string }[];
        }
      >;
    };
    const jobs = Object.values(wf.jobs);
    const job = jobs.find((j) => j.services)!;
    const service = Object.values(job.services!)[0]!;
    expect(service.ports).toContain(`${DEFAULT_PORT}:${DEFAULT_PORT}`);
    expect(service.options).toMatch(/--health-interval/);
    for (const name of envNamesOf(service.env)) expect(KNOWN_ENV, name).toContain(name);
    const runner = job.steps.map((s) => s.run ?? '').find((r) => /\brun --sandbox\b/.test(r));
    expect(runner).toBeDefined();
  });

  it('GitLab CI: the image under services: with an alias, and a job running ktpay-mock run', () => {
    const ci = parseYaml(read('docker/examples/gitlab-ci.yml')) as Record<
      string,
      { services?: { name: string; alias: string; variables?: unknown }[]; script?: string[] }
    >;
    const job = Object.values(ci).find((j) => typeof j === 'object' && j !== null && 'services' in j)!;
    const service = job.services![0]!;
    expect(service.alias).toBe('ktpay');
    for (const name of envNamesOf(service.variables)) expect(KNOWN_ENV, name).toContain(name);
    expect(job.script!.some((line) => /^ktpay-mock run --sandbox http:\/\/ktpay:8077\b/.test(line))).toBe(
      true,
    );
  });
});

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  ports?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  entrypoint?: string[];
  volumes?: string[];
  sysctls?: Record<string, number | string>;
  networks?: Record<string, { aliases?: string[] }>;
}

describe('docker/compose.drop-in.yaml', () => {
  const compose = parseYaml(read('docker/compose.drop-in.yaml')) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  const sandbox = compose.services['ktpay-mock']!;
  const shop = compose.services.shop!;
  const imageEnv = Object.fromEntries(stepsOf(finalStage, 'ENV').flatMap((e) => e.pairs));
  const volumeAt = (service: ComposeService, path: string) =>
    service.volumes?.find((v) => v.split(':')[1] === path)?.split(':')[0];

  it('gives the sandbox the three ktpay test hosts as network aliases and HTTPS on 443, from the image', () => {
    expect(sandbox.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    expect(sandbox.networks?.default?.aliases).toEqual([...KTPAY_TEST_HOSTS]);
    expect(sandbox.environment?.TLS_PORT).toBe('443');
    // The image's non-root user binds 443: spelled out for engines that do not allow it by default.
    expect(Number(sandbox.sysctls?.['net.ipv4.ip_unprivileged_port_start'])).toBe(0);
    for (const name of envNamesOf(sandbox.environment)) expect(KNOWN_ENV, name).toContain(name);
  });

  it("keeps the CA in a named volume at the image's TLS_DIR, which the shop mounts read-only and trusts", () => {
    const volume = volumeAt(sandbox, imageEnv.TLS_DIR!);
    expect(volume, `a volume at ${imageEnv.TLS_DIR}`).toBeDefined();
    expect(compose.volumes).toHaveProperty(volume!);
    const mount = shop.volumes!.find((v) => v.startsWith(`${volume}:`))!;
    expect(mount.endsWith(':ro')).toBe(true);
    const [, at] = mount.split(':');
    expect(shop.environment?.NODE_EXTRA_CA_CERTS).toBe(`${at}/ca.pem`);
  });

  it('runs the shop unchanged, pointed at the real test host, once the sandbox is healthy', () => {
    expect(shop.depends_on?.['ktpay-mock']?.condition).toBe('service_healthy');
    expect(shop.environment?.KTPAY_API_URL).toBe('https://fintech.test.nplus.tech');
    const sources = correctShopSources();
    // Every variable is one the shop reads, or Node's own.
    for (const name of envNamesOf(shop.environment).filter((n) => n !== 'NODE_EXTRA_CA_CERTS'))
      expect(sources, name).toContain(`process.env.${name}`);
  });
});

describe('CI examples for the drop-in', () => {
  it('GitHub Actions: the service on 443 with TLS_PORT, the names mapped and the CA trusted before the shop runs', () => {
    const wf = parseYaml(read('docker/examples/github-actions-drop-in.yml')) as {
      jobs: Record<
        string,
        {
          services?: Record<
            string,
            { image: string; ports: string[]; env?: Record<string, string>; options?: string }
          >;
          steps: { run?: string }[];
        }
      >;
    };
    const job = Object.values(wf.jobs).find((j) => j.services)!;
    const service = Object.values(job.services!)[0]!;
    expect(service.ports).toContain('443:443');
    expect(service.env?.TLS_PORT).toBe('443');
    expect(service.options).toContain('--sysctl net.ipv4.ip_unprivileged_port_start=0');
    for (const name of envNamesOf(service.env)) expect(KNOWN_ENV, name).toContain(name);
    const setup = job.steps.map((s) => s.run ?? '').find((r) => r.includes('/etc/hosts'))!;
    expect(setup).toContain(`127.0.0.1 ${KTPAY_TEST_HOSTS.join(' ')}`);
    expect(setup).toContain('/__admin/tls/ca.pem');
    expect(setup).toContain('update-ca-certificates');
  });

  it('GitLab CI: the service under the ktpay test hosts as aliases, with TLS_PORT, and the CA trusted', () => {
    const ci = parseYaml(read('docker/examples/gitlab-ci-drop-in.yml')) as Record<
      string,
      {
        services?: { name: string; alias: string; variables?: Record<string, string> }[];
        before_script?: string[];
      }
    >;
    const job = Object.values(ci).find((j) => typeof j === 'object' && j !== null && 'services' in j)!;
    const service = job.services![0]!;
    expect(service.alias.split(/[,\s]+/)).toEqual(['ktpay', ...KTPAY_TEST_HOSTS]);
    expect(service.variables?.TLS_PORT).toBe('443');
    for (const name of envNamesOf(service.variables)) expect(KNOWN_ENV, name).toContain(name);
    expect(job.before_script!.join('\n')).toContain('http://ktpay:8077/__admin/tls/ca.pem');
  });
});

describe('docs/ci-and-docker.md and docs/drop-in.md', () => {
  it('"Use in CI" shows the GitHub Actions service container and the GitLab services: recipe, as valid YAML', () => {
    const ci = docSection('docs/ci-and-docker.md', 'Use in CI');
    const blocks = [...ci.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) {
      for (const doc of parseAllDocuments(block)) expect(doc.errors).toEqual([]);
    }
    expect(blocks.some((b) => /\n\s*services:\n[\s\S]*--health-interval/.test(b) && /runs-on:/.test(b))).toBe(
      true,
    );
    expect(blocks.some((b) => /services:\n\s*- name: /.test(b) && /alias: ktpay/.test(b))).toBe(true);
    expect(ci).toContain('docker/examples/github-actions.yml');
    expect(ci).toContain('docker/examples/gitlab-ci.yml');
  });

  it('"Drop-in for unmodified clients" has the three setups and points at their files', () => {
    const dropIn = docSection('docs/drop-in.md', 'Drop-in for unmodified clients');
    for (const needle of [
      '## On a laptop',
      '## With docker compose',
      '## As a CI service',
      'ktpay-mock tls init',
      'ktpay-mock tls env',
      'docker/compose.drop-in.yaml',
      'docker/examples/github-actions-drop-in.yml',
      'docker/examples/gitlab-ci-drop-in.yml',
    ])
      expect(dropIn, needle).toContain(needle);
  });

  it('"Run with Docker" gives the build, run and compose commands and says what was and was not proven', () => {
    const docker = docSection('docs/ci-and-docker.md', 'Run with Docker');
    expect(docker).toContain('docker build -f docker/Dockerfile');
    expect(docker).toContain('docker run');
    expect(docker).toContain('docker compose -f docker/compose.yaml up');
    expect(docker).toContain('test/container/');
  });
});
