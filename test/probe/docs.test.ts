import { describe, expect, it } from 'vitest';
import { BATTERY } from '../../scenarios/probe/battery.js';
import { PROBE_JSON_FILE, PROBE_JUNIT_FILE } from '../../scenarios/probe/probe-command.js';
import { RECORDING_FILE } from '../../scenarios/probe/recording.js';
import { commandFlags } from '../helpers/cli-flags.js';
import { readDocPage } from '../helpers/docs-page.js';

const page = readDocPage('docs/probe.md');

describe('docs/probe.md, "Compare with the real gateway"', () => {
  it('names every flag the probe command defines', () => {
    const flags = commandFlags('probe');
    // The flags as commander reads them, not a count: a flag added to `probe` must reach the page.
    expect(flags).toEqual(
      expect.arrayContaining(['--upstream', '--app-id', '--replay', '--reporter', '--timeout']),
    );
    expect(flags).not.toContain('--force'); // a `tls init` flag: the list is probe's own
    const table = page.slice(page.indexOf('| Flag | Meaning |'));
    // In the first cell of a row (escaped pipes, as in `<pretty\|junit>`, stay inside it).
    for (const f of flags)
      expect(table, `docs/probe.md lacks ${f}`).toMatch(
        new RegExp(`^\\| (?:[^|\\\\]|\\\\.)*(?:\`|-\\w, )${f}[ \`]`, 'm'),
      );
  });

  it('tells the battery size and the files the probe writes', () => {
    expect(page).toMatch(/^# Compare with the real gateway \(`ktpay-mock probe`\)$/m);
    expect(page).toContain(`battery of\n${BATTERY.length} requests`);
    for (const f of [PROBE_JSON_FILE, PROBE_JUNIT_FILE, RECORDING_FILE]) expect(page).toContain(f);
  });
});
