import { ErrorCode } from '../../contracts/error-catalog.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { Merchant } from '../merchants/merchant.js';
import type { PaymentService } from '../payments/payment-service.js';
import type { PaymentEvent } from '../payments/payment-state.js';
import type { AcquirerSession, CardInfo, Transaction } from '../payments/transaction.js';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { AcquirerData, ThreeDsMode } from './acquirer-data.js';
import {
  decideCard,
  decideChallenge,
  serviceVerdict,
  verdictOf,
  type AcquirerOverride,
  type OverrideQuery,
  type CardForm,
  type InputError,
} from './bank-decision.js';
import { bankCertId, bankNoticeXml, verifyBankNotice, type BankResult } from './bank-documents.js';
import { normalizePan } from './card-rules.js';

/** What became of a card form. */
export type CardStep =
  | { kind: 'invalid'; errors: InputError[]; tx: Transaction }
  | { kind: 'challenge'; tx: Transaction }
  | { kind: 'otp_required'; tx: Transaction }
  | { kind: 'done'; tx: Transaction; code: string; three_ds: ThreeDsMode }
  | { kind: 'not_pending'; tx: Transaction };

export type ChallengeStep =
  | { kind: 'done'; tx: Transaction; code: string; three_ds: ThreeDsMode }
  | { kind: 'no_challenge'; tx: Transaction };

export interface PayPipelineDeps {
  store: Store;
  clock: Clock;
  payments: PaymentService;
  data: AcquirerData;
  /** A scenario's say over the bank's answer for this transaction (issue 6); undefined = the card table. */
  override?: (tx: Transaction, query: OverrideQuery) => Promise<AcquirerOverride | undefined>;
}

/**
 * `n` decimal digits derived from `seed`, the same for the same seed: FNV-1a over the seed, then a
 * linear congruential sequence. The bank's reference and approval code only need to look like
 * numbers and repeat per attempt; a SHA-256 here was ~1 % of a paid callback in issue 10's profile.
 */
export function digits(seed: string, n: number): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193) >>> 0;
  let out = '';
  for (let i = 0; i < n; i++) {
    h = (Math.imul(h, 1_664_525) + 1_013_904_223) >>> 0;
    out += String((h >>> 16) % 10);
  }
  return out;
}

/**
 * The one way a payment is made, shared by the bank's pages, the v1 form, and
 * `POST /__admin/transactions/{hash}/pay`: the card decision (pure, {@link decideCard}), an
 * optional 3-D Secure challenge, then the bank's signed notice, which {@link acceptNotice} turns
 * into status changes exactly as the post-link endpoint does.
 *
 * Every change is one atomic store write on the payment as it is at that moment (a change
 * function), never a read followed by a write: a notice is applied with its session and all its
 * status changes in one write, so of two pays of one payment arriving together exactly one is
 * applied, and the other sees the result (`not_pending`), as if it had come second.
 *
 * @example
 * const pipeline = createPayPipeline({ store, clock, payments, data: loadAcquirerData() });
 * await pipeline.openSession(hash, { mode: 'v2', back_link, framed: false, attempts: 0 });
 * const step = await pipeline.submitCard(hash, form);
 */
export function createPayPipeline(deps: PayPipelineDeps) {
  const { store, clock, payments, data } = deps;
  // The bank's certificate id per merchant: a hash of the app_id that never changes, so it is made once.
  const certIds = new Map<string, string>();
  const certIdOf = (appId: string) => {
    let id = certIds.get(appId);
    if (id === undefined) certIds.set(appId, (id = bankCertId(appId)));
    return id;
  };

  const notFound = (hash: string) =>
    new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
      diagnostic: `no transaction ${hash} in this sandbox`,
    });

  async function load(hash: string): Promise<Transaction> {
    const tx = await store.getTransaction(hash);
    if (!tx) throw notFound(hash);
    return tx;
  }

  async function merchantOf(tx: Transaction): Promise<Merchant> {
    const m = await store.getMerchant(tx.app_id);
    if (!m) {
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: `the merchant ${tx.app_id} of transaction ${tx.hash} no longer exists`,
      });
    }
    return m;
  }

  /**
   * Writes the session `make` builds from the payment as it is now. With `pendingOnly`, a payment
   * that has a result meanwhile is left alone and undefined is returned.
   */
  async function saveSession(
    hash: string,
    make: (tx: Transaction) => AcquirerSession,
    opts: { pendingOnly?: boolean } = {},
  ): Promise<Transaction | undefined> {
    const result = await store.updateTransaction(hash, (tx) =>
      opts.pendingOnly && tx.status !== 'pending' ? undefined : { tx: { ...tx, acquirer: make(tx) } },
    );
    if (!result) throw notFound(hash);
    return result.after === result.before && opts.pendingOnly ? undefined : result.after;
  }

  function sessionOf(tx: Transaction): AcquirerSession {
    if (!tx.acquirer) {
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: `transaction ${tx.hash} has not been opened at the bank: start from acquirer-options or /payment-card`,
      });
    }
    return tx.acquirer;
  }

  function withoutChallenge(s: AcquirerSession): AcquirerSession {
    const rest: AcquirerSession = { ...s };
    delete rest.challenge;
    return rest;
  }

  /** Applies the bank's notice: authorize (+ service crediting) + confirm, or fail. Idempotent per notice. */
  async function acceptNotice(hash: string, xml: string): Promise<Transaction> {
    const tx = await load(hash);
    const check = verifyBankNotice(xml, tx, await merchantOf(tx));
    if (!check.ok)
      throw new KtpayError(ErrorCode.BAD_DATA_4220101, { diagnostic: `post-link: ${check.reason}` });
    return applyNotice(tx, xml, check.result, (s) => s, { replay: true });
  }

  /**
   * The status changes a verified notice makes, in one write with the session it ends (`session`
   * turns the session as it is then into the one to keep). The sandbox's own bank (see
   * {@link finish}) comes straight here with the result it has just signed: checking its own fresh
   * signature and reading the XML back would give the same result at twice the hashing (issue
   * 10's profile).
   */
  async function applyNotice(
    tx: Transaction,
    xml: string,
    result: Pick<BankResult, 'response_code' | 'card'>,
    session: (current: AcquirerSession) => AcquirerSession,
    opts: { replay?: boolean } = {},
  ): Promise<Transaction> {
    const { hash } = tx;
    const card: CardInfo = result.card;
    const verdict = verdictOf(result.response_code, data);
    const at = clock.now();
    let events: PaymentEvent[];
    if (!verdict.approved) {
      events = [{ type: 'fail', at, status: verdict.status, error: verdict.error, card }];
    } else {
      const service = serviceVerdict(tx, data, await deps.override?.(tx, { phase: 'service' }));
      const detail =
        tx.type === 'service' && tx.service
          ? `credited to service ${tx.service.service_id} (contract ${tx.service.contract_value})`
          : undefined;
      events = [
        { type: 'authorize', at, card },
        service.credited
          ? { type: 'confirm', at, ...(detail ? { detail } : {}) }
          : { type: 'fail', at, status: service.status, error: service.error },
      ];
    }
    return payments.apply(hash, events, {
      prepare(now) {
        if (now.status !== 'pending') {
          // The bank sending this very notice again (post-link): applied already, nothing to do.
          // Not for the sandbox's own bank: two pays of one payment at the same millisecond sign
          // the same notice (same attempt number, same time), and the second must not pass as the first.
          if (opts.replay && now.acquirer?.notice === xml) return undefined;
          throw new KtpayError(ErrorCode.NOT_ALLOWED_IN_STATUS_4090111, {
            diagnostic: `transaction ${hash} already has a result (status ${now.status}); the bank notice was not applied`,
          });
        }
        const base = now.acquirer ?? { mode: 'v2', back_link: '', framed: false, attempts: 0 };
        return { ...now, acquirer: { ...withoutChallenge(session(base)), notice: xml } };
      },
    });
  }

  /**
   * The bank answers: build and sign its notice, then apply it as post-link would. `session` is
   * the session of this attempt, made from the one stored (the notice's own write stores it). A
   * payment that got its result from a concurrent request meanwhile answers `not_pending`.
   */
  async function finish(
    tx: Transaction,
    session: (current: AcquirerSession) => AcquirerSession,
    code: string,
    card: CardInfo,
    three_ds: ThreeDsMode,
  ): Promise<(CardStep & { kind: 'done' }) | { kind: 'not_pending'; tx: Transaction }> {
    const attempt = session(sessionOf(tx));
    const approved = code === data.outcomes.approved_code;
    const ref = digits(`${tx.hash}:bank:${attempt.attempts}`, 18);
    const result: BankResult = {
      response_code: code,
      // Exactly the card fields the notice carries, as post-link would read them back.
      card: {
        masked: card.masked,
        brand: card.brand,
        cardholder: card.cardholder,
        exp_month: card.exp_month,
        exp_year: card.exp_year,
      },
      email: attempt.email ?? '',
      three_ds,
      reference: ref.slice(0, 12),
      approval_code: approved ? ref.slice(12, 18) : '',
      at: clock.now(),
    };
    const xml = bankNoticeXml(tx, await merchantOf(tx), result, certIdOf(tx.app_id));
    try {
      const after = await applyNotice(tx, xml, result, session);
      return { kind: 'done', tx: after, code, three_ds };
    } catch (err) {
      if (err instanceof KtpayError && err.code === ErrorCode.NOT_ALLOWED_IN_STATUS_4090111)
        return { kind: 'not_pending', tx: await load(tx.hash) };
      throw err;
    }
  }

  /** The ACS page's answer: an OTP, or Cancel. */
  async function answerChallenge(
    hash: string,
    answer: { otp: string } | { cancel: true },
  ): Promise<ChallengeStep> {
    const tx = await load(hash);
    const challenge = tx.acquirer?.challenge;
    if (tx.status !== 'pending' || !challenge) return { kind: 'no_challenge', tx };
    const code = decideChallenge(challenge.code, answer, data);
    const step = await finish(tx, (s) => s, code, challenge.card, 'challenge');
    return step.kind === 'done' ? step : { kind: 'no_challenge', tx: step.tx };
  }

  return {
    data,

    /** Starts (or replaces) the bank session of a transaction. */
    async openSession(hash: string, session: AcquirerSession): Promise<Transaction> {
      return (await saveSession(hash, () => session))!;
    },

    /** Merges fields into an existing session, or opens one with `init`. */
    async touchSession(
      hash: string,
      init: AcquirerSession,
      patch: Partial<AcquirerSession> = {},
    ): Promise<Transaction> {
      return (await saveSession(hash, (tx) => ({ ...(tx.acquirer ?? init), ...patch })))!;
    },

    /**
     * A card form from any channel. `requireOtp` (the headless admin route) refuses to start a
     * challenge it cannot answer: it returns `otp_required` and changes nothing.
     */
    async submitCard(
      hash: string,
      form: CardForm,
      opts: { framed?: boolean; otp?: string | undefined; headless?: boolean } = {},
    ): Promise<CardStep> {
      const tx = await load(hash);
      if (tx.status !== 'pending') return { kind: 'not_pending', tx };
      const decision = decideCard(form, {
        now: clock.now(),
        data,
        override: await deps.override?.(tx, { phase: 'pay', pan: normalizePan(form.pan) }),
      });
      if (
        opts.headless &&
        decision.kind === 'decided' &&
        decision.three_ds === 'challenge' &&
        opts.otp === undefined
      ) {
        return { kind: 'otp_required', tx };
      }
      sessionOf(tx); // throws for a payment never opened at the bank
      const email = form.email.trim();
      // This attempt's session, made from the one stored when it is written.
      const attempt = (base: AcquirerSession): AcquirerSession => ({
        ...withoutChallenge(base),
        attempts: base.attempts + 1,
        ...(opts.framed !== undefined ? { framed: opts.framed } : {}),
        ...(email ? { email } : {}),
      });
      const pendingSession = (make: (base: AcquirerSession) => AcquirerSession) =>
        saveSession(hash, (now) => make(sessionOf(now)), { pendingOnly: true });
      if (decision.kind === 'invalid') {
        const saved = await pendingSession(attempt);
        return saved
          ? { kind: 'invalid', errors: decision.errors, tx: saved }
          : { kind: 'not_pending', tx: await load(hash) };
      }
      if (decision.three_ds === 'challenge') {
        const challenge = { code: decision.code, card: decision.card, started_at: clock.now() };
        const challenged = await pendingSession((base) => ({ ...attempt(base), challenge }));
        if (!challenged) return { kind: 'not_pending', tx: await load(hash) };
        if (opts.otp === undefined) return { kind: 'challenge', tx: challenged };
        const answered = await answerChallenge(hash, { otp: opts.otp });
        return answered.kind === 'done' ? answered : { kind: 'not_pending', tx: answered.tx };
      }
      return finish(tx, attempt, decision.code, decision.card, 'frictionless');
    },

    answerChallenge,

    acceptNotice,
  };
}

export type PayPipeline = ReturnType<typeof createPayPipeline>;
