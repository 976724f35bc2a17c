import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { BATTERY } from './battery.js';
import type { ProbeOutcome } from './probe-run.js';
import {
  buildRecording,
  readRecording,
  RECORDING_FILE,
  RecordingError,
  replaySource,
  writeRecording,
} from './recording.js';

const registry = createSchemaRegistry();
const dir = mkdtempSync(join(tmpdir(), 'ktpay-probe-rec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const [createValid, duplicate, noOrder] = BATTERY;
const answered = (body: string, status = 200): ProbeOutcome['upstream'] => ({
  kind: 'answered',
  request: {
    method: 'POST',
    path: '/payment',
    auth: 'own',
    payload: { order: { order_id: 'ktpay-mock-probe-x' } },
  },
  answer: { status, content_type: 'application/json', body },
  duration_ms: 5,
});
const outcomes: ProbeOutcome[] = [
  {
    probe: createValid!,
    order_id: 'o1',
    upstream: answered(JSON.stringify({ success: true, payload: { transaction_hash: 'f'.repeat(40) } })),
    sandbox: { kind: 'skipped', reason: 'x' },
    drifts: [],
    duration_ms: 1,
  },
  {
    probe: duplicate!,
    order_id: 'o2',
    upstream: answered('<html>502</html>', 502),
    sandbox: { kind: 'skipped', reason: 'x' },
    drifts: [],
    duration_ms: 1,
  },
  {
    probe: noOrder!,
    order_id: 'o3',
    upstream: { kind: 'skipped', reason: "the upstream's create-valid made no payment" },
    sandbox: { kind: 'skipped', reason: 'x' },
    drifts: [],
    duration_ms: 1,
  },
];
const meta = {
  recorded_at: new Date(0).toISOString(),
  tool_version: '0',
  upstream: 'https://card.test.nplus.tech/api/v1/merchant-widget',
  battery_version: 1,
};

describe('probe recordings', () => {
  it('write, read back against the contract, and replay the same answers (JSON as JSON, the rest as text)', async () => {
    writeRecording(dir, buildRecording(outcomes, meta));
    const rec = readRecording(dir, registry);
    expect(rec.answers[0]!.response).toEqual({
      status: 200,
      content_type: 'application/json',
      json: { success: true, payload: { transaction_hash: 'f'.repeat(40) } },
    });
    expect(rec.answers[1]!.response).toEqual({
      status: 502,
      content_type: 'application/json',
      text: '<html>502</html>',
    });
    expect(rec.answers[2]).toEqual({
      probe: noOrder!.id,
      request: { method: 'POST', path: '/payment', auth: 'own' },
      skipped: "the upstream's create-valid made no payment",
    });
    const source = replaySource(rec);
    const first = await source.answer(createValid!, undefined);
    expect(first).toMatchObject({ kind: 'answered', hash: 'f'.repeat(40) });
    expect(first.kind === 'answered' && JSON.parse(first.answer.body)).toEqual(
      rec.answers[0]!.response!.json,
    );
    expect(await source.answer(noOrder!, undefined)).toEqual({
      kind: 'skipped',
      reason: "the upstream's create-valid made no payment",
    });
    expect(await source.answer(BATTERY.at(-1)!, undefined)).toMatchObject({
      kind: 'skipped',
      reason: expect.stringContaining('not in the recording'),
    });
  });

  it('a probe recorded with another request is not compared', async () => {
    const rec = buildRecording(outcomes, meta);
    rec.answers[0]!.request.path = '/payment/{hash}';
    const r = await replaySource(rec).answer(createValid!, undefined);
    expect(r).toMatchObject({ kind: 'skipped', reason: expect.stringContaining('record again') });
  });

  it('refuses a file that does not follow the contract, naming what is wrong', () => {
    const bad = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(
      join(bad, RECORDING_FILE),
      JSON.stringify({ ...buildRecording(outcomes, meta), version: 2 }),
    );
    expect(() => readRecording(bad, registry)).toThrow(RecordingError);
    expect(() => readRecording(bad, registry)).toThrow(
      /not a probe recording \(contracts probe-recording.json\): \/version/,
    );
  });
});
