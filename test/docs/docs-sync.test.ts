import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { ENV_VARS } from '../../mock-server/config/load-config.js';
import { commandFlags } from '../helpers/cli-flags.js';
import { docSection, readDocPage } from '../helpers/docs-page.js';
import { linkTargets } from './link-check.js';

const readme = readDocPage('README.md');

describe('the docs stay in sync with the data', () => {
  it('docs/error-codes.md has a row for every catalog code, with its exact message', () => {
    const page = readDocPage('docs/error-codes.md').split('\n');
    for (const e of errorCatalog.ktpay) {
      const row = page.find((l) => l.startsWith(`| \`${e.code}\` |`));
      expect(row, `the error-code table has no row for ${e.code}`).toBeDefined();
      expect(row).toContain(e.message);
      expect(row).toContain(e.documented ? '| doc |' : '| mock |');
    }
  });

  it('docs/configuration.md names every flag of `serve`', () => {
    const flags = commandFlags('serve');
    expect(flags).toEqual(expect.arrayContaining(['--port', '--config', '--tls']));
    const table = docSection('docs/configuration.md', 'Flags');
    for (const f of flags)
      expect(table, `the configuration reference lacks ${f}`).toMatch(
        new RegExp(`^\\| \`(?:-\\w, )?${f}[ \`]`, 'm'),
      );
  });

  it('docs/configuration.md documents every environment variable', () => {
    const page = readDocPage('docs/configuration.md');
    for (const name of [...Object.keys(ENV_VARS), 'KTPAY_MOCK_CONFIG']) {
      expect(page, `the configuration reference lacks ${name}`).toContain(`| \`${name}\` |`);
    }
  });
});

describe('README.md', () => {
  it('shows the two commands', () => {
    expect(docSection('README.md', 'The two commands')).toContain('npm ci && npm start');
    expect(docSection('README.md', 'The two commands')).toContain('npm test');
  });

  it('is 250 lines or fewer', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(250);
  });

  it('leads to the configuration reference, the error-code and test-card tables, Limitations and what is [mock]', () => {
    const links = linkTargets(readme);
    for (const target of [
      'docs/configuration.md',
      'docs/error-codes.md',
      'docs/shopper-journey.md#test-cards',
      'docs/limitations.md',
      'docs/beyond-the-public-docs.md',
    ])
      expect(links, target).toContain(target);
    expect(docSection('README.md', 'Limitations')).toContain('docs/limitations.md');
    expect(docSection('README.md', 'Where the sandbox goes beyond the public docs')).toContain(
      'docs/beyond-the-public-docs.md',
    );
  });

  it('shows the two screenshots', () => {
    const images = linkTargets(readDocPage('README.md'));
    expect(images).toContain('docs/images/demo-payment.png');
    expect(images).toContain('docs/images/dashboard.png');
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

describe('docs/scenarios.md: the built-in library table', () => {
  it('has one row per built-in scenario file, with its description', async () => {
    const { createSchemaRegistry } = await import('../../contracts/schema-registry.js');
    const { loadScenarioDir, BUILTIN_SCENARIO_DIR } =
      await import('../../mock-server/scenarios/scenario-library.js');
    const library = loadScenarioDir(BUILTIN_SCENARIO_DIR, createSchemaRegistry());
    const table = docSection('docs/scenarios.md', 'The built-in library');
    const rows = table.split('\n').filter((l) => /^\| `[a-z0-9-]+` \| [a-z_, ]+ \|/.test(l));
    expect(rows).toHaveLength(library.length);
    for (const s of library) {
      const row = rows.find((l) => l.startsWith(`| \`${s.name}\` |`));
      expect(row, `docs/scenarios.md lacks a row for scenario ${s.name}`).toBeDefined();
      expect(row).toContain(s.description);
    }
  });
});
