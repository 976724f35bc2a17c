import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumCacheDir } from './chromium-cache-dir.js';
import { DEBIAN_CHROMIUM, findChromium } from './find-chromium.js';
import { rememberVerdict } from './launch-verdicts.js';

// This file runs in its own process: a private temp dir keeps its cache folder apart from the
// one the browser tests share.
const realTmp = tmpdir();
const privateTmp = mkdtempSync(join(realTmp, 'ktpay-find-chromium-'));
beforeAll(() => {
  process.env.TMPDIR = privateTmp;
});
afterAll(() => {
  process.env.TMPDIR = realTmp;
  rmSync(privateTmp, { recursive: true, force: true });
});

describe('findChromium', () => {
  it('takes CHROMIUM_PATH first, as it is, without launching it', async () => {
    const path = join(privateTmp, 'my-chromium');
    writeFileSync(path, '');
    const choice = await findChromium({ env: { CHROMIUM_PATH: path } });
    expect(choice).toMatchObject({ source: 'CHROMIUM_PATH', executablePath: path, env: {} });
    expect(choice.description).toBe(`CHROMIUM_PATH (${path})`);
    expect(choice.args).not.toContain('--disable-web-security');
  });

  it('says so when CHROMIUM_PATH names no file', async () => {
    await expect(findChromium({ env: { CHROMIUM_PATH: '/nonexistent/chromium' } })).rejects.toThrow(
      'CHROMIUM_PATH=/nonexistent/chromium: no such file',
    );
  });

  it("believes the remembered verdict on Debian's chromium instead of launching it again", async () => {
    // A "does not launch" verdict, so the answer is a refusal even where Debian's chromium works.
    rememberVerdict(chromiumCacheDir(), DEBIAN_CHROMIUM, false);
    await expect(findChromium({ env: {}, only: 'debian' })).rejects.toThrow(
      `${DEBIAN_CHROMIUM} is missing or does not launch`,
    );
  });
});

describe('chromiumCacheDir', () => {
  it('is a folder only this user can write, in the temp dir', () => {
    const dir = chromiumCacheDir();
    expect(dir.startsWith(privateTmp)).toBe(true);
    expect(dir).toMatch(/ktpay-mock-chromium-\w+$/);
  });

  it('refuses a folder that others can write to (a binary planted there would be run)', () => {
    const elsewhere = mkdtempSync(join(privateTmp, 'shared-'));
    process.env.TMPDIR = elsewhere;
    try {
      const dir = join(elsewhere, `ktpay-mock-chromium-${process.getuid?.() ?? 'user'}`);
      mkdirSync(dir);
      chmodSync(dir, 0o777);
      expect(() => chromiumCacheDir()).toThrow(/refusing to use .* only this user/);
    } finally {
      process.env.TMPDIR = privateTmp;
    }
  });
});
