import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSchemaRegistry, type SchemaName } from '../../contracts/schema-registry.js';
import { cryptoReady, decodeOriginalBase64, generateKeypair } from '../../mock-server/crypto/sealed-box.js';
import { packageVersion } from '../../mock-server/shared/project-root.js';
import type { ReporterName } from '../runner/check-config.js';
import type { RunIo } from '../runner/run-command.js';
import type { RunReport } from '../runner/outcome.js';
import { jsonReport } from '../runner/reporters/json-reporter.js';
import { junitReport } from '../runner/reporters/junit-reporter.js';
import { createPrettyReporter } from '../runner/reporters/pretty-reporter.js';
import { BATTERY, BATTERY_VERSION } from './battery.js';
import { checkUpstream } from './host-policy.js';
import { apiBase, orderIdOf, ProbeTransportError, runStamp } from './probe-request.js';
import { probeReport, probeScenario, BATTERY_FILE } from './probe-report.js';
import { liveSource, ProbeAbort, runBattery, type AnswerSource } from './probe-run.js';
import { buildRecording, readRecording, RecordingError, replaySource, writeRecording } from './recording.js';
import { createRedactor } from './redact.js';
import { openSandboxSide, SandboxSideError, type SandboxSide } from './sandbox-side.js';

export const PROBE_JUNIT_FILE = 'ktpay-probe-junit.xml';
export const PROBE_JSON_FILE = 'ktpay-probe-report.json';

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

function checkFlags(f: ProbeFlags): void {
  if (f.record && f.replay) throw new ProbeUsageError('--record and --replay exclude each other');
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

function writeReports(report: RunReport, reporters: readonly ReporterName[], out: string): string[] {
  const written: string[] = [];
  if (reporters.includes('junit') || reporters.includes('json')) mkdirSync(out, { recursive: true });
  if (reporters.includes('junit')) {
    written.push(join(out, PROBE_JUNIT_FILE));
    writeFileSync(written.at(-1)!, junitReport(report));
  }
  if (reporters.includes('json')) {
    written.push(join(out, PROBE_JSON_FILE));
    writeFileSync(written.at(-1)!, jsonReport(report));
  }
  return written;
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
  const matches = (name: SchemaName, v: unknown) => registry.validator(name)(v) === true;
  const reporters = flags.reporters?.length ? flags.reporters : (['pretty'] as ReporterName[]);
  const startedAt = new Date();
  const stamp = runStamp(startedAt);
  const appKey = flags.appKey?.trim();
  // Both sides' answers go through redaction with the upstream's secrets: nothing prints them.
  const secrets = { app_id: flags.appId, app_key: appKey, admin_token: flags.adminToken };

  let upstream: AnswerSource;
  let upstreamUrl: string;
  let recording: ReturnType<typeof readRecording> | undefined;
  if (flags.replay) {
    try {
      recording = readRecording(resolve(io.cwd, flags.replay), registry);
    } catch (err) {
      if (err instanceof RecordingError) return fail(err.message);
      throw err;
    }
    upstream = replaySource(recording);
    upstreamUrl = recording.upstream;
  } else {
    upstreamUrl = apiBase(flags.upstream!);
    upstream = { answer: async () => ({ kind: 'skipped', reason: 'not set up' }) };
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
  try {
    await cryptoReady();
    const run = { stamp, foreignKey: generateKeypair().publicKey };
    const timeout = flags.timeoutMs ?? 15_000;
    if (!flags.replay)
      upstream = liveSource(
        'upstream',
        { apiUrl: upstreamUrl, appId: flags.appId!, appKey: appKey! },
        run,
        createRedactor(secrets),
        timeout,
      );
    const sandbox = liveSource('sandbox', side.target, run, createRedactor(secrets), timeout);

    const pretty = reporters.includes('pretty')
      ? createPrettyReporter({ write: io.stdout, live: io.live, color: io.color })
      : undefined;
    if (pretty)
      io.stdout(
        `ktpay-mock probe: ${BATTERY.length} probes; upstream ${upstreamUrl}${recording ? ` (replay of ${flags.replay}, recorded ${recording.recorded_at})` : ''}; sandbox ${side.mode === 'embedded' ? 'embedded at ' : ''}${side.url} (merchant: ${side.merchant.envelope} dialect, acquirer-options v${side.merchant.acquirer_options_version})\n`,
      );
    const outcomes = await runBattery(BATTERY, upstream, sandbox, matches, (p) => orderIdOf(stamp, p.id), {
      start: (i, p) =>
        pretty?.onScenarioStart?.(i, BATTERY.length, {
          suite: 'probe',
          file: BATTERY_FILE,
          name: p.id,
          description: p.title,
          tags: [],
          requires: [],
          steps: [],
          sandboxSteps: [],
        }),
      end: (i, o) => pretty?.onScenarioEnd?.(i, BATTERY.length, probeScenario(o)),
    });

    let recordingFile: string | undefined;
    if (flags.record) {
      recordingFile = writeRecording(
        resolve(io.cwd, flags.record),
        buildRecording(outcomes, {
          recorded_at: startedAt.toISOString(),
          tool_version: packageVersion(),
          upstream: upstreamUrl,
          battery_version: BATTERY_VERSION,
        }),
      );
    }
    const report = probeReport(outcomes, {
      version: packageVersion(),
      started_at: startedAt.toISOString(),
      duration_ms: Date.now() - startedAt.getTime(),
      sandbox: { mode: side.mode, url: side.url },
      merchant: {
        app_id: createRedactor(secrets).text(side.merchant.app_id),
        created: side.merchant.created,
      },
      probe: {
        upstream: upstreamUrl,
        mode: recording ? 'replay' : 'live',
        ...(recordingFile || flags.replay
          ? { recording: recordingFile ?? resolve(io.cwd, flags.replay!) }
          : {}),
        battery_version: BATTERY_VERSION,
        sandbox_merchant: {
          envelope: side.merchant.envelope,
          acquirer_options_version: side.merchant.acquirer_options_version,
        },
      },
    });
    if (report.summary.total === report.summary.skipped)
      return fail(`no probe could be compared (${BATTERY_FILE} v${BATTERY_VERSION})`);
    const written = writeReports(report, reporters, resolve(io.cwd, flags.out ?? 'ktpay-mock-report'));
    if (recordingFile) written.push(recordingFile);
    if (pretty) {
      pretty.finish(report);
      for (const p of written) io.stdout(`${p === recordingFile ? 'recording' : 'report'}: ${p}\n`);
    } else {
      const s = report.summary;
      io.stderr(
        `ktpay-mock probe: ${s.passed} match, ${s.failed} drifted${s.skipped ? `, ${s.skipped} skipped` : ''} (${report.probe!.drifts} drifts)${written.length ? `; ${written.join(', ')}` : ''}\n`,
      );
    }
    return { code: report.summary.failed === 0 ? 0 : 1, report };
  } catch (err) {
    if (err instanceof ProbeAbort) return fail(err.message);
    if (err instanceof ProbeTransportError) return fail(createRedactor(secrets).text(err.message));
    throw err;
  } finally {
    await side.close();
  }
}
