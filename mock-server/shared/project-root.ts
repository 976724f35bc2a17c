import { readFileSync } from 'node:fs';
import { PACKAGE_ROOT, packagePath } from '../../contracts/package-root.js';

/**
 * The package root (the folder holding package.json), whether the code runs from source
 * (`mock-server/…`), from tsc's output (`dist/mock-server/…`) or from the bundled CLI. Data folders
 * hang off it.
 */
export const PROJECT_ROOT: string = PACKAGE_ROOT;

export const projectPath: (...parts: string[]) => string = packagePath;

/** The package's version from package.json ('0.0.0' when it cannot be read). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
