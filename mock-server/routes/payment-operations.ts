import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { SchemaName } from '../../contracts/schema-registry.js';
import { toFieldErrors } from '../envelope/field-errors.js';
import { buildSuccessBody, KtpayError } from '../envelope/ktpay-error.js';
import { openRequestBody } from '../envelope/request-codec.js';
import type { Merchant } from '../merchants/merchant.js';
import type { PaymentEvent } from '../payments/payment-state.js';
import {
  createReceiptRenderer,
  RECEIPT_STATUSES,
  receiptFileName,
  receiptHeaders,
  type ReceiptRenderer,
} from '../payments/receipt-pdf.js';
import { paymentStatusOf } from '../payments/status-object.js';
import { refundedTotal, type Transaction } from '../payments/transaction.js';
import type { SandboxContext } from '../sandbox-context.js';
import { resolveMerchant } from './merchant-auth.js';
import { applyTransactionScenario } from '../scenarios/route-effects.js';
import { useSealedBodyParser } from './sealed-body-parser.js';

interface HashParams {
  hash: string;
}

/**
 * After the payment (spec §3, §7, §9): cancel, refund and the PDF receipt, under
 * `/api/v1/merchant-widget`.
 *
 * - `POST /payment/{hash}/cancel`, optional sealed body `{reason?}`; an empty body is fine.
 * - `POST /payment/{hash}/refund`, optional sealed body `{amount?, reason?}`; no amount = the remainder.
 * - `GET /payment/{hash}/pdf`: the receipt. It needs no Auth-Identifier, because a receipt is
 *   opened from a browser (a link on a receipt page), which cannot send headers; the transaction
 *   hash (160 random bits) is the capability. When Auth-Identifier *is* sent, it must
 *   name the owning merchant, as for the other operations.
 *
 * Cancel and refund go through `ctx.payments.apply`, so every rule and rejection code is the pure
 * state machine's, and a rejection changes nothing.
 */
export async function paymentOperations(
  app: FastifyInstance,
  opts: { ctx: SandboxContext; receipts?: ReceiptRenderer },
) {
  const { ctx } = opts;
  const receipts = opts.receipts ?? createReceiptRenderer();
  useSealedBodyParser(app, ctx.config.body_limit);

  /** The owning merchant's transaction, noted for the journal. 4040108 for anyone else's hash. */
  async function ownedTransaction(
    request: FastifyRequest<{ Params: HashParams }>,
    merchant: Merchant,
  ): Promise<Transaction> {
    const { hash } = request.params;
    request.ktpay.transaction_hash = hash;
    const tx = await ctx.payments.getOwned(hash, merchant);
    request.ktpay.order_id = tx.order_id;
    return tx;
  }

  /**
   * The optional sealed body: empty means `{}`. Otherwise it must open and match the schema;
   * unknown fields are accepted with a contract warning, as on create.
   */
  async function optionalPayload(
    request: FastifyRequest,
    merchant: Merchant,
    schema: SchemaName,
  ): Promise<Record<string, unknown>> {
    const raw = typeof request.body === 'string' ? request.body : '';
    request.ktpay.raw_body_size = Buffer.byteLength(raw);
    if (raw.trim() === '') return {};
    const { payload } = await openRequestBody(
      raw,
      merchant,
      ctx.clock.now(),
      ctx.sealedBox,
      request.ktpay.warnings,
    );
    request.ktpay.decrypted = payload;
    const validate = ctx.schemas.validator(schema);
    const ok = validate(payload);
    const { fields, warnings } = toFieldErrors(ok ? [] : validate.errors, merchant.locale);
    request.ktpay.warnings.push(...warnings);
    if (Object.keys(fields).length > 0) {
      throw new KtpayError(ErrorCode.VALIDATION_4220002, {
        validation: fields,
        diagnostic: Object.entries(fields)
          .map(([k, v]) => `${k}: ${v.join(' ')}`)
          .join('; '),
      });
    }
    return payload;
  }

  async function applyAndReply(merchant: Merchant, tx: Transaction, event: PaymentEvent) {
    const after = await ctx.payments.apply(tx.hash, event);
    return buildSuccessBody(paymentStatusOf(after), merchant.envelope);
  }

  app.post<{ Params: HashParams }>(
    '/payment/:hash/cancel',
    { config: { journal: true, surface: 'api' } },
    async (request, reply) => {
      const merchant = await resolveMerchant(request, ctx);
      const tx = await ownedTransaction(request, merchant);
      await ctx.sealedBox.ready();
      const payload = await optionalPayload(request, merchant, 'cancelPaymentRequest');
      if (await applyTransactionScenario('cancel', ctx, request, reply, tx, merchant)) return reply;
      const reason = typeof payload.reason === 'string' ? payload.reason : null;
      return applyAndReply(merchant, tx, { type: 'cancel', at: ctx.clock.now(), reason });
    },
  );

  app.post<{ Params: HashParams }>(
    '/payment/:hash/refund',
    { config: { journal: true, surface: 'api' } },
    async (request, reply) => {
      const merchant = await resolveMerchant(request, ctx);
      const tx = await ownedTransaction(request, merchant);
      await ctx.sealedBox.ready();
      const payload = await optionalPayload(request, merchant, 'refundPaymentRequest');
      if (await applyTransactionScenario('refund', ctx, request, reply, tx, merchant)) return reply;
      const reason = typeof payload.reason === 'string' ? payload.reason : null;
      // No amount: the full remainder. The state machine still checks the status first.
      const amount =
        typeof payload.amount === 'number'
          ? payload.amount
          : Math.round((tx.amount - refundedTotal(tx)) * 100) / 100;
      return applyAndReply(merchant, tx, { type: 'refund', at: ctx.clock.now(), amount, reason });
    },
  );

  app.get<{ Params: HashParams }>(
    '/payment/:hash/pdf',
    { config: { journal: true, surface: 'api' } },
    async (request, reply) => {
      const { hash } = request.params;
      request.ktpay.transaction_hash = hash;
      const sentAuth = request.headers['auth-identifier'] !== undefined;
      let tx: Transaction | undefined;
      if (sentAuth) {
        tx = await ownedTransaction(request, await resolveMerchant(request, ctx));
      } else {
        tx = await ctx.payments.get(hash);
        if (!tx) {
          throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
            diagnostic: `no transaction ${hash.slice(0, 64)} in this sandbox`,
          });
        }
        request.ktpay.order_id = tx.order_id;
      }
      const merchant = await ctx.merchants.get(tx.app_id);
      if (merchant) {
        // Errors from here on answer in the owner's dialect and locale.
        request.ktpay.merchant = merchant;
        request.ktpay.app_id = merchant.app_id;
      }
      if (!RECEIPT_STATUSES.has(tx.status)) {
        throw new KtpayError(ErrorCode.RECEIPT_UNPAID_4090113, {
          diagnostic: `transaction ${tx.hash} is ${tx.status}; a receipt exists once it is success, completed, partially_refunded or refunded`,
        });
      }
      if (await applyTransactionScenario('pdf', ctx, request, reply, tx, merchant)) return reply;
      const at = ctx.clock.now();
      const pdf = await receipts.render({
        tx,
        merchant: merchant ?? { name: `merchant ${tx.merchant_id}`, merchant_id: tx.merchant_id },
        at,
      });
      return reply
        .code(200)
        .headers(receiptHeaders(receiptFileName(tx, at)))
        .send(Buffer.from(pdf));
    },
  );
}
