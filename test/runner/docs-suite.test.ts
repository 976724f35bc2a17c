import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { RUNNER_CHECKS } from '../../contracts/schemas/check-config.js';
import { STEPS } from '../../scenarios/runner/steps/index.js';
import { loadSuites } from '../../scenarios/runner/suite-loader.js';
import { commandFlags } from '../helpers/cli-flags.js';
import { readDocPage } from '../helpers/docs-page.js';

const section = readDocPage('docs/runner.md');

describe('docs/runner.md, "Check your integration"', () => {
  it('has one row per merchant-checks file, in order, with its description and activated scenario', () => {
    const suite = loadSuites(['merchant-checks'], createSchemaRegistry());
    const rows = section.split('\n').filter((l) => /^\| \d+ \| `[a-z0-9-]+` \|/.test(l));
    expect(rows).toHaveLength(suite.length);
    for (const [i, s] of suite.entries()) {
      const activated = s.steps.find((st) => st.type === 'activate');
      expect(rows[i]).toBe(
        `| ${i + 1} | \`${s.name}\` | ${activated?.type === 'activate' ? `\`${activated.scenario}\`` : '—'} | ${s.description} |`,
      );
    }
  });

  it('documents every runner step type and only check ids that exist', () => {
    for (const type of Object.keys(STEPS))
      expect(section, `no row for step ${type}`).toMatch(new RegExp(`^\\| [^|]*\`${type}\``, 'm'));
    for (const id of section.matchAll(/\| `([a-z_0-9]+)`(?:, `([a-z_0-9]+)`)? \|$/gm)) {
      for (const c of [id[1], id[2]].filter(Boolean)) expect(RUNNER_CHECKS as readonly string[]).toContain(c);
    }
  });

  it('explains every check id a failure can carry', () => {
    const table = section.slice(section.indexOf('| Check | Means |'));
    for (const id of RUNNER_CHECKS)
      expect(table, `no row names check ${id}`).toMatch(new RegExp(`^\\| [^|]*\`${id}\``, 'm'));
  });

  it('names every broken fixture shop and every flag of the run command', () => {
    for (const f of readdirSync(new URL('../fixtures/merchants/broken/', import.meta.url)))
      expect(section).toContain(`| \`${f}\` |`);
    // The flags as commander reads them (the shared --reporter included), not a copy of cli.ts.
    const flags = commandFlags('run');
    expect(flags).toEqual(expect.arrayContaining(['--sandbox', '--merchant', '--reporter', '--parallel']));
    const table = section.slice(section.indexOf('| Flag | Meaning |'));
    for (const f of flags)
      expect(table, `docs/runner.md lacks ${f}`).toMatch(
        new RegExp(`^\\| (?:[^|\\\\]|\\\\.)*(?:\`|-\\w, )${f}[ \`]`, 'm'),
      );
  });
});
