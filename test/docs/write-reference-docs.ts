import { writeFileSync } from 'node:fs';
import { projectPath } from '../../mock-server/shared/project-root.js';
import { GENERATED_PAGES, pageStates } from './reference-docs.js';

/**
 * `npm run docs`: rewrites the generated part of each reference page under docs/ (configuration,
 * admin API, merchant API routes, error codes) from the code it describes, and leaves the
 * hand-written prose around it as it is. test/docs/reference-docs.test.ts fails until this has run
 * after a change to the config schema, the route table or the catalog.
 */
for (const page of GENERATED_PAGES) {
  const { committed, expected } = pageStates(page);
  if (committed === expected) {
    console.log(`${page.file}: up to date`);
  } else {
    writeFileSync(projectPath(page.file), expected);
    console.log(`${page.file}: rewritten`);
  }
}
