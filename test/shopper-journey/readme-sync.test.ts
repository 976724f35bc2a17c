import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadAcquirerData, catalogAcquirerCodes } from '../../mock-server/acquirer/acquirer-data.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const lines = readme.split('\n');
const data = loadAcquirerData();

describe('README: paying in a browser', () => {
  it('links the demo shop and lists the shopper-journey admin routes', () => {
    expect(readme).toContain('## Pay in a browser');
    expect(readme).toContain('http://127.0.0.1:8077/demo');
    for (const route of [
      '`GET /__admin/transactions?app_id=&status=&order_id=&limit=`',
      '`GET /__admin/transactions/{hash}`',
      '`POST /__admin/transactions/{hash}/pay`',
      '`POST /__admin/transactions/{hash}/clear`',
      '`GET /__admin/test-cards`',
    ]) {
      expect(readme, route).toContain(`| ${route} |`);
    }
  });

  it('has the test-card table of contracts/data/test-cards.json, plus the CODE rule', () => {
    for (const c of data.cards.cards) {
      const row = lines.find((l) => l.startsWith(`| ${c.display} |`));
      expect(row, c.display).toBeDefined();
    }
    expect(lines.some((l) => l.startsWith('| any other Luhn-valid PAN | approved, no 3DS |'))).toBe(true);
    expect(lines.some((l) => l.startsWith('| any Luhn-valid PAN with cardholder `CODE <c>`'))).toBe(true);
  });

  it('has a row for every acquirer code with the mapped status, error_type and catalog message', () => {
    for (const code of catalogAcquirerCodes()) {
      const o = data.outcomes.codes[code]!;
      const row = lines.find((l) => l.startsWith(`| \`${code}\` | \``));
      expect(row, `README lacks acquirer code ${code}`).toBeDefined();
      expect(row).toContain(`| \`${o.status}\` / \`${o.error_type}\` | ${o.family} |`);
      expect(row).toContain(data.messages.get(code)!);
    }
  });
});
