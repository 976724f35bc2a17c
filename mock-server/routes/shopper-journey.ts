import type { FastifyInstance } from 'fastify';
import { loadAcquirerData } from '../acquirer/acquirer-data.js';
import type { AcquirerOverride, OverrideQuery } from '../acquirer/bank-decision.js';
import { createPayPipeline } from '../acquirer/pay-pipeline.js';
import { startClearing } from '../payments/clearing.js';
import type { Transaction } from '../payments/transaction.js';
import type { SandboxContext } from '../sandbox-context.js';
import { isPostgresStore } from '../store/store.js';
import { API_PREFIX } from '../views/links.js';
import { acquirerPages } from './acquirer-pages.js';
import { adminTransactions } from './admin-transactions.js';
import { paymentReadApi } from './payment-read-api.js';
import { widgetPages } from './widget-pages.js';

/**
 * The shopper journey (issue 3) as one registration: the pay pipeline and clearing for this app,
 * then the widget pages, the bank pages, the read side of the merchant API, and the admin routes.
 *
 * @example
 * await app.register(shopperJourney, { ctx });
 */
export async function shopperJourney(
  app: FastifyInstance,
  opts: {
    ctx: SandboxContext;
    acquirerOverride?: (tx: Transaction, query: OverrideQuery) => Promise<AcquirerOverride | undefined>;
  },
) {
  const { ctx } = opts;
  const pipeline = createPayPipeline({
    store: ctx.store,
    clock: ctx.clock,
    payments: ctx.payments,
    data: loadAcquirerData(),
    ...(opts.acquirerOverride ? { override: opts.acquirerOverride } : {}),
  });
  const clearing = startClearing({
    store: ctx.store,
    clock: ctx.clock,
    hub: ctx.hub,
    payments: ctx.payments,
    delay: ctx.config.clearing_delay_ms,
    ...(isPostgresStore(ctx.store) ? { listDue: ctx.store.listDueClearings.bind(ctx.store) } : {}),
    onError: (err, hash) => app.log.error({ err, hash }, 'clearing failed'),
  });
  await clearing.rearm();
  app.addHook('onClose', async () => clearing.stop());

  await app.register(widgetPages, { ctx, pipeline });
  await app.register(acquirerPages, { ctx, pipeline });
  await app.register(paymentReadApi, { prefix: API_PREFIX, ctx, pipeline });
  await app.register(adminTransactions, { prefix: '/__admin', ctx, pipeline });
}
