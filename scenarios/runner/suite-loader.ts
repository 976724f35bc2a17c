import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { SchemaRegistry } from '../../contracts/schema-registry.js';
import type { RunnerStep, RunnerSuiteFile, ScenarioStep } from '../../contracts/types.js';
import { projectPath } from '../../mock-server/shared/project-root.js';
import { CheckConfigError } from './check-config.js';

export const BUILTIN_SUITE_DIR = projectPath('scenarios', 'suites');

/** One scenario of a suite, ready to run. */
export interface RunnerScenario {
  suite: string;
  file: string;
  name: string;
  description: string;
  tags: string[];
  requires: NonNullable<RunnerSuiteFile['requires']>;
  /** Runs with a browser trigger too (`browser: true` in the file). */
  browser: boolean;
  /** Runner steps, in order. */
  steps: RunnerStep[];
  /** Sandbox steps (`match` + `effect`) written inline: activated for the merchant as one scenario. */
  sandboxSteps: ScenarioStep[];
}

const isRunnerStep = (s: unknown): s is RunnerStep => typeof s === 'object' && s !== null && 'type' in s;

/** Validates one parsed suite file, with errors that name the step and the field. */
export function checkSuiteFile(data: unknown, source: string, schemas: SchemaRegistry): RunnerSuiteFile {
  const validate = schemas.validator('runnerSuite');
  if (validate(data)) {
    const file = data as RunnerSuiteFile;
    const activates = file.steps.filter((s) => isRunnerStep(s) && s.type === 'activate').length;
    const inline = file.steps.some((s) => !isRunnerStep(s));
    if (activates > 1 || (activates === 1 && inline)) {
      throw new CheckConfigError(
        `suite ${source}: one sandbox scenario per runner scenario: use one activate step or inline match/effect steps, not both`,
      );
    }
    return file;
  }
  // oneOf errors are noisy: re-check each step against the schema it was meant for.
  const steps = (data as { steps?: unknown })?.steps;
  if (Array.isArray(steps)) {
    for (const [i, step] of steps.entries()) {
      const v = schemas.validator(isRunnerStep(step) ? 'runnerStep' : 'scenarioStep');
      if (!v(step)) {
        const errs = (v.errors ?? [])
          .filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'discriminator' && e.keyword !== 'const')
          .slice(0, 3)
          .map(
            (e) =>
              `${e.instancePath || '(step)'} ${e.message}${e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : ''}`,
          );
        const type = isRunnerStep(step) ? ` (type ${String((step as { type: unknown }).type)})` : '';
        throw new CheckConfigError(
          `suite ${source}: step ${i + 1}${type}: ${errs.join('; ') || 'unknown step type'}`,
        );
      }
    }
  }
  const first = (validate.errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '(top level)'} ${e.message}`);
  throw new CheckConfigError(`suite ${source}: ${first.join('; ')}`);
}

function toScenario(file: RunnerSuiteFile, suite: string, path: string): RunnerScenario {
  return {
    suite,
    file: path,
    name: file.name,
    description: file.description,
    tags: file.tags ?? [],
    requires: file.requires ?? [],
    browser: file.browser === true,
    steps: file.steps.filter(isRunnerStep),
    sandboxSteps: file.steps.filter((s): s is ScenarioStep => !isRunnerStep(s)),
  };
}

function parseFile(path: string, schemas: SchemaRegistry): RunnerSuiteFile {
  let data: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new CheckConfigError(
      `suite ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  return checkSuiteFile(data, path, schemas);
}

/** The files of a suite folder, in name order (a numeric prefix such as `01-` sets the order). */
function folderFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/i.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Loads the suites to run: a built-in suite by name (`merchant-checks`), a folder of suite files,
 * or single files. In a folder, a file's `name` must be its file name without the numeric prefix,
 * so the table in docs/runner.md, the folder and the reports agree.
 *
 * @example
 * loadSuites(['merchant-checks'], schemas).map((s) => s.name); // ['happy-path', '3ds-challenge', …]
 */
export function loadSuites(entries: readonly string[], schemas: SchemaRegistry): RunnerScenario[] {
  const out: RunnerScenario[] = [];
  for (const entry of entries) {
    const builtin = !entry.includes('/') && !entry.includes('\\');
    const path = builtin ? join(BUILTIN_SUITE_DIR, entry) : entry;
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      if (builtin) throw new CheckConfigError(`no built-in suite "${entry}" (built in: merchant-checks)`);
      throw new CheckConfigError(`suite ${path}: no such file or folder`);
    }
    if (isDir) {
      const suite = basename(path);
      for (const f of folderFiles(path)) {
        const file = parseFile(f, schemas);
        const stem = basename(f)
          .replace(/\.(ya?ml|json)$/i, '')
          .replace(/^\d+-/, '');
        if (file.name !== stem)
          throw new CheckConfigError(`suite ${f}: name "${file.name}" must match the file name ("${stem}")`);
        out.push(toScenario(file, suite, f));
      }
    } else {
      const file = parseFile(path, schemas);
      out.push(toScenario(file, basename(path).replace(/\.(ya?ml|json)$/i, ''), path));
    }
  }
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.name))
      throw new CheckConfigError(
        `two scenarios are named "${s.name}" (${s.file}); names must be unique in a run`,
      );
    seen.add(s.name);
  }
  return out;
}
