import { spawnSync } from 'node:child_process';

/**
 * True when `command args…` runs and exits 0 within a few seconds (a probe such as
 * `php -r 'exit(extension_loaded("sodium") ? 0 : 1);'`).
 */
export function commandSucceeds(command: string, args: string[] = []): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: 15_000 });
  return r.status === 0;
}

/**
 * Declares that a suite needs a runtime this project does not install (PHP, Python, Java, a
 * database server). When it is missing the suite is skipped, and one line names what was skipped
 * and why: a fresh machine with only Node still passes, and nothing is silently absent. `.ci/run`
 * installs every such runtime and fails on any skip.
 *
 * @example
 * const php = foreignRuntime('PHP 8 with curl and sodium (apt-get install php-cli php-curl)', 'PHP client tests',
 *   commandSucceeds('php', ['-r', 'exit(extension_loaded("curl") && extension_loaded("sodium") ? 0 : 1);']));
 * describe.skipIf(!php)('Guzzle, curl handler', () => { … });
 */
export function foreignRuntime(runtime: string, suite: string, present: boolean): boolean {
  if (!present) process.stderr.write(`skipped: ${suite}: needs ${runtime}, not found on this machine\n`);
  return present;
}
