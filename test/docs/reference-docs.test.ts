import { describe, expect, it } from 'vitest';
import { errorCatalog } from '../../contracts/error-catalog.js';
import { ENV_VARS } from '../../mock-server/config/load-config.js';
import { ROUTES } from '../../mock-server/openapi/route-table.js';
import { BEGIN, END, GENERATED_PAGES, pageStates, regenerate, spliceGenerated } from './reference-docs.js';

/**
 * The generated reference pages (configuration, admin API, merchant API routes, error codes) are
 * committed; this fails when one differs from what the code says. Fix: `npm run docs`.
 */
describe.each(GENERATED_PAGES)('$file', (page) => {
  const { committed, expected } = pageStates(page);

  it('is what `npm run docs` writes from the code (run it after changing the source)', () => {
    expect(committed, `${page.file} is stale: run \`npm run docs\``).toBe(expected);
  });

  it('keeps its hand-written prose: only the block between the markers is generated', () => {
    const start = committed.indexOf(BEGIN);
    const end = committed.indexOf(END);
    expect(start).toBeGreaterThan(0);
    const prose = committed.slice(0, start) + committed.slice(end);
    // Something of substance surrounds the block: a title and at least one paragraph.
    expect(prose).toMatch(/^# .+\n\n\S/);
    expect(regenerate(page, `# Title\n\nProse.\n\n${BEGIN}\nold\n${END}\n\nMore prose.\n`)).toMatch(
      /^# Title\n\nProse\.\n\n<!-- BEGIN GENERATED -->\n[\s\S]+\n<!-- END GENERATED -->\n\nMore prose\.\n$/,
    );
  });

  it('notices a stale page: a row dropped from the block is written back', () => {
    const lines = committed.split('\n');
    const firstRow = lines.findIndex((l, i) => i > lines.indexOf(BEGIN) && /^\| `/.test(l));
    expect(firstRow).toBeGreaterThan(0);
    const stale = [...lines.slice(0, firstRow), ...lines.slice(firstRow + 1)].join('\n');
    expect(regenerate(page, stale)).toBe(expected);
    expect(regenerate(page, stale)).not.toBe(stale);
  });
});

describe('what the generated pages hold', () => {
  const text = (file: string) => pageStates(GENERATED_PAGES.find((p) => p.file === file)!).expected;

  it('the configuration reference has a row for every environment variable and the config file path', () => {
    const page = text('docs/configuration.md');
    for (const name of [...Object.keys(ENV_VARS), 'KTPAY_MOCK_CONFIG'])
      expect(page, name).toContain(`| \`${name}\` |`);
    expect(page).toContain('| `callbacks.max_pending` | — |');
  });

  it('the admin API page lists every /__admin route of the route table, the merchant API page the rest', () => {
    for (const r of ROUTES) {
      const file = r.path.startsWith('/__admin') ? 'docs/admin-api.md' : 'docs/merchant-api.md';
      expect(text(file), `${r.method} ${r.path}`).toContain(`| \`${r.method.toUpperCase()} ${r.path}\` |`);
    }
  });

  it('the error-code page has every catalog code', () => {
    for (const e of errorCatalog.ktpay) expect(text('docs/error-codes.md')).toContain(`| \`${e.code}\` |`);
  });

  it('refuses a page without its markers rather than skip it', () => {
    expect(() => spliceGenerated('# Page\n\nno markers\n', 'x')).toThrow(/BEGIN GENERATED/);
    expect(() => spliceGenerated(`${BEGIN}\n${END}\n${BEGIN}\n${END}\n`, 'x')).toThrow(/exactly one/);
  });
});
