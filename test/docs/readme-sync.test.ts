import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { ENV_VARS } from '../../mock-server/config/load-config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README stays in sync with the data', () => {
  it('has a row for every catalog code, with its exact message', () => {
    for (const e of errorCatalog.ktpay) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${e.code}\` |`));
      expect(row, `README error-code table has no row for ${e.code}`).toBeDefined();
      expect(row).toContain(e.message);
      expect(row).toContain(e.documented ? '| doc |' : '| mock |');
    }
  });

  it('documents every environment variable', () => {
    for (const name of [...Object.keys(ENV_VARS), 'KTPAY_MOCK_CONFIG']) {
      expect(readme, `README configuration table lacks ${name}`).toContain(`| \`${name}\` |`);
    }
  });

  it('shows the two commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});

describe('contracts/data/error-catalog.json', () => {
  const shared = new URL('../../../shared/spec/error-catalog.json', import.meta.url);
  it.runIf(existsSync(shared))('holds every documented code of the spec catalog, text for text', () => {
    const spec = JSON.parse(readFileSync(shared, 'utf8')) as typeof errorCatalog;
    const documented = errorCatalog.ktpay.filter((e) => e.documented);
    expect(documented.map((e) => ({ code: e.code, message: e.message, hint: e.hint }))).toEqual(
      spec.ktpay.map((e) => ({ code: e.code, message: e.message, hint: e.hint })),
    );
    expect(errorCatalog.acquirer).toEqual(spec.acquirer);
  });

  it('marks every sandbox-only code undocumented, in the 3+4 digit scheme, with an English text', () => {
    for (const e of errorCatalog.ktpay) {
      expect(String(e.code)).toMatch(/^\d{7}$/);
      expect(e.http_status).toBe(Number(String(e.code).slice(0, 3)));
      if (!e.documented) expect(e.message_en).toEqual(expect.any(String));
    }
    expect(new Set(errorCatalog.ktpay.map((e) => e.code)).size).toBe(errorCatalog.ktpay.length);
  });
});

describe('README scenario table', () => {
  it('has one row per built-in scenario file, with its description', async () => {
    const { createSchemaRegistry } = await import('../../contracts/schema-registry.js');
    const { loadScenarioDir, BUILTIN_SCENARIO_DIR } =
      await import('../../mock-server/scenarios/scenario-library.js');
    const library = loadScenarioDir(BUILTIN_SCENARIO_DIR, createSchemaRegistry());
    const rows = readme.split('\n').filter((l) => /^\| `[a-z0-9-]+` \| [a-z_, ]+ \|/.test(l));
    expect(rows).toHaveLength(library.length);
    for (const s of library) {
      const row = rows.find((l) => l.startsWith(`| \`${s.name}\` |`));
      expect(row, `README lacks a row for scenario ${s.name}`).toBeDefined();
      expect(row).toContain(s.description);
    }
  });
});
