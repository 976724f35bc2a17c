import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The test files that take longest (seconds on 2 cores, measured in full runs), longest first.
 * Vitest orders files by the durations it cached from the last run, and a fresh clone has no cache:
 * it would start them by file size, and a 100-second file started last decides the wall time alone.
 */
export const SLOW_FILES = [
  'test/bench/bench-smoke.test.ts',
  'test/cluster/cluster.test.ts',
  'test/e2e/runner-browser-trigger.test.ts',
  'test/e2e/xss-pages.test.ts',
  'test/cluster/concurrent-runs.test.ts',
  'test/runner/broken-merchants.test.ts',
  'test/e2e/widget-journeys.test.ts',
  'test/cli/tls-cli.test.ts',
  'test/scenarios/transaction-scenarios.test.ts',
  'test/clients/client-matrix.test.ts',
  'test/cli/cli.test.ts',
  'test/after-payment/receipt-pdf.test.ts',
  'test/e2e/demo-acceptance.test.ts',
  'test/e2e/dashboard.test.ts',
];

const rank = (spec: TestSpecification): number => {
  const i = SLOW_FILES.findIndex((f) => spec.moduleId.endsWith(`/${f}`));
  return i < 0 ? SLOW_FILES.length : i;
};

/**
 * Vitest's own order (cached durations when there are any), with the known slow files moved to the
 * front, so the workers start on them first and the short files fill in around them.
 */
export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Array.prototype.sort is stable: files of equal rank keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
