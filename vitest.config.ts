import { defineConfig } from 'vitest/config';
import { findPostgresBin, POSTGRES_RUNTIME } from './test/helpers/postgres-server.js';

/** Every test file. */
const ALL = [
  'mock-server/**/*.test.ts',
  'contracts/**/*.test.ts',
  'scenarios/**/*.test.ts',
  'test/**/*.test.ts',
];

/**
 * The suites that run a second time on the shared store, in the `postgres` project (issue 17: "with
 * STORE=postgres://…, one replica passes the whole journey, callback, scenario and after-payment
 * suite"): the test helper gives each sandbox a schema of its own on one throwaway PostgreSQL
 * server (test/helpers/test-store.ts). `npm test` runs them (about a minute more on 2 cores);
 * `npm run test:postgres` runs only them.
 */
const POSTGRES_SUITES = [
  'test/shopper-journey/**/*.test.ts',
  'test/callbacks/**/*.test.ts',
  'test/scenarios/**/*.test.ts',
  'test/after-payment/**/*.test.ts',
  'test/isolation/**/*.test.ts',
];

const pgBin = findPostgresBin();
if (!pgBin)
  process.stderr.write(
    `skipped: suites on PostgreSQL (project postgres): needs ${POSTGRES_RUNTIME}, not found on this machine\n`,
  );

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'ktpay-mock', include: ALL } },
      ...(pgBin
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: POSTGRES_SUITES,
                // These name their store themselves (SQLite files, a crash and a restart), or read docs.
                exclude: [
                  'test/after-payment/kill-9.test.ts',
                  'test/after-payment/restart-durability.test.ts',
                  'test/shopper-journey/docs-sync.test.ts',
                ],
                env: { KTPAY_TEST_STORE: 'postgres' },
                globalSetup: ['test/helpers/postgres-global-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
