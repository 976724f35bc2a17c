import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SchemaRegistry } from '../../contracts/schema-registry.js';
import { PROBE_REDACTIONS } from '../../contracts/schemas/probe-recording.js';
import type { ProbeRecording } from '../../contracts/types.js';
import type { AnswerSource, ProbeOutcome } from './probe-run.js';
import { readAnswer, type ProbeAnswer } from './read-answer.js';

/** The one file a recording folder holds; its shape is contracts/schemas/probe-recording.ts. */
export const RECORDING_FILE = 'ktpay-probe-recording.json';

export type RecordedAnswer = ProbeRecording['answers'][number];
type RecordedResponse = NonNullable<RecordedAnswer['response']>;

/** A recording that cannot be read or does not follow its contract. */
export class RecordingError extends Error {
  override name = 'RecordingError';
}

/** An (already redacted) answer as a recording keeps it: JSON as JSON, so the fixture reads well. */
export function toRecordedResponse(a: ProbeAnswer): RecordedResponse {
  try {
    return { status: a.status, content_type: a.content_type, json: JSON.parse(a.body) as unknown };
  } catch {
    return { status: a.status, content_type: a.content_type, text: a.body };
  }
}

/** The answer back from a recording, for the comparison. */
export function fromRecordedResponse(r: RecordedResponse): ProbeAnswer {
  return {
    status: r.status,
    content_type: r.content_type,
    body: 'json' in r ? JSON.stringify(r.json) : (r.text ?? ''),
  };
}

/** Writes `<dir>/ktpay-probe-recording.json` (the folder is created). Returns the file's path. */
export function writeRecording(dir: string, recording: ProbeRecording): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, RECORDING_FILE);
  writeFileSync(file, `${JSON.stringify(recording, null, 2)}\n`);
  return file;
}

/**
 * Reads and checks a recording against its contract.
 *
 * @example
 * const rec = readRecording('test/fixtures/probe', createSchemaRegistry());
 */
export function readRecording(dir: string, registry: SchemaRegistry): ProbeRecording {
  const file = join(dir, RECORDING_FILE);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RecordingError(
      `cannot read the recording ${file}: ${e.code === 'ENOENT' ? 'no such file (record one with --record <dir>)' : e.message}`,
    );
  }
  const validate = registry.validator('probeRecording');
  if (!validate(data)) {
    const why = (validate.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '(root)'} ${e.message ?? ''}`)
      .join('; ');
    throw new RecordingError(`${file} is not a probe recording (contracts probe-recording.json): ${why}`);
  }
  return data as ProbeRecording;
}

/**
 * The upstream side of a replay: each probe's recorded answer (or the reason it was not sent).
 * Nothing goes over the network.
 *
 * @example
 * const upstream = replaySource(readRecording(dir, registry));
 */
export function replaySource(recording: ProbeRecording): AnswerSource {
  const byProbe = new Map(recording.answers.map((a) => [a.probe, a]));
  return {
    async answer(probe) {
      const entry = byProbe.get(probe.id);
      if (!entry)
        return { kind: 'skipped', reason: `not in the recording (battery v${recording.battery_version})` };
      const r = entry.request;
      if (r.method !== probe.method || r.path !== probe.path || r.auth !== probe.auth)
        return {
          kind: 'skipped',
          reason: `recorded as ${r.method} ${r.path} (${r.auth}), not as this battery sends it: record again`,
        };
      if (!entry.response) return { kind: 'skipped', reason: entry.skipped ?? 'not sent when recorded' };
      const answer = fromRecordedResponse(entry.response);
      const payload = readAnswer(answer).payload as { transaction_hash?: unknown } | undefined;
      return {
        kind: 'answered',
        request: {
          method: entry.request.method,
          path: entry.request.path,
          auth: entry.request.auth,
          payload: entry.request.payload,
        },
        answer,
        // The recorded (redacted) hash only tells later probes that a payment exists.
        ...(probe.captures_hash && typeof payload?.transaction_hash === 'string'
          ? { hash: payload.transaction_hash }
          : {}),
        duration_ms: entry.duration_ms ?? 0,
      };
    },
  };
}

/** The recording of a live run: the upstream side of every probe. */
export function buildRecording(
  outcomes: readonly ProbeOutcome[],
  meta: Pick<ProbeRecording, 'recorded_at' | 'tool_version' | 'upstream' | 'battery_version'>,
): ProbeRecording {
  return {
    format: 'ktpay-mock-probe-recording',
    version: 1,
    ...meta,
    redacted: [...PROBE_REDACTIONS],
    answers: outcomes.map((o): RecordedAnswer => {
      const u = o.upstream;
      const p = o.probe;
      const request = { method: p.method, path: p.path, auth: p.auth };
      if (u.kind === 'skipped') return { probe: p.id, request, skipped: u.reason };
      return {
        probe: p.id,
        request: { ...request, ...(u.request.payload !== undefined ? { payload: u.request.payload } : {}) },
        response: toRecordedResponse(u.answer),
        duration_ms: u.duration_ms,
      };
    }),
  };
}
