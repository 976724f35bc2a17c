import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { SchemaRegistry } from '../../contracts/schema-registry.js';
import type { ScenarioFile } from '../../contracts/types.js';
import { checkNesting, ConfigError, nestingProblem } from '../config/load-config.js';
import { projectPath } from '../shared/project-root.js';

/** `yaml` costs ~45 ms of startup to import; only YAML files need it, so it loads with the first one. */
const parseYaml = (text: string): unknown =>
  (createRequire(import.meta.url)('yaml') as typeof Yaml).parse(text);

export const BUILTIN_SCENARIO_DIR = projectPath('scenarios', 'library');

/** Parses and validates one scenario file (YAML or JSON) against contracts' scenario schema. */
export function parseScenarioText(text: string, source: string, schemas: SchemaRegistry): ScenarioFile {
  let data: unknown;
  try {
    data = /\.json$/i.test(source) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `scenario ${source}: ${nestingProblem(err) ?? `not valid YAML/JSON: ${(err as Error).message}`}`,
    );
  }
  return checkScenario(data, source, schemas);
}

/** Validates an already-parsed scenario definition. */
export function checkScenario(data: unknown, source: string, schemas: SchemaRegistry): ScenarioFile {
  checkNesting(data, `scenario ${source}`);
  const validate = schemas.validator('scenarioFile');
  if (!validate(data)) {
    const first = (validate.errors ?? [])
      .slice(0, 3)
      .map((e) => `${e.instancePath || '(root)'} ${e.message}`);
    throw new ConfigError(`scenario ${source}: ${first.join('; ')}`);
  }
  const scenario = data as ScenarioFile;
  // match.order_id is a regular expression: one that does not compile would silently never match.
  scenario.steps.forEach((step, i) => {
    if (step.match.order_id === undefined) return;
    try {
      new RegExp(step.match.order_id);
    } catch (err) {
      throw new ConfigError(
        `scenario ${source}: /steps/${i}/match/order_id is not a valid regular expression (${(err as Error).message})`,
      );
    }
  });
  return scenario;
}

/**
 * Loads every `*.yaml`/`*.json` in a folder. A file's `name` must equal its file name, so the
 * table in docs/scenarios.md, the folder and `GET /__admin/scenarios` can never disagree.
 */
export function loadScenarioDir(dir: string, schemas: SchemaRegistry): ScenarioFile[] {
  return readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/i.test(f))
    .sort()
    .map((f) => {
      const scenario = parseScenarioText(readFileSync(join(dir, f), 'utf8'), f, schemas);
      const stem = basename(f).replace(/\.(ya?ml|json)$/i, '');
      if (scenario.name !== stem)
        throw new ConfigError(`scenario ${f}: name "${scenario.name}" must match the file name`);
      return scenario;
    });
}
