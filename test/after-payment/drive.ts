import type { FastifyInstance } from 'fastify';
import type { CardInfo, PaymentStatus, Transaction } from '../../mock-server/payments/transaction.js';
import { API, APP_ID, APP_KEY, seal } from '../helpers/sandbox.js';

/** The card the shopper "paid" with in these suites (the frictionless test PAN, masked). */
export const TEST_CARD: CardInfo = {
  masked: '440563******5096',
  brand: 'VISA',
  cardholder: 'TEST',
  exp_month: '12',
  exp_year: '30',
};

/**
 * Moves a transaction to `target` through the payments service, the way the card pipeline and
 * clearing would: authorize → confirm → clear, or a failure, or a cancel/refund.
 */
export async function driveTo(
  app: FastifyInstance,
  hash: string,
  target: PaymentStatus,
): Promise<Transaction> {
  const { payments, clock } = app.sandbox;
  const at = () => clock.now();
  const path: Record<PaymentStatus, (() => Promise<unknown>)[]> = {
    pending: [],
    authorized: [() => payments.apply(hash, { type: 'authorize', at: at(), card: TEST_CARD })],
    success: [],
    completed: [],
    error: [
      () =>
        payments.apply(hash, {
          type: 'fail',
          at: at(),
          status: 'error',
          error: { error_type: 'ERROR_PAYMENT', error_message: 'KKB rejected payment', code: '05' },
          card: TEST_CARD,
        }),
    ],
    denied: [],
    cancelled: [() => payments.apply(hash, { type: 'cancel', at: at(), reason: null })],
    partially_refunded: [],
    refunded: [],
  };
  path.success = [...path.authorized, () => payments.apply(hash, { type: 'confirm', at: at() })];
  path.completed = [...path.success, () => payments.apply(hash, { type: 'clear', at: at() })];
  path.denied = [
    ...path.authorized,
    () =>
      payments.apply(hash, {
        type: 'fail',
        at: at(),
        status: 'denied',
        error: { error_type: 'ERROR_SYSTEM', error_message: 'Service gateway refused' },
      }),
  ];
  path.partially_refunded = [
    ...path.completed,
    () => payments.apply(hash, { type: 'refund', at: at(), amount: 1, reason: 'partial' }),
  ];
  path.refunded = [
    ...path.completed,
    async () => {
      const tx = (await payments.get(hash))!;
      await payments.apply(hash, { type: 'refund', at: at(), amount: tx.amount, reason: 'full' });
    },
  ];
  for (const step of path[target]) await step();
  const tx = (await payments.get(hash))!;
  if (tx.status !== target) throw new Error(`driveTo: ${hash} is ${tx.status}, wanted ${target}`);
  return tx;
}

/** POSTs cancel or refund, sealed for the given app_key unless `body` is a raw string. */
export async function postOperation(
  app: FastifyInstance,
  op: 'cancel' | 'refund',
  hash: string,
  body?: Record<string, unknown> | string,
  opts: { appId?: string; appKey?: string; headers?: Record<string, string> } = {},
) {
  const payload =
    body === undefined ? '' : typeof body === 'string' ? body : await seal(body, opts.appKey ?? APP_KEY);
  return app.inject({
    method: 'POST',
    url: `${API}/payment/${hash}/${op}`,
    headers: { 'auth-identifier': opts.appId ?? APP_ID, 'content-type': 'text/plain', ...opts.headers },
    payload,
  });
}
