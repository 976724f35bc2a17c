import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Remembers, across processes, whether a browser binary launched when it was last tried. Finding
 * out costs a real launch (~1.5 s), and every vitest file runs in its own process, so without this
 * each browser test file would pay it again. A verdict holds while the binary file is unchanged
 * (same inode, size and times) and for at most {@link VERDICT_TTL_MS}; a launch that fails anyway
 * calls {@link forgetVerdict}.
 */
export const VERDICT_TTL_MS = 15 * 60_000;

const FILE = 'launch-verdicts.json';

interface Verdict {
  binary: string;
  launches: boolean;
  at: number;
}

type Verdicts = Record<string, Verdict>;

function binaryFingerprint(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return undefined;
  }
}

function read(dir: string): Verdicts {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, FILE), 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Verdicts) : {};
  } catch {
    return {};
  }
}

function write(dir: string, verdicts: Verdicts): void {
  // Written aside and renamed, so a reader never sees half a file.
  const tmp = join(dir, `${FILE}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(verdicts));
  renameSync(tmp, join(dir, FILE));
}

/**
 * The remembered verdict for `path`, or undefined when there is none that still holds.
 *
 * @example
 * rememberedVerdict(chromiumCacheDir(), '/usr/bin/chromium'); // true, false or undefined
 */
export function rememberedVerdict(dir: string, path: string, now = Date.now()): boolean | undefined {
  const v = read(dir)[path];
  const binary = binaryFingerprint(path);
  if (!v || !binary || v.binary !== binary || now - v.at > VERDICT_TTL_MS || now < v.at) return undefined;
  return v.launches;
}

/**
 * Records whether `path` launched.
 *
 * @example
 * rememberVerdict(chromiumCacheDir(), '/usr/bin/chromium', true);
 */
export function rememberVerdict(dir: string, path: string, launches: boolean, now = Date.now()): void {
  const binary = binaryFingerprint(path);
  if (!binary) return;
  write(dir, { ...read(dir), [path]: { binary, launches, at: now } });
}

/**
 * Drops the verdict for `path` (it launched before, but not now).
 *
 * @example
 * forgetVerdict(chromiumCacheDir(), '/usr/bin/chromium');
 */
export function forgetVerdict(dir: string, path: string): void {
  const verdicts = read(dir);
  if (!(path in verdicts)) return;
  delete verdicts[path];
  write(dir, verdicts);
}
