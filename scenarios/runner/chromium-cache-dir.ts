import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * This user's folder in the temp dir for browser files that outlive one process: the unpacked npm
 * Chromium and the remembered "does Debian's chromium launch" verdicts. Several processes share it
 * (each vitest file runs in its own), and the temp dir is shared with other users, so it is
 * per-user, mode 0700, and refused when someone else owns it or can write to it: a binary planted
 * there would be run.
 *
 * @example
 * chromiumCacheDir(); // '/tmp/ktpay-mock-chromium-1000'
 */
export function chromiumCacheDir(): string {
  const uid = process.getuid?.() ?? 'user';
  const dir = join(tmpdir(), `ktpay-mock-chromium-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const notOurs = !st.isDirectory() || (typeof uid === 'number' && st.uid !== uid) || (st.mode & 0o022) !== 0;
  if (notOurs) {
    throw new Error(
      `refusing to use ${dir} for the browser: it is not a folder that only this user (uid ${uid}) can write; remove it`,
    );
  }
  return dir;
}
