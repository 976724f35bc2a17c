import type { RunReport } from '../outcome.js';

/** The JSON report: the whole run, every scenario, every step and each failure with its evidence. */
export function jsonReport(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
