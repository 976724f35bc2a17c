import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BATTERY } from '../../scenarios/probe/battery.js';
import { PROBE_JSON_FILE, PROBE_JUNIT_FILE } from '../../scenarios/probe/probe-command.js';
import { RECORDING_FILE } from '../../scenarios/probe/recording.js';
import { commandFlags } from '../helpers/cli-flags.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const start = readme.indexOf('## Compare with the real gateway (`ktpay-mock probe`)');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

describe('README "Compare with the real gateway"', () => {
  it('names every flag the probe command defines', () => {
    // The flags as commander reads them from the command's definition, not a count: the old text
    // slice of cli.ts ran on into the tls commands and counted their flags as probe's.
    const flags = commandFlags('probe');
    expect(flags).toEqual(
      expect.arrayContaining(['--upstream', '--app-id', '--replay', '--reporter', '--timeout']),
    );
    expect(flags).not.toContain('--force'); // a `tls init` flag: the list is probe's own
    const table = section.slice(section.indexOf('| Flag | Meaning |'));
    // In the first cell of a row (escaped pipes, as in `<pretty\|junit>`, stay inside it).
    for (const f of flags)
      expect(table, `README lacks ${f}`).toMatch(
        new RegExp(`^\\| (?:[^|\\\\]|\\\\.)*(?:\`|-\\w, )${f}[ \`]`, 'm'),
      );
  });

  it('tells the battery size and the files the probe writes', () => {
    expect(start).toBeGreaterThan(0);
    expect(section).toContain(`battery of\n${BATTERY.length} requests`);
    for (const f of [PROBE_JSON_FILE, PROBE_JUNIT_FILE, RECORDING_FILE]) expect(section).toContain(f);
  });
});
