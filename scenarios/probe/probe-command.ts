import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  createSchemaRegistry,
  type SchemaName,
  type SchemaRegistry,
} from '../../contracts/schema-registry.js';
import type { ProbeRecording } from '../../contracts/types.js';
import { cryptoReady, decodeOriginalBase64, generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import { packageVersion } from '../../mock-server/shared/project-root.js';
import type { ReporterName } from '../runner/check-config.js';
import type { RunIo } from '../runner/run-command.js';
import type { RunReport } from '../runner/outcome.js';
import { htmlReport } from '../runner/reporters/html-reporter.js';
import { jsonReport } from '../runner/reporters/json-reporter.js';
import { junitReport } from '../runner/reporters/junit-reporter.js';
import { createPrettyReporter } from '../runner/reporters/pretty-reporter.js';
import { BATTERY, BATTERY_VERSION, type ProbeDefinition } from './battery.js';
import { checkUpstream } from './host-policy.js';
import { apiBase, orderIdOf, ProbeTransportError, runStamp, type RunValues } from './probe-request.js';
import { probeReport, probeScenario, BATTERY_FILE } from './probe-report.js';
import { liveSource, ProbeAbort, runBattery, type AnswerSource, type ProbeOutcome } from './probe-run.js';
import { buildRecording, readRecording, RecordingError, replaySource, writeRecording } from './recording.js';
import { createRedactor, type Redactor } from './redact.js';
import { openSandboxSide, SandboxSideError, type SandboxSide } from './sandbox-side.js';

export const PROBE_JUNIT_FILE = 'ktpay-probe-junit.xml';
export const PROBE_JSON_FILE = 'ktpay-probe-report.json';
export const PROBE_HTML_FILE = 'ktpay-probe-report.html';

/** The flags of `ktpay-mock probe`. */
export interface ProbeFlags {
  upstream?: string;
  appId?: string;
  appKey?: string;
  allowHosts?: string[];
  allowProduction?: boolean;
  sandbox?: string;
  adminToken?: string;
  sandboxMerchant?: string;
  envelope?: 'reference' | 'widget';
  acquirerOptions?: 1 | 2;
  record?: string;
  replay?: string;
  reporters?: ReporterName[];
  out?: string;
  timeoutMs?: number;
}

/** A flag combination the probe refuses, in words for the user. */
class ProbeUsageError extends Error {}

const isHttpUrl = (v: string) => {
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
};

function checkFlags(f: ProbeFlags): void {
  if (f.record && f.replay) throw new ProbeUsageError('--record and --replay exclude each other');
  if (f.sandbox && !isHttpUrl(f.sandbox))
    throw new ProbeUsageError(`--sandbox ${JSON.stringify(f.sandbox)} is not an http(s) URL`);
  if (f.sandboxMerchant && (f.envelope || f.acquirerOptions))
    throw new ProbeUsageError(
      "--envelope and --acquirer-options set up the probe's own merchant; with --sandbox-merchant that merchant's settings apply",
    );
  if (f.replay) {
    if (f.upstream || f.appId || f.appKey)
      throw new ProbeUsageError(
        '--replay compares the sandbox with a recording: leave out --upstream, --app-id and --app-key',
      );
    return;
  }
  if (!f.upstream) throw new ProbeUsageError('--upstream <url> is required (or --replay <dir>)');
  if (!f.appId || !f.appKey)
    throw new ProbeUsageError(
      '--app-id and --app-key are required (or KTPAY_PROBE_APP_ID and KTPAY_PROBE_APP_KEY)',
    );
  if (decodeOriginalBase64(f.appKey.trim())?.length !== 32)
    throw new ProbeUsageError('--app-key must be base64 of 32 bytes (the app_key ktpay gave the merchant)');
  const verdict = checkUpstream(f.upstream, {
    allowHosts: f.allowHosts ?? [],
    allowProduction: Boolean(f.allowProduction),
  });
  if (!verdict.ok) throw new ProbeUsageError(`refusing --upstream: ${verdict.reason}`);
}

interface Upstream {
  source: AnswerSource;
  /** The API base the answers come (or came) from. */
  url: string;
  recording?: ProbeRecording;
}

/** The upstream side: the live gateway, or the recording of one (RecordingError when it does not read). */
function openUpstream(
  flags: ProbeFlags,
  cwd: string,
  registry: SchemaRegistry,
  run: RunValues,
  redactor: Redactor,
  timeoutMs: number,
): Upstream {
  if (flags.replay) {
    const recording = readRecording(resolve(cwd, flags.replay), registry);
    return { source: replaySource(recording), url: recording.upstream, recording };
  }
  const url = apiBase(flags.upstream!);
  const target = { apiUrl: url, appId: flags.appId!, appKey: flags.appKey!.trim() };
  return { source: liveSource('upstream', target, run, redactor, timeoutMs), url };
}

/** The pretty reporter's progress: one scenario per probe. */
function progress(pretty: ReturnType<typeof createPrettyReporter> | undefined) {
  const total = BATTERY.length;
  return {
    start: (i: number, p: ProbeDefinition) =>
      pretty?.onScenarioStart?.(i, total, {
        suite: 'probe',
        file: BATTERY_FILE,
        name: p.id,
        description: p.title,
        tags: [],
        browser: false,
        requires: [],
        steps: [],
        sandboxSteps: [],
      }),
    end: (i: number, o: ProbeOutcome) => pretty?.onScenarioEnd?.(i, total, probeScenario(o)),
  };
}

/** Writes the JUnit/JSON/HTML files and prints the verdict (pretty) or a one-line summary. */
function emitReports(
  report: RunReport,
  reporters: readonly ReporterName[],
  out: string,
  pretty: ReturnType<typeof createPrettyReporter> | undefined,
  io: RunIo,
  recordingFile: string | undefined,
): void {
  const written: string[] = [];
  const files = [
    ['junit', PROBE_JUNIT_FILE, junitReport],
    ['json', PROBE_JSON_FILE, jsonReport],
    ['html', PROBE_HTML_FILE, htmlReport],
  ] as const;
  for (const [name, file, render] of files) {
    if (!reporters.includes(name)) continue;
    mkdirSync(out, { recursive: true });
    written.push(join(out, file));
    writeFileSync(written.at(-1)!, render(report));
  }
  if (recordingFile) written.push(recordingFile);
  if (pretty) {
    pretty.finish(report);
    for (const p of written) io.stdout(`${p === recordingFile ? 'recording' : 'report'}: ${p}\n`);
    return;
  }
  const s = report.summary;
  io.stderr(
    `ktpay-mock probe: ${s.passed} match, ${s.failed} drifted${s.skipped ? `, ${s.skipped} skipped` : ''} (${report.probe!.drifts} drifts)${written.length ? `; ${written.join(', ')}` : ''}\n`,
  );
}

/**
 * `ktpay-mock probe`: sends the fixed battery to the upstream (or reads a recording of it) and to a
 * sandbox, compares every pair of answers and reports each drift. Resolves with the exit code: 0
 * without drift, 1 with drift, 2 when the probe could not run (flags, a refused host, an upstream
 * or sandbox that does not answer, a recording that does not read).
 *
 * @example
 * const { code } = await probeCommand({ upstream: 'https://card.test.nplus.tech', appId, appKey }, io);
 */
export async function probeCommand(
  flags: ProbeFlags,
  io: RunIo,
): Promise<{ code: number; report?: RunReport }> {
  const fail = (message: string) => {
    io.stderr(`ktpay-mock probe: ${message}\n`);
    return { code: 2 };
  };
  try {
    checkFlags(flags);
  } catch (err) {
    if (err instanceof ProbeUsageError) return fail(err.message);
    throw err;
  }
  const registry = createSchemaRegistry();
  const reporters = flags.reporters?.length ? flags.reporters : (['pretty'] as ReporterName[]);
  const startedAt = new Date();
  const stamp = runStamp(startedAt);
  // Both sides' answers go through redaction with the upstream's secrets: nothing prints them.
  const redactor = () =>
    createRedactor({ app_id: flags.appId, app_key: flags.appKey?.trim(), admin_token: flags.adminToken });
  const timeout = flags.timeoutMs ?? 15_000;
  await cryptoReady();
  const run = { stamp, foreignKey: generateKeypair().publicKey };

  let upstream: Upstream;
  try {
    upstream = openUpstream(flags, io.cwd, registry, run, redactor(), timeout);
  } catch (err) {
    if (err instanceof RecordingError) return fail(err.message);
    throw err;
  }
  let side: SandboxSide;
  try {
    side = await openSandboxSide({
      ...(flags.sandbox ? { sandbox: flags.sandbox } : {}),
      ...(flags.adminToken ? { adminToken: flags.adminToken } : {}),
      ...(flags.sandboxMerchant ? { merchant: flags.sandboxMerchant } : {}),
      envelope: flags.envelope ?? 'reference',
      acquirerOptions: flags.acquirerOptions ?? 2,
    });
  } catch (err) {
    if (err instanceof SandboxSideError) return fail(`the sandbox is not usable: ${err.message}`);
    throw err;
  }
  const pretty = reporters.includes('pretty')
    ? createPrettyReporter({ write: io.stdout, live: io.live, color: io.color })
    : undefined;
  try {
    const rec = upstream.recording;
    const m = side.merchant;
    if (pretty)
      io.stdout(
        `ktpay-mock probe: ${BATTERY.length} probes; upstream ${upstream.url}${rec ? ` (replay of ${flags.replay}, recorded ${rec.recorded_at})` : ''}; sandbox ${side.mode === 'embedded' ? 'embedded at ' : ''}${side.url} (merchant: ${m.envelope} dialect, acquirer-options v${m.acquirer_options_version})\n`,
      );
    const sandbox = liveSource('sandbox', side.target, run, redactor(), timeout);
    const matches = (name: SchemaName, v: unknown) => registry.validator(name)(v) === true;
    const outcomes = await runBattery(
      BATTERY,
      upstream.source,
      sandbox,
      matches,
      (p) => orderIdOf(stamp, p.id),
      progress(pretty),
    );
    const recordingFile = flags.record
      ? writeRecording(
          resolve(io.cwd, flags.record),
          buildRecording(outcomes, {
            recorded_at: startedAt.toISOString(),
            tool_version: packageVersion(),
            upstream: upstream.url,
            battery_version: BATTERY_VERSION,
          }),
        )
      : undefined;
    const recordingPath = recordingFile ?? (flags.replay ? resolve(io.cwd, flags.replay) : undefined);
    const report = probeReport(outcomes, {
      version: packageVersion(),
      started_at: startedAt.toISOString(),
      duration_ms: Date.now() - startedAt.getTime(),
      sandbox: { mode: side.mode, url: side.url },
      merchant: { app_id: redactor().text(m.app_id), created: m.created },
      probe: {
        upstream: upstream.url,
        mode: rec ? 'replay' : 'live',
        ...(recordingPath ? { recording: recordingPath } : {}),
        battery_version: BATTERY_VERSION,
        sandbox_merchant: { envelope: m.envelope, acquirer_options_version: m.acquirer_options_version },
      },
    });
    if (report.summary.total === report.summary.skipped)
      return fail(`no probe could be compared (${BATTERY_FILE} v${BATTERY_VERSION})`);
    emitReports(
      report,
      reporters,
      resolve(io.cwd, flags.out ?? 'ktpay-mock-report'),
      pretty,
      io,
      recordingFile,
    );
    return { code: report.summary.failed === 0 ? 0 : 1, report };
  } catch (err) {
    pretty?.stop();
    if (err instanceof ProbeAbort) return fail(err.message);
    if (err instanceof ProbeTransportError) return fail(redactor().text(err.message));
    throw err;
  } finally {
    await side.close();
  }
}
