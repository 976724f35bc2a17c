import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../mock-server/shared/project-root.js';

/**
 * The long flags of a `ktpay-mock` subcommand as commander itself lists them in `--help`: the
 * command's real definition, whatever helper or shared option it was built from (`--help` left
 * out). Docs tests compare their tables with it, so a flag added to the CLI and not to the docs
 * fails them.
 *
 * @example
 * commandFlags('probe'); // ['--upstream', '--app-id', …, '--timeout']
 */
export function commandFlags(...command: string[]): string[] {
  const help = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'mock-server/cli.ts', ...command, '--help'],
    {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  const options = help.slice(help.indexOf('\nOptions:\n'));
  // An option line starts two spaces in; a wrapped description runs on far deeper.
  return [...options.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)]
    .map((m) => m[1]!)
    .filter((f) => f !== '--help');
}
