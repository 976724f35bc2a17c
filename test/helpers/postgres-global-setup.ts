import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres-server.js';

/**
 * vitest global setup of the `postgres` project: one real, throwaway PostgreSQL server (a
 * non-root user, a free port, removed afterwards) and a database for the run. Each sandbox a test
 * builds gets a schema of its own in it (test-store.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Every open sandbox holds a small pool and one LISTEN connection; suites open many at once.
  const pg = await startPostgres({ settings: { max_connections: '800' } });
  const url = await pg.createDatabase('suites');
  project.provide('ktpayTestPgUrl', url);
  return () => pg.stop();
}
