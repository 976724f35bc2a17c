import type { ProbeDefinition } from './battery.js';
import { compareAnswers, type ContractCheck } from './compare-answers.js';
import type { Drift } from './drift.js';
import {
  needsHash,
  prepareRequest,
  ProbeTransportError,
  sendRequest,
  type PreparedRequest,
  type ProbeTarget,
  type RunValues,
} from './probe-request.js';
import { readAnswer, type ProbeAnswer } from './read-answer.js';
import type { Redactor } from './redact.js';

/** What one side did with one probe. Answers are redacted before anything else sees them. */
export type SideResult =
  | {
      kind: 'answered';
      request: Pick<PreparedRequest, 'method' | 'path' | 'payload'> & { auth: ProbeDefinition['auth'] };
      answer: ProbeAnswer;
      /** The transaction_hash of a create-valid success, to address later probes (never reported). */
      hash?: string;
      duration_ms: number;
    }
  | { kind: 'skipped'; reason: string };

/** Where a side's answers come from: a live gateway, or a recording. */
export interface AnswerSource {
  answer(probe: ProbeDefinition, hash: string | undefined): Promise<SideResult>;
}

export interface ProbeOutcome {
  probe: ProbeDefinition;
  order_id: string;
  upstream: SideResult;
  sandbox: SideResult;
  drifts: Drift[];
  /** Why nothing was compared. */
  skipped?: string;
  duration_ms: number;
}

/** The upstream's answer shows the probe cannot go on (credentials refused, not a ktpay gateway). */
export class ProbeAbort extends Error {
  override name = 'ProbeAbort';
}

const CREDENTIAL_CODES = new Set([4220102, 4220103, 4010103, 4220104]);

const hashOf = (a: ProbeAnswer): string | undefined => {
  const payload = readAnswer(a).payload as { transaction_hash?: unknown } | undefined;
  return typeof payload?.transaction_hash === 'string' ? payload.transaction_hash : undefined;
};

/**
 * A side that sends each probe to a gateway over HTTP and redacts the answer. The hash for later
 * probes is taken from the answer before redaction.
 *
 * @example
 * const upstream = liveSource('upstream', target, run, createRedactor({ app_id, app_key }), 15_000);
 */
export function liveSource(
  name: 'upstream' | 'sandbox',
  target: ProbeTarget,
  run: RunValues,
  redactor: Redactor,
  timeoutMs: number,
): AnswerSource {
  return {
    async answer(probe, hash) {
      const req = prepareRequest(probe, target, run, hash);
      const t0 = Date.now();
      let raw: ProbeAnswer;
      try {
        raw = await sendRequest(req, timeoutMs);
      } catch (err) {
        if (err instanceof ProbeTransportError)
          throw new ProbeTransportError(`the ${name} did not answer ${probe.id} (${err.message})`);
        throw err;
      }
      return {
        kind: 'answered',
        request: { method: req.method, path: req.path, auth: probe.auth, payload: req.payload },
        answer: { ...raw, body: redactor.body(raw.body) },
        ...(probe.captures_hash && hashOf(raw) ? { hash: hashOf(raw)! } : {}),
        duration_ms: Date.now() - t0,
      };
    },
  };
}

/** Stops the run when the upstream refuses the credentials or is not a ktpay gateway at all. */
function checkUpstreamAccepted(probe: ProbeDefinition, r: SideResult): void {
  if (!probe.captures_hash || r.kind !== 'answered' || r.hash) return;
  const a = readAnswer(r.answer);
  if (a.outcome === 'error' && typeof a.code === 'number' && CREDENTIAL_CODES.has(a.code))
    throw new ProbeAbort(
      `the upstream refused the probe's credentials on ${probe.id}: ${a.code} ${JSON.stringify(a.messages ?? {})}. Check --app-id and --app-key`,
    );
  if (a.dialect === 'not_json' || a.dialect === 'unknown')
    throw new ProbeAbort(
      `the upstream did not answer ${probe.id} as a ktpay gateway (HTTP ${a.status}, ${a.media_type ?? 'no Content-Type'}): check --upstream (the API base, e.g. https://card.test.nplus.tech/api/v1/merchant-widget)`,
    );
}

/**
 * Sends the battery, probe by probe, to both sides and compares each pair of answers. A probe that
 * needs the payment of create-valid is skipped on a side where create-valid made none.
 *
 * @example
 * const outcomes = await runBattery(BATTERY, upstream, sandbox, matches, { stamp }, (i, o) => print(o));
 */
export async function runBattery(
  battery: readonly ProbeDefinition[],
  upstream: AnswerSource,
  sandbox: AnswerSource,
  matches: ContractCheck,
  orderIdOf: (probe: ProbeDefinition) => string,
  hooks: {
    start?(index: number, probe: ProbeDefinition): void;
    end?(index: number, o: ProbeOutcome): void;
  } = {},
): Promise<ProbeOutcome[]> {
  const hashes: { upstream?: string; sandbox?: string } = {};
  const outcomes: ProbeOutcome[] = [];
  const side = async (name: 'upstream' | 'sandbox', source: AnswerSource, probe: ProbeDefinition) => {
    if (needsHash(probe) && !hashes[name])
      return { kind: 'skipped', reason: `the ${name}'s create-valid made no payment` } as const;
    const r = await source.answer(probe, hashes[name]);
    if (probe.captures_hash && r.kind === 'answered' && r.hash) hashes[name] = r.hash;
    return r;
  };
  for (const [i, probe] of battery.entries()) {
    hooks.start?.(i + 1, probe);
    const t0 = Date.now();
    const u = await side('upstream', upstream, probe);
    checkUpstreamAccepted(probe, u);
    const s = await side('sandbox', sandbox, probe);
    const outcome: ProbeOutcome = {
      probe,
      order_id: orderIdOf(probe),
      upstream: u,
      sandbox: s,
      drifts:
        u.kind === 'answered' && s.kind === 'answered'
          ? compareAnswers(probe, readAnswer(u.answer), readAnswer(s.answer), matches)
          : [],
      duration_ms: Date.now() - t0,
    };
    if (u.kind === 'skipped') outcome.skipped = `upstream: ${u.reason}`;
    else if (s.kind === 'skipped') outcome.skipped = `sandbox: ${s.reason}`;
    outcomes.push(outcome);
    hooks.end?.(i + 1, outcome);
  }
  return outcomes;
}
