import { createHash } from 'node:crypto';
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
  /** The documented part of a catalog: code, exact wire text and hint per code, and the acquirer groups. */
  const documentedPart = (c: typeof errorCatalog, onlyDocumented: boolean) =>
    JSON.stringify({
      ktpay: c.ktpay
        .filter((e) => !onlyDocumented || e.documented)
        .map((e) => ({ code: e.code, message: e.message, hint: e.hint })),
      acquirer: c.acquirer,
    });
  // sha256 of that part of shared/spec/error-catalog.json (12 documented codes), taken from the spec
  // file: the check holds in a clone that has no copy of the spec beside it, as on CI.
  const SPEC_DIGEST = 'c5aa41323e9785a2bcfce64b401ead2ce3fec4392abad360e9139284bddce074';
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

  it('holds every documented code of the spec catalog, text for text', () => {
    expect(sha256(documentedPart(errorCatalog, true))).toBe(SPEC_DIGEST);
    // Next to the design folder (the project's own machines), compare with the spec file itself too.
    const shared = new URL('../../../shared/spec/error-catalog.json', import.meta.url);
    if (existsSync(shared)) {
      const spec = JSON.parse(readFileSync(shared, 'utf8')) as typeof errorCatalog;
      expect(sha256(documentedPart(spec, false))).toBe(SPEC_DIGEST);
      expect(documentedPart(errorCatalog, true)).toBe(documentedPart(spec, false));
    }
  });

  it('the digest check fails when one documented text changes', () => {
    const changed = structuredClone(errorCatalog);
    const first = changed.ktpay.find((e) => e.documented)!;
    first.message = `${first.message} `;
    expect(sha256(documentedPart(changed, true))).not.toBe(SPEC_DIGEST);
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
