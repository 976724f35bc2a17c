import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import {
  ConfigError,
  ENV_VARS,
  loadConfig,
  type SandboxConfig,
} from '../../mock-server/config/load-config.js';
import {
  anyText,
  fuzzRuns,
  fuzzTimeout,
  nearValid,
  oddNumber,
  runTarget,
  wrongType,
} from './fuzz-harness.js';

/**
 * The config file as a fuzz target (issue 11 §1): random YAML and JSON documents, near-valid
 * settings, YAML alias bombs and random environment values go through `loadConfig`, which must
 * either return a frozen configuration or throw a ConfigError with a message — never anything else.
 */

const RUNS = fuzzRuns();
const dir = mkdtempSync(join(tmpdir(), 'ktpay-config-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const url = fc.oneof(
  fc.webUrl(),
  fc.constantFrom('http://localhost:3000/cb', 'ftp://x', 'http://'),
  anyText(20),
);
const settings = {
  port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), oddNumber, fc.constantFrom('8077', '0x1F')),
  host: fc.oneof(fc.constantFrom('127.0.0.1', '0.0.0.0', '::', ''), anyText(10)),
  public_url: url,
  admin_token: fc.oneof(anyText(20), wrongType),
  log_level: fc.oneof(fc.constantFrom('info', 'silent', 'debug', 'verbose'), wrongType),
  store: fc.oneof(
    fc.constantFrom('memory', 'sqlite:', 'sqlite::memory:', 'sqlite:./x.db', 'redis://x'),
    anyText(10),
  ),
  envelope: fc.oneof(fc.constantFrom('reference', 'widget', 'both'), wrongType),
  body_limit: fc.oneof(fc.integer({ min: 0, max: 20_000_000 }), oddNumber),
  max_header_size: fc.oneof(fc.integer({ min: 0, max: 2_000_000 }), oddNumber),
  journal_size: fc.oneof(fc.integer({ min: -1, max: 2_000_000 }), oddNumber),
  clearing_delay_ms: fc.oneof(
    fc.integer({ min: -5, max: 10_000 }),
    fc.constantFrom('manual', 'auto'),
    oddNumber,
  ),
  default_merchant: fc.oneof(
    fc.record(
      {
        enabled: fc.oneof(fc.boolean(), wrongType),
        domains: fc.oneof(fc.array(fc.oneof(fc.domain(), anyText(8)), { maxLength: 3 }), wrongType),
        envelope: fc.constantFrom('reference', 'widget', 'x'),
        locale: fc.constantFrom('ru', 'en', 'kk'),
        callback_post_url: url,
        notify_on: fc.oneof(
          fc.array(fc.constantFrom('cancelled', 'refunded', 'completed'), { maxLength: 2 }),
          wrongType,
        ),
        extra: wrongType,
      },
      { requiredKeys: [] },
    ),
    wrongType,
  ),
  merchants: fc.oneof(
    fc.array(
      fc.record(
        {
          name: fc.oneof(anyText(20), wrongType),
          domains: fc.oneof(fc.array(fc.domain(), { maxLength: 2 }), wrongType),
          public_key: fc.oneof(
            fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')),
            anyText(44),
          ),
          app_id: fc.oneof(
            fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }),
            anyText(10),
          ),
          envelope: fc.constantFrom('reference', 'widget', 'x'),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
    wrongType,
  ),
  callbacks: fc.oneof(
    fc.record(
      {
        timeout_ms: fc.oneof(fc.integer({ min: -1, max: 700_000 }), oddNumber),
        schedule_ms: fc.oneof(fc.array(fc.oneof(fc.nat(), oddNumber), { maxLength: 60 }), wrongType),
        time_scale: fc.oneof(fc.double(), oddNumber),
        concurrency: fc.oneof(fc.integer({ min: -1, max: 2000 }), oddNumber),
        allow_hosts: fc.oneof(fc.array(anyText(10), { maxLength: 2 }), wrongType),
        max_pending: fc.oneof(fc.integer({ min: -1, max: 10 }), oddNumber),
      },
      { requiredKeys: [] },
    ),
    wrongType,
  ),
  scenario: fc.oneof(fc.constantFrom('flaky-create', ''), anyText(10), wrongType),
  rate_limit: fc.oneof(
    fc.record(
      {
        max: fc.oneof(fc.integer({ min: -1, max: 100 }), oddNumber),
        window_ms: fc.oneof(fc.integer({ min: -1, max: 100_000 }), oddNumber),
      },
      { requiredKeys: [] },
    ),
    wrongType,
  ),
  unknown_setting: fc.jsonValue({ maxDepth: 2 }),
};
const valid = fc.record({
  port: fc.integer({ min: 0, max: 65_535 }),
  clearing_delay_ms: fc.constantFrom(0, 500, 'manual'),
  journal_size: fc.integer({ min: 1, max: 5000 }),
});

type Doc = { kind: 'json' | 'yaml'; text: string };
const document = fc.oneof(
  { weight: 4, arbitrary: nearValid(valid, settings).map((o): Doc => ({ kind: 'yaml', text: toYaml(o) })) },
  {
    weight: 3,
    arbitrary: fc
      .record(settings, { requiredKeys: [] })
      .chain((o) =>
        fc.constantFrom<Doc>({ kind: 'json', text: JSON.stringify(o) }, { kind: 'yaml', text: toYaml(o) }),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .jsonValue({ maxDepth: 4 })
      .chain((v) =>
        fc.constantFrom<Doc>(
          { kind: 'json', text: JSON.stringify(v) ?? 'null' },
          { kind: 'yaml', text: toYaml(v) },
        ),
      ),
  },
  {
    weight: 1,
    arbitrary: anyText(300).chain((t) =>
      fc.constantFrom<Doc>({ kind: 'json', text: t }, { kind: 'yaml', text: t }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Doc>(
      // A YAML alias bomb ("billion laughs"), a document stream, tags, a merge key, a BOM, an empty file.
      {
        kind: 'yaml',
        text: 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
      },
      { kind: 'yaml', text: 'port: 1\n---\nport: 2\n' },
      { kind: 'yaml', text: 'port: !!str 8077\nhost: !!binary aGVsbG8=\n' },
      { kind: 'yaml', text: 'base: &b {port: 1}\n<<: *b\n' },
      { kind: 'yaml', text: '\uFEFFport: 8077\n' },
      { kind: 'json', text: '' },
      { kind: 'yaml', text: '__proto__: {admin_token: x}\nconstructor: {prototype: {polluted: true}}\n' },
      { kind: 'json', text: '{"__proto__": {"polluted": true}, "port": 1}' },
      { kind: 'yaml', text: '__proto__: {port: "abc", journal_size: -5}\n' },
    ),
  },
);
const envNames = Object.keys(ENV_VARS);
const env = fc.dictionary(
  fc.constantFrom(...envNames),
  fc.oneof(anyText(20), fc.constantFrom('0', '-1', '1e999', 'manual', '[]', '[{"name":1}]', 'a,b,,c', ' ')),
  { maxKeys: 4 },
);

function isDeepFrozen(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  return Object.isFrozen(v) && Object.values(v).every(isDeepFrozen);
}

describe('config fuzz', () => {
  it(
    `random YAML/JSON config files and environments load or throw ConfigError (${RUNS} runs)`,
    { timeout: fuzzTimeout(RUNS, 60) },
    async () => {
      let loaded = 0;
      let refused = 0;
      let n = 0;
      await runTarget({
        target: 'config file',
        runs: RUNS,
        seed: 901,
        arbitrary: fc.tuple(document, env, fc.boolean()),
        run: async ([doc, vars, withEnv]) => {
          const file = join(dir, `c${++n % 8}.${doc.kind === 'json' ? 'json' : 'yaml'}`);
          writeFileSync(file, doc.text);
          let config: SandboxConfig;
          try {
            config = loadConfig({ file, env: withEnv ? vars : {} });
          } catch (err) {
            if (!(err instanceof ConfigError))
              throw new Error(
                `loadConfig threw ${String(err)} (not a ConfigError) for ${doc.kind}: ${doc.text.slice(0, 200)}`,
              );
            if (!err.message.trim()) throw new Error('a ConfigError without a message');
            refused++;
            return;
          }
          loaded++;
          if (!isDeepFrozen(config)) throw new Error('a loaded config is not frozen');
          if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65_535)
            throw new Error(`port ${config.port} loaded`);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      });
      console.info(`config fuzz: ${loaded} loaded, ${refused} refused with a ConfigError`);
      expect(loaded).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    },
  );
});
