import { describe, expect, it } from 'vitest';
import { loadAcquirerData, catalogAcquirerCodes } from '../../mock-server/acquirer/acquirer-data.js';
import { docSection, readDocPage } from '../helpers/docs-page.js';

const data = loadAcquirerData();

describe('docs: paying in a browser', () => {
  it('links the demo shop, and the admin API page lists the shopper-journey routes', () => {
    expect(docSection('docs/shopper-journey.md', 'Pay in a browser')).toContain('http://127.0.0.1:8077/demo');
    expect(readDocPage('README.md')).toContain('http://127.0.0.1:8077/demo');
    const admin = readDocPage('docs/admin-api.md');
    for (const route of [
      '`GET /__admin/transactions`',
      '`GET /__admin/transactions/{hash}`',
      '`POST /__admin/transactions/{hash}/pay`',
      '`POST /__admin/transactions/{hash}/clear`',
      '`GET /__admin/test-cards`',
    ]) {
      expect(admin, route).toContain(`| ${route} |`);
    }
    expect(admin).toContain('`status`: only this status');
  });

  it('has the test-card table of contracts/data/test-cards.json, plus the CODE rule', () => {
    const lines = docSection('docs/shopper-journey.md', 'Test cards').split('\n');
    for (const c of data.cards.cards) {
      const row = lines.find((l) => l.startsWith(`| ${c.display} |`));
      expect(row, c.display).toBeDefined();
      if (c.code !== '00') expect(row, c.display).toContain(`\`${c.code}\``);
    }
    expect(lines.some((l) => l.startsWith('| any other Luhn-valid PAN | approved, no 3DS |'))).toBe(true);
    expect(lines.some((l) => l.startsWith('| any Luhn-valid PAN with cardholder `CODE <c>`'))).toBe(true);
  });

  it('has a row for every acquirer code with the mapped status, error_type and catalog message', () => {
    const lines = docSection('docs/error-codes.md', 'Acquirer codes').split('\n');
    for (const code of catalogAcquirerCodes()) {
      const o = data.outcomes.codes[code]!;
      const row = lines.find((l) => l.startsWith(`| \`${code}\` | \``));
      expect(row, `docs/error-codes.md lacks acquirer code ${code}`).toBeDefined();
      expect(row).toContain(`| \`${o.status}\` / \`${o.error_type}\` | ${o.family} |`);
      expect(row).toContain(data.messages.get(code)!);
    }
  });
});
