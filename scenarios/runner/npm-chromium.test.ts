import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { NpmChromium } from './npm-chromium.js';

const run = promisify(execFile);
const privateTmp = mkdtempSync(join(tmpdir(), 'ktpay-npm-chromium-'));
afterAll(() => rmSync(privateTmp, { recursive: true, force: true }));

/** unpackNpmChromium() in a process of its own (as each vitest file is), under `tmp`. */
async function unpackIn(tmp: string): Promise<NpmChromium> {
  const module = join(import.meta.dirname, 'npm-chromium.ts');
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { unpackNpmChromium } = await import(${JSON.stringify(module)}); console.log(JSON.stringify(await unpackNpmChromium()));`,
    ],
    { env: { ...process.env, TMPDIR: tmp }, timeout: 240_000 },
  );
  return JSON.parse(stdout) as NpmChromium;
}

describe('unpacking the npm browser (@sparticuz/chromium)', () => {
  it('gives two processes racing on a fresh machine the same complete browser, and clears what a killed unpack left', async () => {
    const root = join(privateTmp, `ktpay-mock-chromium-${process.getuid?.() ?? 'user'}`);
    mkdirSync(root, { mode: 0o700 });
    const killed = join(root, 'npm-0.0.1.unpacking-abc123');
    const older = join(root, 'npm-0.0.1');
    mkdirSync(killed);
    mkdirSync(older);
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(killed, hourAgo, hourAgo);

    const [a, b] = await Promise.all([unpackIn(privateTmp), unpackIn(privateTmp)]);
    expect(a).toEqual(b);
    expect(a.executablePath).toBe(join(root, `npm-${a.version}`, 'chromium'));
    const version = execFileSync(a.executablePath, ['--version'], { encoding: 'utf8' });
    expect(version).toMatch(new RegExp(`^Chromium ${a.version.split('.')[0]}\\.`));
    expect(readdirSync(root).filter((n) => n.startsWith('npm-'))).toEqual([`npm-${a.version}`]);
    expect(existsSync(join(root, `npm-${a.version}`, 'fonts', 'dejavu', 'DejaVuSans.ttf'))).toBe(true);

    // A third process finds it ready.
    expect(await unpackIn(privateTmp)).toEqual(a);
  }, 300_000);
});
