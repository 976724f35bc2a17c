import { ErrorCode } from '../../contracts/error-catalog.js';
import { KtpayError } from '../envelope/ktpay-error.js';
import type { Merchant } from '../merchants/merchant.js';
import type { PaymentService } from '../payments/payment-service.js';
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
  override?: (tx: Transaction, query: OverrideQuery) => AcquirerOverride | undefined;
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
 * @example
 * const pipeline = createPayPipeline({ store, clock, payments, data: loadAcquirerData() });
 * pipeline.openSession(hash, { mode: 'v2', back_link, framed: false, attempts: 0 });
 * const step = pipeline.submitCard(hash, form);
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

  function load(hash: string): Transaction {
    const tx = store.getTransaction(hash);
    if (!tx)
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: `no transaction ${hash} in this sandbox`,
      });
    return tx;
  }

  function merchantOf(tx: Transaction): Merchant {
    const m = store.getMerchant(tx.app_id);
    if (!m) {
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: `the merchant ${tx.app_id} of transaction ${tx.hash} no longer exists`,
      });
    }
    return m;
  }

  function saveSession(tx: Transaction, session: AcquirerSession): Transaction {
    const next: Transaction = { ...tx, acquirer: session };
    store.updateTransaction(next);
    return next;
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
  function acceptNotice(hash: string, xml: string): Transaction {
    const tx = load(hash);
    const check = verifyBankNotice(xml, tx, merchantOf(tx));
    if (!check.ok)
      throw new KtpayError(ErrorCode.BAD_DATA_4220101, { diagnostic: `post-link: ${check.reason}` });
    return applyNotice(tx, xml, check.result);
  }

  /**
   * The status changes a verified notice makes. The sandbox's own bank (see {@link finish}) comes
   * straight here with the result it has just signed: checking its own fresh signature and
   * reading the XML back would give the same result at twice the hashing (issue 10's profile).
   */
  function applyNotice(
    tx: Transaction,
    xml: string,
    result: Pick<BankResult, 'response_code' | 'card'>,
  ): Transaction {
    const { hash } = tx;
    if (tx.status !== 'pending') {
      if (tx.acquirer?.notice === xml) return tx;
      throw new KtpayError(ErrorCode.NOT_ALLOWED_IN_STATUS_4090111, {
        diagnostic: `transaction ${hash} already has a result (status ${tx.status}); the bank notice was not applied`,
      });
    }
    const session: AcquirerSession = {
      ...withoutChallenge(tx.acquirer ?? { mode: 'v2', back_link: '', framed: false, attempts: 0 }),
      notice: xml,
    };
    saveSession(tx, session);
    const card: CardInfo = result.card;
    const verdict = verdictOf(result.response_code, data);
    const at = clock.now();
    if (!verdict.approved) {
      return payments.apply(hash, { type: 'fail', at, status: verdict.status, error: verdict.error, card });
    }
    const authorized = payments.apply(hash, { type: 'authorize', at, card });
    const service = serviceVerdict(authorized, data, deps.override?.(authorized, { phase: 'service' }));
    if (!service.credited) {
      return payments.apply(hash, {
        type: 'fail',
        at: clock.now(),
        status: service.status,
        error: service.error,
      });
    }
    const detail =
      authorized.type === 'service' && authorized.service
        ? `credited to service ${authorized.service.service_id} (contract ${authorized.service.contract_value})`
        : undefined;
    return payments.apply(hash, { type: 'confirm', at: clock.now(), ...(detail ? { detail } : {}) });
  }

  /**
   * The bank answers: build and sign its notice, then apply it as post-link would. `tx` carries
   * the session of this attempt, saved or not: the notice's own save stores it.
   */
  function finish(
    tx: Transaction,
    code: string,
    card: CardInfo,
    three_ds: ThreeDsMode,
  ): CardStep & { kind: 'done' } {
    const session = sessionOf(tx);
    const approved = code === data.outcomes.approved_code;
    const ref = digits(`${tx.hash}:bank:${session.attempts}`, 18);
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
      email: session.email ?? '',
      three_ds,
      reference: ref.slice(0, 12),
      approval_code: approved ? ref.slice(12, 18) : '',
      at: clock.now(),
    };
    const xml = bankNoticeXml(tx, merchantOf(tx), result, certIdOf(tx.app_id));
    const after = applyNotice(tx, xml, result);
    return { kind: 'done', tx: after, code, three_ds };
  }

  /** The ACS page's answer: an OTP, or Cancel. */
  function answerChallenge(hash: string, answer: { otp: string } | { cancel: true }): ChallengeStep {
    const tx = load(hash);
    const challenge = tx.acquirer?.challenge;
    if (tx.status !== 'pending' || !challenge) return { kind: 'no_challenge', tx };
    const code = decideChallenge(challenge.code, answer, data);
    return finish(saveSession(tx, withoutChallenge(sessionOf(tx))), code, challenge.card, 'challenge');
  }

  return {
    data,

    /** Starts (or replaces) the bank session of a pending transaction. */
    openSession(hash: string, session: AcquirerSession): Transaction {
      return saveSession(load(hash), session);
    },

    /** Merges fields into an existing session, or opens one with `init`. */
    touchSession(hash: string, init: AcquirerSession, patch: Partial<AcquirerSession> = {}): Transaction {
      const tx = load(hash);
      return saveSession(tx, { ...(tx.acquirer ?? init), ...patch });
    },

    /**
     * A card form from any channel. `requireOtp` (the headless admin route) refuses to start a
     * challenge it cannot answer: it returns `otp_required` and changes nothing.
     */
    submitCard(
      hash: string,
      form: CardForm,
      opts: { framed?: boolean; otp?: string | undefined; headless?: boolean } = {},
    ): CardStep {
      const tx = load(hash);
      if (tx.status !== 'pending') return { kind: 'not_pending', tx };
      const decision = decideCard(form, {
        now: clock.now(),
        data,
        override: deps.override?.(tx, { phase: 'pay', pan: normalizePan(form.pan) }),
      });
      if (
        opts.headless &&
        decision.kind === 'decided' &&
        decision.three_ds === 'challenge' &&
        opts.otp === undefined
      ) {
        return { kind: 'otp_required', tx };
      }
      const base = sessionOf(tx);
      const email = form.email.trim();
      const session: AcquirerSession = {
        ...withoutChallenge(base),
        attempts: base.attempts + 1,
        ...(opts.framed !== undefined ? { framed: opts.framed } : {}),
        ...(email ? { email } : {}),
      };
      if (decision.kind === 'invalid')
        return { kind: 'invalid', errors: decision.errors, tx: saveSession(tx, session) };
      if (decision.three_ds === 'challenge') {
        const challenged = saveSession(tx, {
          ...session,
          challenge: { code: decision.code, card: decision.card, started_at: clock.now() },
        });
        if (opts.otp === undefined) return { kind: 'challenge', tx: challenged };
        const answered = answerChallenge(hash, { otp: opts.otp });
        return answered.kind === 'done' ? answered : { kind: 'not_pending', tx: answered.tx };
      }
      return finish({ ...tx, acquirer: session }, decision.code, decision.card, 'frictionless');
    },

    answerChallenge,

    acceptNotice,
  };
}

export type PayPipeline = ReturnType<typeof createPayPipeline>;
