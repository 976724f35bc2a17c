import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The throwaway PostgreSQL database of a `KTPAY_TEST_STORE=postgres` run (postgres-global-setup.ts). */
    ktpayTestPgUrl: string;
  }
}

/**
 * The store the shared test helper gives a sandbox that names none: `memory` (the default), or
 * `postgres` with `KTPAY_TEST_STORE=postgres` (`npm run test:postgres`, and the `postgres` project
 * of `npm test`), so the same suites run against the shared store of a cluster.
 */
export function testStoreKind(): 'memory' | 'postgres' {
  return process.env.KTPAY_TEST_STORE === 'postgres' ? 'postgres' : 'memory';
}

let seq = 0;

/**
 * The environment that selects the test store: nothing for memory; for postgres a `STORE` URL in a
 * schema of its own (`?search_path=`, made on first use), so every sandbox a test builds starts
 * empty and none sees another's rows, as with a fresh memory store.
 *
 * @example
 * const config = loadConfig({ env: { ...testStoreEnv(), ...env }, flags });
 */
export function testStoreEnv(): Record<string, string> {
  if (testStoreKind() !== 'postgres') return {};
  const url = inject('ktpayTestPgUrl');
  if (!url) {
    throw new Error(
      'KTPAY_TEST_STORE=postgres without a database: run through vitest with the postgres project (npm run test:postgres)',
    );
  }
  return { STORE: `${url}?search_path=t${process.pid}_${++seq}` };
}
