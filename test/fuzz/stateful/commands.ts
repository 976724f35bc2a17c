import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { setOwn } from '../../../mock-server/shared/own-property.js';
import { anyText } from '../fuzz-harness.js';
import { API, seal } from '../../helpers/sandbox.js';
import { expectApi, expectThat, json, no5xx, okJson, type ApiVerdict } from './expect.js';
import {
  acquirer,
  LIBRARY,
  outcomeOf,
  type Model,
  type MerchantModel,
  type ModelStep,
  type TxModel,
} from './model.js';
import { createPlaintext, createSpec, type CreateSpec } from './payloads.js';
import { checkReads } from './read-paths.js';
import type { SandboxUnderTest } from './sandbox-under-test.js';

/**
 * The commands of the stateful fuzz (issue 22 §2), in fast-check's model-based form: each one
 * says what the model expects, sends the request over HTTP, compares, updates the model, and then
 * reads every read path (read-paths.ts). Several merchants act in turn; transactions and merchants
 * are picked by index, so any generated sequence applies to any state.
 */

export interface Real {
  sb: SandboxUnderTest;
  steps: number;
  /** Wall time per command kind (the command and the reads after it), for the report. */
  timing: Record<string, { n: number; ms: number }>;
}

type Cmd = fc.AsyncCommand<Model, Real>;

const pick = <T>(list: readonly T[], i: number): T | undefined =>
  list.length === 0 ? undefined : list[i % list.length];
const BODY_LIMIT = 65_536;

/** The text after a prefix, cut to the contract's 255 characters (code points, as ajv counts them). */
function orderIdOf(model: Model, m: MerchantModel, spec: CreateSpec, n: number): string {
  if ('reuse' in spec.orderId && m.orderIds.length > 0)
    return m.orderIds[spec.orderId.reuse % m.orderIds.length]!;
  const text = 'fresh' in spec.orderId ? spec.orderId.fresh : '';
  return [...`${model.prefix}-${n}-${text}`].slice(0, 255).join('');
}

/** Commands run their reads themselves; this finishes a step. */
async function step(
  model: Model,
  real: Real,
  touched: string[],
  changed: Set<string> = new Set(),
  pages = false,
) {
  real.steps++;
  await checkReads(model, real.sb, touched, { changed, step: real.steps, pages });
}

/** A change the event stream must name, registered with the stream position taken before the command. */
function streamed(real: Real, mark: number, hashes: Iterable<string>) {
  for (const h of hashes) real.sb.expectChange(h, mark);
}

// ── create ────────────────────────────────────────────────────────────────────────────────────

class CreateCommand implements Cmd {
  constructor(
    readonly merchant: number,
    readonly spec: CreateSpec,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const m = pick(model.live(), this.merchant)!;
    const orderId = orderIdOf(model, m, this.spec, model.txs.length + model.journal.length);
    const text = createPlaintext(this.spec, orderId, {
      receiver: real.sb.receiverUrl,
      unreachable: real.sb.unreachableUrl,
    });
    const body = await seal(text, m.app_key);
    let verdict: ApiVerdict;
    if (body.length > BODY_LIMIT) verdict = { code: 4130120 };
    else if (this.spec.verdict === 'too_deep') verdict = { code: 4220101 };
    else {
      const effect = model.resolve(m, 'create');
      if (effect?.type === 'respond_error') verdict = { code: effect.code };
      else if (this.spec.verdict === 'invalid' || m.orderIds.includes(orderId)) verdict = { code: 4220002 };
      else verdict = { ok: true };
    }
    const mark = real.sb.streamMark();
    const res = await real.sb.request({
      method: 'POST',
      url: `${API}/payment`,
      headers: { 'auth-identifier': m.app_id, 'content-type': 'text/plain' },
      payload: body,
    });
    // A body over BODY_LIMIT is refused by the body parser, before the route runs: still in the
    // dialect of the merchant Auth-Identifier names (issue 15), like every other error.
    const payload = expectApi(res, m.envelope, verdict, `create ${this}`);
    let hash: string | null = null;
    if ('ok' in verdict) {
      hash = payload.transaction_hash as string;
      expectThat(/^[0-9a-f]{40}$/.test(hash) && !model.tx(hash), `create ${this}: hash ${hash}`, res);
      m.orderIds.push(orderId);
      const tx: TxModel = {
        hash,
        app_id: m.app_id,
        order_id: orderId,
        cents: this.spec.cents,
        refundedCents: 0,
        refunds: 0,
        status: 'pending',
        history: ['pending'],
        url:
          this.spec.callback === 'receiver'
            ? real.sb.receiverUrl
            : this.spec.callback === 'unreachable'
              ? real.sb.unreachableUrl
              : null,
        service: this.spec.service,
        deliveries: [],
        notes: 0,
        receiptRendered: false,
      };
      model.txs.push(tx);
      streamed(real, mark, [hash]);
    }
    model.record({
      method: 'POST',
      path: `${API}/payment`,
      status: res.statusCode,
      code: 'ok' in verdict ? null : verdict.code,
      hash,
      app_id: m.app_id,
    });
    await step(model, real, hash ? [hash] : [], new Set(hash ? [hash] : []));
  }
  toString() {
    return `create(m${this.merchant}, ${this.spec.verdict}, ${this.spec.cents}c, extras ${JSON.stringify(this.spec.extras.map((e) => `${e.at}.${e.key}`))}${this.spec.verdict === 'invalid' ? `, ${this.spec.defect}` : ''})`;
  }
}

// ── pay, clear (admin) ────────────────────────────────────────────────────────────────────────

const APPROVE = '4405639704015096';
const CHALLENGE = '5522042705066736';
const DECLINES = acquirer.cards.cards
  .filter((c) => c.code !== acquirer.outcomes.approved_code)
  .map((c) => c.pan);
const CODES = Object.keys(acquirer.outcomes.codes);

type CardChoice =
  | { kind: 'approve' | 'invalid-luhn' | 'expired' }
  | { kind: 'challenge'; otp: string | undefined }
  | { kind: 'decline'; pan: string }
  | { kind: 'code'; code: string };

const cardChoice: fc.Arbitrary<CardChoice> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'approve' as const }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('1111', '0000', undefined).map((otp) => ({ kind: 'challenge' as const, otp })),
  },
  { weight: 2, arbitrary: fc.constantFrom(...DECLINES).map((pan) => ({ kind: 'decline' as const, pan })) },
  { weight: 1, arbitrary: fc.constantFrom(...CODES, '00').map((code) => ({ kind: 'code' as const, code })) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'invalid-luhn' as const }, { kind: 'expired' as const }) },
);

class PayCommand implements Cmd {
  constructor(
    readonly index: number,
    readonly card: CardChoice,
  ) {}
  check = (model: Readonly<Model>) => model.txs.length > 0;
  async run(model: Model, real: Real) {
    const tx = pick(model.txs, this.index)!;
    const m = model.merchant(tx.app_id)!;
    const c = this.card;
    const pan =
      c.kind === 'approve'
        ? APPROVE
        : c.kind === 'challenge'
          ? CHALLENGE
          : c.kind === 'decline'
            ? c.pan
            : c.kind === 'invalid-luhn'
              ? '4111111111111112'
              : '4111111111111111';
    const body: Record<string, unknown> = {
      pan,
      exp_month: '12',
      exp_year: c.kind === 'expired' ? '20' : '35',
      cvc: pan.startsWith('3') ? '1234' : '123',
      ...(c.kind === 'code' ? { cardholder: `CODE ${c.code}` } : {}),
      ...(c.kind === 'challenge' && c.otp !== undefined ? { otp: c.otp } : {}),
    };

    // What the bank decides, by the card table, the merchant's scenario and the 3-D Secure answer.
    type Expect =
      { code: number } | { acquirer: string; status: TxModel['status']; via: TxModel['status'][] };
    let expected: Expect;
    if (tx.status !== 'pending') expected = { code: 4090111 };
    else {
      const effect = model.resolve(m, 'pay');
      if (c.kind === 'invalid-luhn' || c.kind === 'expired') expected = { code: 4220122 };
      else {
        const listed = acquirer.cards.cards.find((x) => x.pan === pan);
        let code = c.kind === 'code' ? c.code : (listed?.code ?? acquirer.cards.other_cards.code);
        let threeDs = c.kind === 'code' ? 'frictionless' : (listed?.three_ds ?? 'frictionless');
        if (effect?.type === 'acquirer_outcome') {
          if (effect.code !== undefined) code = effect.code;
          if (effect.three_ds !== undefined) threeDs = effect.three_ds;
        }
        const otp = c.kind === 'challenge' ? c.otp : undefined;
        if (threeDs === 'challenge' && otp === undefined) expected = { code: 4220122 };
        else if (m.deleted) expected = { code: 4040108 };
        else {
          if (threeDs === 'challenge' && otp !== acquirer.cards.three_ds.otp)
            code = acquirer.cards.three_ds.failure_code;
          let outcome = outcomeOf(code, tx.service);
          if (code === acquirer.outcomes.approved_code) {
            const service = model.resolve(m, 'service');
            const refusal = acquirer.outcomes.service_gateway_refusal;
            if (service?.type === 'service_outcome' && tx.service)
              outcome =
                service.result === 'refuse'
                  ? { status: refusal.status, via: ['authorized'] }
                  : { status: 'success', via: ['authorized'] };
          }
          expected = { acquirer: code, ...outcome };
        }
      }
    }

    const mark = real.sb.streamMark();
    const res = await real.sb.request({
      method: 'POST',
      url: `/__admin/transactions/${tx.hash}/pay`,
      payload: body,
    });
    no5xx(res, `pay ${this}`);
    const changed = new Set<string>();
    if ('code' in expected) {
      const got = (json(res, 'pay') as { error?: { code?: number } }).error?.code;
      expectThat(
        got === expected.code,
        `pay ${this} of ${tx.status} ${tx.hash}: model ${expected.code}, sandbox ${got}`,
        res,
      );
    } else {
      const out = okJson<{ outcome: string; acquirer_code: string; transaction: { status: string } }>(
        res,
        `pay ${this}`,
        'adminPayResult',
      );
      const outcome = expected.acquirer === acquirer.outcomes.approved_code ? 'approved' : 'declined';
      expectThat(
        out.acquirer_code === expected.acquirer &&
          out.outcome === outcome &&
          out.transaction.status === expected.status,
        `pay ${this}: model ${expected.acquirer} ${outcome} ${expected.status}`,
        res,
      );
      model.moved(tx, expected.status, expected.via);
      changed.add(tx.hash);
      streamed(real, mark, changed);
    }
    await step(model, real, [tx.hash], changed);
  }
  toString() {
    return `pay(t${this.index}, ${JSON.stringify(this.card)})`;
  }
}

class ClearCommand implements Cmd {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>) => model.txs.length > 0;
  async run(model: Model, real: Real) {
    const tx = pick(model.txs, this.index)!;
    const mark = real.sb.streamMark();
    const res = await real.sb.request({ method: 'POST', url: `/__admin/transactions/${tx.hash}/clear` });
    no5xx(res, `clear ${tx.hash}`);
    const changed = new Set<string>();
    if (tx.status === 'success') {
      const view = okJson<{ status: string }>(res, `clear ${tx.hash}`, 'adminTransactionView');
      expectThat(view.status === 'completed', `clear ${tx.hash}`, res);
      model.moved(tx, 'completed');
      changed.add(tx.hash);
      streamed(real, mark, changed);
    } else {
      const code = (json(res, 'clear') as { error?: { code?: number } }).error?.code;
      expectThat(code === 4090111, `clear of ${tx.status} ${tx.hash}: expected 4090111`, res);
    }
    await step(model, real, [tx.hash], changed);
  }
  toString() {
    return `clear(t${this.index})`;
  }
}

// ── cancel, refund (merchant API) ─────────────────────────────────────────────────────────────

type Caller = 'owner' | 'other' | 'unknown';
type BodyKind = 'empty' | 'reason' | 'proto' | 'deep' | 'garbage' | 'badtype' | 'longreason';
type AmountKind = 'full' | 'part' | 'over' | 'zero' | 'negative' | 'fraction' | 'string';

const UNKNOWN_APP_ID = 'f'.repeat(32);

/** Who calls, and the dialect their errors come in. */
function caller(model: Model, tx: TxModel, who: Caller, other: number) {
  const owner = model.merchant(tx.app_id)!;
  if (who === 'owner')
    return { m: owner.deleted ? undefined : owner, appId: owner.app_id, key: owner.app_key };
  if (who === 'other') {
    const o = pick(
      model.live().filter((x) => x.app_id !== tx.app_id),
      other,
    );
    if (o) return { m: o, appId: o.app_id, key: o.app_key };
  }
  return { m: undefined, appId: UNKNOWN_APP_ID, key: owner.app_key };
}

/** The sealed (or not) body, and the code it earns before any state check. */
async function operationBody(
  kind: BodyKind,
  payload: Record<string, unknown>,
  key: string,
  reason: string,
): Promise<{ body: string; code?: number; reason: string | null }> {
  switch (kind) {
    case 'empty':
      return { body: '', reason: null };
    case 'reason':
      return { body: await seal({ ...payload, reason }, key), reason: reason || null };
    case 'longreason':
      return { body: await seal({ ...payload, reason: 'r'.repeat(1025) }, key), code: 4220002, reason: null };
    case 'proto': {
      // A `__proto__` key holding what would change the outcome if it became a prototype.
      const withProto: Record<string, unknown> = {};
      setOwn(withProto, '__proto__', { reason: 'hijacked', amount: 0.01 });
      return { body: await seal(JSON.stringify({ ...withProto, ...payload }), key), reason: null };
    }
    case 'deep':
      return {
        body: await seal(`{"x":${'['.repeat(70)}${']'.repeat(70)}}`, key),
        code: 4220101,
        reason: null,
      };
    case 'garbage':
      return { body: 'not a sealed box', code: 4220101, reason: null };
    case 'badtype':
      return { body: await seal({ ...payload, reason: 5 }, key), code: 4220002, reason: null };
  }
}

/** What cancel and refund answer before the state machine decides: the caller, then the body. */
function refusedBeforeState(
  c: ReturnType<typeof caller>,
  tx: TxModel,
  bodyCode: number | undefined,
): ApiVerdict | undefined {
  if (!c.m) return { code: 4220103 };
  if (c.m.app_id !== tx.app_id) return { code: 4040108 };
  if (bodyCode) return { code: bodyCode };
  return undefined;
}

/**
 * Sends a cancel or refund as `c` and checks the verdict; on success the payment moves to what
 * `to` says (from the answer's status object). Journaled like any merchant-API call: an unknown
 * caller is refused before the route names the transaction.
 */
async function merchantOperation(
  model: Model,
  real: Real,
  op: {
    name: 'cancel' | 'refund';
    tx: TxModel;
    c: ReturnType<typeof caller>;
    body: string;
    verdict: ApiVerdict;
    what: string;
  },
  to: (status: string) => TxModel['status'],
): Promise<void> {
  const { tx, c, verdict } = op;
  const mark = real.sb.streamMark();
  const res = await real.sb.request({
    method: 'POST',
    url: `${API}/payment/${tx.hash}/${op.name}`,
    headers: { 'auth-identifier': c.appId, 'content-type': 'text/plain' },
    payload: op.body,
  });
  const out = expectApi(res, c.m?.envelope ?? 'reference', verdict, `${op.what} of ${tx.status} ${tx.hash}`);
  const changed = new Set<string>();
  if ('ok' in verdict) {
    const status = (out.status as { status: string }).status;
    const next = to(status);
    expectThat(status === next, `${op.what}: model ${next}`, res);
    model.moved(tx, next);
    changed.add(tx.hash);
    streamed(real, mark, changed);
  }
  model.record({
    method: 'POST',
    path: `${API}/payment/${tx.hash}/${op.name}`,
    status: res.statusCode,
    code: 'ok' in verdict ? null : verdict.code,
    hash: c.m ? tx.hash : null,
    app_id: c.appId,
  });
  await step(model, real, [tx.hash], changed);
}

class CancelCommand implements Cmd {
  constructor(
    readonly index: number,
    readonly who: Caller,
    readonly other: number,
    readonly kind: BodyKind,
    readonly reason: string,
  ) {}
  check = (model: Readonly<Model>) => model.txs.length > 0;
  async run(model: Model, real: Real) {
    const tx = pick(model.txs, this.index)!;
    const c = caller(model, tx, this.who, this.other);
    const b = await operationBody(this.kind, {}, c.key, this.reason);
    let verdict: ApiVerdict;
    const refused = refusedBeforeState(c, tx, b.code);
    if (refused) verdict = refused;
    else if (['pending', 'authorized', 'success'].includes(tx.status)) verdict = { ok: true };
    else if (['completed', 'partially_refunded'].includes(tx.status)) verdict = { code: 4090115 };
    else verdict = { code: 4090111 };
    await merchantOperation(
      model,
      real,
      { name: 'cancel', tx, c, body: b.body, verdict, what: `cancel ${this}` },
      () => 'cancelled',
    );
  }
  toString() {
    return `cancel(t${this.index}, ${this.who}, ${this.kind})`;
  }
}

class RefundCommand implements Cmd {
  constructor(
    readonly index: number,
    readonly who: Caller,
    readonly other: number,
    readonly amount: AmountKind,
    readonly fraction: number,
    readonly kind: BodyKind,
  ) {}
  check = (model: Readonly<Model>) => model.txs.length > 0;
  async run(model: Model, real: Real) {
    const tx = pick(model.txs, this.index)!;
    const c = caller(model, tx, this.who, this.other);
    const remaining = tx.cents - tx.refundedCents;
    const partCents = Math.max(1, Math.min(remaining - 1, Math.round(remaining * this.fraction)));
    const amounts: Record<AmountKind, unknown> = {
      full: undefined,
      part: partCents / 100,
      over: (remaining + 1) / 100,
      zero: 0,
      negative: -1,
      fraction: 0.001,
      string: '10',
    };
    const amount = amounts[this.amount];
    const payload = amount === undefined ? {} : { amount };
    // An empty body is a full refund too; 'reason' and 'proto' carry the amount.
    const kind = this.kind === 'empty' && amount !== undefined ? 'reason' : this.kind;
    const b = await operationBody(kind, payload, c.key, 'возврат');
    const cents =
      amount === undefined ? remaining : typeof amount === 'number' ? Math.round(amount * 100) : NaN;
    let verdict: ApiVerdict;
    const refused = refusedBeforeState(c, tx, b.code);
    if (refused) verdict = refused;
    else if (this.amount === 'string') verdict = { code: 4220002 };
    else if (['pending', 'authorized', 'success'].includes(tx.status)) verdict = { code: 4090116 };
    else if (!['completed', 'partially_refunded'].includes(tx.status)) verdict = { code: 4090111 };
    else if (['zero', 'negative', 'fraction'].includes(this.amount)) verdict = { code: 4220114 };
    else if (cents > remaining) verdict = { code: 4220112 };
    else verdict = { ok: true };
    const what = `refund ${this} (remaining ${remaining}c)`;
    await merchantOperation(model, real, { name: 'refund', tx, c, body: b.body, verdict, what }, () => {
      tx.refundedCents += cents;
      tx.refunds++;
      return tx.refundedCents === tx.cents ? 'refunded' : 'partially_refunded';
    });
  }
  toString() {
    return `refund(t${this.index}, ${this.who}, ${this.amount}, ${this.kind})`;
  }
}

// ── scenarios, merchants, the outbox, time, restarts ──────────────────────────────────────────

type ScenarioChoice =
  | { kind: 'library'; name: string }
  | { kind: 'custom'; steps: ModelStep[] }
  | { kind: 'off' }
  | { kind: 'unknown' }
  | { kind: 'invalid' };

const customStep: fc.Arbitrary<ModelStep> = fc.oneof(
  fc.record({
    endpoint: fc.constant('create'),
    times: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant('always' as const)),
    effect: fc
      .constantFrom(4220002, 4220101, 4220103, 4290118, 4090111)
      .map((code) => ({ type: 'respond_error' as const, code })),
  }),
  fc.record({
    endpoint: fc.constant('callback'),
    times: fc.oneof(fc.integer({ min: 1, max: 2 }), fc.constant('always' as const)),
    effect: fc
      .constantFrom('drop', 'duplicate', 'extra_fields', 'fail_first')
      .map((action) => ({ type: 'callback' as const, action })),
  }),
);

const scenarioChoice: fc.Arbitrary<ScenarioChoice> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(...LIBRARY.keys()).map((name) => ({ kind: 'library' as const, name })),
  },
  {
    weight: 3,
    arbitrary: fc
      .array(customStep, { minLength: 1, maxLength: 2 })
      .map((steps) => ({ kind: 'custom' as const, steps })),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'off' as const }) },
  { weight: 1, arbitrary: fc.constantFrom({ kind: 'unknown' as const }, { kind: 'invalid' as const }) },
);

class ScenarioCommand implements Cmd {
  constructor(
    readonly merchant: number,
    readonly choice: ScenarioChoice,
    readonly touch: number,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const m = pick(model.live(), this.merchant)!;
    const url = `/__admin/merchants/${m.app_id}/scenario`;
    const c = this.choice;
    let res: LightMyRequestResponse;
    if (c.kind === 'off') {
      res = await real.sb.request({ method: 'DELETE', url });
      okJson(res, `scenario off for ${m.app_id}`, 'merchantView');
      m.scenario = null;
    } else if (c.kind === 'library') {
      res = await real.sb.request({ method: 'PUT', url, payload: { name: c.name } });
      okJson(res, `activate ${c.name}`, 'merchantView');
      m.scenario = c.name;
    } else if (c.kind === 'custom') {
      const name = `${model.prefix}-c${model.custom.size + 1}`;
      const scenario = {
        name,
        description: 'stateful fuzz',
        steps: c.steps.map((s) => ({ match: { endpoint: s.endpoint }, times: s.times, effect: s.effect })),
      };
      res = await real.sb.request({ method: 'PUT', url, payload: { scenario } });
      okJson(res, `activate ${name}`, 'merchantView');
      model.custom.set(name, c.steps);
      m.scenario = name;
    } else {
      const payload =
        c.kind === 'unknown' ? { name: 'no-such-scenario' } : { scenario: { name: 'Bad Name', steps: [] } };
      res = await real.sb.request({ method: 'PUT', url, payload });
      no5xx(res, `scenario ${c.kind}`);
      const code = (json(res, 'scenario') as { error?: { code?: number } }).error?.code;
      expectThat(code === (c.kind === 'unknown' ? 4040124 : 4220122), `scenario ${c.kind}`, res);
    }
    const tx = pick(model.txs, this.touch);
    await step(model, real, tx ? [tx.hash] : [], new Set(), true);
  }
  toString() {
    return `scenario(m${this.merchant}, ${JSON.stringify(this.choice)})`;
  }
}

type MerchantChoice =
  | {
      kind: 'create';
      name: string;
      envelope: 'reference' | 'widget';
      locale: 'ru' | 'en';
      notify: Array<'cancelled' | 'refunded'>;
      callback: boolean;
      version: 1 | 2;
    }
  | { kind: 'bad'; body: string; code: number }
  | { kind: 'delete'; index: number };

const merchantChoice: fc.Arbitrary<MerchantChoice> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      name: anyText(40),
      envelope: fc.constantFrom('reference' as const, 'widget' as const),
      locale: fc.constantFrom('ru' as const, 'en' as const),
      notify: fc.subarray(['cancelled', 'refunded'] as Array<'cancelled' | 'refunded'>),
      callback: fc.boolean(),
      version: fc.constantFrom(1 as const, 2 as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<MerchantChoice>(
      { kind: 'bad', body: '{"name":"x"}', code: 4220122 },
      {
        kind: 'bad',
        body: '{"__proto__":{"domains":["a.kz"]},"name":"x","public_key":"' + 'a'.repeat(43) + '="}',
        code: 4220101,
      },
      {
        kind: 'bad',
        body:
          '{"constructor":{"name":"x"},"name":"x","domains":["a.kz"],"public_key":"' + 'a'.repeat(43) + '="}',
        code: 4220122,
      },
      { kind: 'bad', body: `{"name":${'['.repeat(100)}${']'.repeat(100)}}`, code: 4220101 },
      { kind: 'bad', body: '{"name":', code: 4220101 },
    ),
  },
  { weight: 1, arbitrary: fc.nat(10).map((index) => ({ kind: 'delete' as const, index })) },
);

class MerchantCommand implements Cmd {
  constructor(readonly choice: MerchantChoice) {}
  check = (model: Readonly<Model>) => this.choice.kind !== 'create' || model.merchants.length < 5;
  async run(model: Model, real: Real) {
    const c = this.choice;
    if (c.kind === 'create') {
      const name = [...`${model.prefix} m${model.merchants.length} ${c.name}`].slice(0, 255).join('');
      const res = await real.sb.request({
        method: 'POST',
        url: '/__admin/merchants',
        payload: {
          name,
          domains: ['127.0.0.1', 'localhost'],
          public_key: randomBytes(32).toString('base64'),
          envelope: c.envelope,
          locale: c.locale,
          notify_on: c.notify,
          acquirer_options_version: c.version,
          ...(c.callback ? { callback_post_url: real.sb.receiverUrl } : {}),
        },
      });
      const view = okJson<{ app_id: string; app_key: string }>(
        res,
        `create merchant ${JSON.stringify(name)}`,
        'merchantView',
      );
      model.merchants.push({
        app_id: view.app_id,
        app_key: view.app_key,
        envelope: c.envelope,
        locale: c.locale,
        notify_on: c.notify,
        callback_post_url: c.callback ? real.sb.receiverUrl : null,
        acquirer_options_version: c.version,
        builtin: false,
        deleted: false,
        scenario: null,
        orderIds: [],
      });
    } else if (c.kind === 'bad') {
      const res = await real.sb.request({
        method: 'POST',
        url: '/__admin/merchants',
        headers: { 'content-type': 'application/json' },
        payload: c.body,
      });
      no5xx(res, 'bad merchant body');
      const code = (json(res, 'bad merchant') as { error?: { code?: number } }).error?.code;
      expectThat(code === c.code, `merchant body ${c.body.slice(0, 60)}: model ${c.code}`, res);
    } else {
      const m = pick(
        model.live().filter((x) => !x.builtin),
        c.index,
      );
      if (m) {
        const res = await real.sb.request({ method: 'DELETE', url: `/__admin/merchants/${m.app_id}` });
        const owed = model.txs.filter((t) => t.app_id === m.app_id);
        const body = okJson<{ purged: { transactions: number; callback_deliveries: number } }>(
          res,
          `delete merchant ${m.app_id}`,
          'merchantPurge',
        );
        expectThat(
          body.purged.transactions === owed.length,
          `delete merchant ${m.app_id}: purged ${body.purged.transactions} transactions, model ${owed.length}`,
          res,
        );
        // The purged transactions are gone from every read path (checkReads counts the rest).
        for (const hash of model.purge(m)) {
          const read = await real.sb.request({ url: `/__admin/transactions/${hash}` });
          expectThat(read.statusCode === 404, `transaction ${hash} of a deleted merchant still read`, read);
        }
      }
    }
    await step(model, real, [], new Set(), true);
  }
  toString() {
    return `merchant(${JSON.stringify(this.choice).slice(0, 120)})`;
  }
}

/** Up to three transactions that owe callbacks: the ones the outbox commands act on. */
const withCallbacks = (model: Model) =>
  model.txs
    .filter((t) => t.deliveries.length > 0)
    .slice(0, 3)
    .map((t) => t.hash);

class FlushCommand implements Cmd {
  check = () => true;
  async run(model: Model, real: Real) {
    const res = await real.sb.request({ method: 'POST', url: '/__admin/callbacks/flush' });
    okJson(res, 'flush', 'callbackFlushResult');
    await step(model, real, withCallbacks(model));
  }
  toString() {
    return 'flush()';
  }
}

/** Time passes on the sandbox's clock: callback retries fall due (clearing is manual). */
class TimeCommand implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    real.sb.clock.advance(this.ms);
    await step(model, real, withCallbacks(model));
  }
  toString() {
    return `time(+${this.ms} ms)`;
  }
}

/** Stop and start the sandbox on the same SQLite file: everything the model knows must still be read back. */
class RestartCommand implements Cmd {
  check = (model: Readonly<Model>) => model.kind === 'sqlite';
  async run(model: Model, real: Real) {
    await real.sb.restart();
    // User scenarios and use counts live in the store and survive it; the built-in merchant is
    // installed again from the config on every start, without its activation.
    for (const m of model.merchants) if (m.builtin) m.scenario = null;
    await step(
      model,
      real,
      model.txs.map((t) => t.hash),
      new Set(),
      true,
    );
  }
  toString() {
    return 'restart()';
  }
}

// Time each command kind, reads included.
for (const C of [
  CreateCommand,
  PayCommand,
  ClearCommand,
  CancelCommand,
  RefundCommand,
  ScenarioCommand,
  MerchantCommand,
  FlushCommand,
  TimeCommand,
  RestartCommand,
]) {
  const run = C.prototype.run as (this: Cmd, model: Model, real: Real) => Promise<void>;
  C.prototype.run = async function timedRun(this: Cmd, model: Model, real: Real) {
    const started = performance.now();
    try {
      await run.call(this, model, real);
    } finally {
      const kind = C.name.replace(/Command$/, '').toLowerCase();
      const t = (real.timing[kind] ??= { n: 0, ms: 0 });
      t.n++;
      t.ms += performance.now() - started;
    }
  };
}

/** Every command, weighted towards the ones that move payments. */
export const commandArbitraries = [
  fc.tuple(fc.nat(9), createSpec).map(([m, spec]) => new CreateCommand(m, spec)),
  fc.tuple(fc.nat(9), createSpec).map(([m, spec]) => new CreateCommand(m, spec)),
  fc.tuple(fc.nat(30), cardChoice).map(([i, card]) => new PayCommand(i, card)),
  fc.tuple(fc.nat(30), cardChoice).map(([i, card]) => new PayCommand(i, card)),
  fc.nat(30).map((i) => new ClearCommand(i)),
  fc
    .tuple(
      fc.nat(30),
      fc.constantFrom<Caller>('owner', 'owner', 'owner', 'other', 'unknown'),
      fc.nat(5),
      fc.constantFrom<BodyKind>('empty', 'reason', 'proto', 'deep', 'garbage', 'badtype', 'longreason'),
      anyText(80),
    )
    .map(([i, who, o, kind, reason]) => new CancelCommand(i, who, o, kind, reason)),
  fc
    .tuple(
      fc.nat(30),
      fc.constantFrom<Caller>('owner', 'owner', 'owner', 'other', 'unknown'),
      fc.nat(5),
      fc.constantFrom<AmountKind>(
        'full',
        'full',
        'part',
        'part',
        'over',
        'zero',
        'negative',
        'fraction',
        'string',
      ),
      fc.double({ min: 0.05, max: 0.95, noNaN: true }),
      fc.constantFrom<BodyKind>('empty', 'reason', 'reason', 'proto', 'deep', 'garbage'),
    )
    .map(([i, who, o, amount, fraction, kind]) => new RefundCommand(i, who, o, amount, fraction, kind)),
  fc.tuple(fc.nat(9), scenarioChoice, fc.nat(30)).map(([m, choice, t]) => new ScenarioCommand(m, choice, t)),
  merchantChoice.map((choice) => new MerchantCommand(choice)),
  fc.constant(new FlushCommand()),
  fc.constantFrom(1_000, 20_000, 700_000, 4_000_000).map((ms) => new TimeCommand(ms)),
  fc.constant(new RestartCommand()),
];
