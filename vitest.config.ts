import { defineConfig } from 'vitest/config';
import { findPostgresBin, POSTGRES_RUNTIME } from './test/helpers/postgres-server.js';
import SlowFirstSequencer from './test/helpers/slow-first-sequencer.js';

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
    // Vitest's default is one worker fewer than the cores: 1 on a 2-core machine, which made
    // `npm test` serial (~11 min). Most files wait on sockets, browsers, child processes and timers
    // rather than compute, so 3 forks keep 2 cores busy (issue 16: `npm test` within 6 minutes).
    // KTPAY_TEST_WORKERS overrides it.
    maxWorkers: Number(process.env.KTPAY_TEST_WORKERS) || 3,
    // Each fork runs many files and keeps the modules it imported (Fastify, the app, playwright):
    // importing them again for every file was a third of the suite's time (import 203 s of 800).
    // No test file relies on a fresh module state; the few that change process.env or timers
    // restore them.
    isolate: false,
    // The longest files start first (a fresh clone has no cached durations to order by).
    sequence: { sequencer: SlowFirstSequencer },
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
