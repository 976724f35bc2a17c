import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BATTERY } from '../../scenarios/probe/battery.js';
import { PROBE_JSON_FILE, PROBE_JUNIT_FILE } from '../../scenarios/probe/probe-command.js';
import { RECORDING_FILE } from '../../scenarios/probe/recording.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const start = readme.indexOf('## Compare with the real gateway (`ktpay-mock probe`)');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

describe('README "Compare with the real gateway"', () => {
  it('names every flag of the probe command', () => {
    const cli = readFileSync(new URL('../../mock-server/cli.ts', import.meta.url), 'utf8');
    const from = cli.indexOf(".command('probe')");
    const probe = cli.slice(from, cli.indexOf('\nprogram\n', from));
    const flags = [...probe.matchAll(/(?:\.option|new Option)\(\s*'(?:-\w, )?(--[a-z-]+)/g)].map(
      (m) => m[1]!,
    );
    expect(flags).toHaveLength(14);
    for (const f of [...flags, '--reporter']) expect(section, `README lacks ${f}`).toContain(`\`${f}`);
  });

  it('tells the battery size and the files the probe writes', () => {
    expect(start).toBeGreaterThan(0);
    expect(section).toContain(`battery of\n${BATTERY.length} requests`);
    for (const f of [PROBE_JSON_FILE, PROBE_JUNIT_FILE, RECORDING_FILE]) expect(section).toContain(f);
  });
});
