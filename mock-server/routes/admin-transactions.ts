import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import { catalogAcquirerCodes } from '../acquirer/acquirer-data.js';
import type { PayPipeline } from '../acquirer/pay-pipeline.js';
import { KtpayError, type FieldMessages } from '../envelope/ktpay-error.js';
import { toFieldErrors } from '../envelope/field-errors.js';
import { paymentStatusOf } from '../payments/status-object.js';
import { STATUSES, type PaymentStatus, type Transaction } from '../payments/transaction.js';
import type { SandboxContext } from '../sandbox-context.js';
import { toAlmatyIso } from '../shared/almaty-time.js';
import { isHash, originOf, paths } from '../views/links.js';
import { adminAuthHook } from './admin-auth.js';

type Params = { hash: string };

/**
 * A transaction as the admin API shows it: the status object (spec §10) plus what the sandbox
 * knows — history with `+06:00` timestamps, the masked card, the error's acquirer code, the URLs
 * and the bank session.
 */
export function transactionView(tx: Transaction, origin: string) {
  const status = paymentStatusOf(tx);
  return {
    id: tx.id,
    transaction_hash: tx.hash,
    app_id: tx.app_id,
    merchant_id: tx.merchant_id,
    order_id: tx.order_id,
    amount: tx.amount,
    description: tx.description,
    type: tx.type,
    service: tx.service,
    status: tx.status,
    status_created_at: status.status.created_at,
    error: tx.error ? { ...tx.error } : null,
    card: tx.card,
    history: tx.history.map((h) => ({
      status: h.status,
      at: toAlmatyIso(h.at),
      event: h.event,
      ...(h.detail !== undefined ? { detail: h.detail } : {}),
    })),
    refunds: status.refunds,
    refunded_amount: status.refunded_amount,
    urls: tx.urls,
    show_close_button: tx.show_close_button,
    user: tx.user,
    created_at: status.created_at,
    updated_at: status.updated_at,
    widget_url: `${origin}${paths.widget(tx.hash)}`,
    acquirer: tx.acquirer
      ? {
          mode: tx.acquirer.mode,
          attempts: tx.acquirer.attempts,
          challenge_pending: tx.acquirer.challenge !== undefined,
          back_link: tx.acquirer.back_link,
          notice: tx.acquirer.notice ?? null,
        }
      : null,
    status_object: status,
  };
}

function parseLimit(v: string | undefined): number {
  if (v === undefined || v === '') return 100;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
      validation: { limit: ['an integer from 1 to 1000'] },
    });
  }
  return n;
}

/**
 * Headless control of payments under /__admin: list and read transactions, pay one through the
 * same pipeline as the pages (for mobile apps and CI), clear one by hand, and the test-card table.
 */
export async function adminTransactions(
  app: FastifyInstance,
  opts: { ctx: SandboxContext; pipeline: PayPipeline },
) {
  const { ctx, pipeline } = opts;
  app.addHook('onRequest', adminAuthHook(ctx.config));
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, surface: 'admin' };
  });
  const validatePay = ctx.schemas.validator('adminPayRequest');

  async function load(request: FastifyRequest<{ Params: Params }>): Promise<Transaction> {
    const { hash } = request.params;
    const tx = isHash(hash) ? await ctx.store.getTransaction(hash) : undefined;
    if (!tx)
      throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
        diagnostic: `no transaction ${hash.slice(0, 64)} in this sandbox`,
      });
    return tx;
  }

  app.get<{ Querystring: Record<string, string | undefined> }>('/transactions', async (request) => {
    const q = request.query;
    if (q.status !== undefined && !(STATUSES as readonly string[]).includes(q.status)) {
      throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
        validation: { status: [`one of ${STATUSES.join(', ')}`] },
      });
    }
    const origin = originOf(request, ctx.config);
    const list = await ctx.store.listTransactions({
      ...(q.app_id ? { app_id: q.app_id } : {}),
      ...(q.status ? { status: q.status as PaymentStatus } : {}),
      ...(q.order_id ? { order_id: q.order_id } : {}),
      limit: parseLimit(q.limit),
    });
    return { transactions: list.map((tx) => transactionView(tx, origin)) };
  });

  app.get<{ Params: Params }>('/transactions/:hash', async (request) =>
    transactionView(await load(request), originOf(request, ctx.config)),
  );

  app.post<{ Params: Params; Body: unknown }>('/transactions/:hash/pay', async (request) => {
    if (!validatePay(request.body)) {
      const { fields, warnings } = toFieldErrors(validatePay.errors, 'en');
      for (const w of warnings) fields[w.split(':')[0]!.replace('unknown field ', '')] = ['Unknown field.'];
      throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, { validation: fields });
    }
    const body = request.body as {
      pan: string;
      exp_month: string | number;
      exp_year: string | number;
      cvc: string;
      cardholder?: string;
      email?: string;
      otp?: string;
    };
    const tx = await load(request);
    if (tx.status !== 'pending') {
      throw new KtpayError(ErrorCode.NOT_ALLOWED_IN_STATUS_4090111, {
        diagnostic: `only a pending transaction can be paid; this one is ${tx.status}`,
      });
    }
    const origin = originOf(request, ctx.config);
    await pipeline.touchSession(tx.hash, {
      mode: 'v2',
      back_link: `${origin}${paths.backLink(tx.hash)}`,
      framed: false,
      attempts: 0,
    });
    const step = await pipeline.submitCard(
      tx.hash,
      {
        pan: body.pan,
        exp_month: String(body.exp_month),
        exp_year: String(body.exp_year),
        cvc: body.cvc,
        cardholder: body.cardholder ?? '',
        email: body.email ?? '',
      },
      { headless: true, otp: body.otp, framed: false },
    );
    switch (step.kind) {
      case 'invalid': {
        const validation: FieldMessages = {};
        for (const e of step.errors)
          (validation[e.field] ??= []).push(`${e.message} (acquirer code ${e.code})`);
        throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
          validation,
          diagnostic: 'the bank page would show the form again; the transaction stays pending',
        });
      }
      case 'otp_required':
        throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
          validation: {
            otp: [
              `this card asks for a 3-D Secure challenge: send otp (${pipeline.data.cards.three_ds.otp} approves, anything else ends in ${pipeline.data.cards.three_ds.failure_code})`,
            ],
          },
        });
      case 'not_pending':
        throw new KtpayError(ErrorCode.NOT_ALLOWED_IN_STATUS_4090111, {
          diagnostic: `the transaction is ${step.tx.status} already`,
        });
      case 'challenge':
        // Unreachable with an otp given; kept so the switch is exhaustive.
        throw new KtpayError(ErrorCode.ADMIN_VALIDATION_4220122, {
          validation: { otp: ['the 3-D Secure challenge is waiting for an otp'] },
        });
      case 'done':
        return {
          outcome: step.code === pipeline.data.outcomes.approved_code ? 'approved' : 'declined',
          acquirer_code: step.code,
          three_ds: step.three_ds,
          transaction: transactionView(step.tx, origin),
        };
    }
  });

  app.post<{ Params: Params }>('/transactions/:hash/clear', async (request) => {
    const tx = await load(request);
    const cleared = await ctx.payments.apply(tx.hash, { type: 'clear', at: ctx.clock.now() });
    return transactionView(cleared, originOf(request, ctx.config));
  });

  app.get('/test-cards', async () => {
    const { cards, outcomes, messages } = pipeline.data;
    return {
      cards: cards.cards,
      other_cards: cards.other_cards,
      cardholder_code_rule: cards.cardholder_code_rule,
      three_ds: cards.three_ds,
      input_errors: cards.input_errors,
      acquirer_codes: catalogAcquirerCodes().map((code) => ({
        code,
        ...outcomes.codes[code],
        error_message: messages.get(code) ?? code,
      })),
      service_gateway_refusal: outcomes.service_gateway_refusal,
    };
  });
}
