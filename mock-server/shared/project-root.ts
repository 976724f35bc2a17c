import { PACKAGE_ROOT, packagePath } from '../../contracts/package-root.js';

/**
 * The package root (the folder holding package.json), whether the code runs from source
 * (`mock-server/…`), from tsc's output (`dist/mock-server/…`) or from the bundled CLI. Data folders
 * hang off it.
 */
export const PROJECT_ROOT: string = PACKAGE_ROOT;

export const projectPath: (...parts: string[]) => string = packagePath;
