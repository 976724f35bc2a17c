import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../contracts/error-catalog.js';
import type { SchemaRegistry } from '../../contracts/schema-registry.js';
import type { CreatePaymentRequest } from '../../contracts/types.js';
import type { SandboxConfig } from '../config/load-config.js';
import { fieldMessage, toFieldErrors } from '../envelope/field-errors.js';
import { KtpayError, type FieldMessages } from '../envelope/ktpay-error.js';
import { addressRulesFor, addressVerdict, classifyAddress } from '../callbacks/destination-guard.js';
import { hostInDomains, urlHost } from '../merchants/domain-check.js';
import type { Merchant } from '../merchants/merchant.js';
import { unknownMerchantError } from '../merchants/unknown-merchant.js';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import { NO_CALLBACKS, type PlannedCallbacks, type TransitionHub } from './payment-events.js';
import { isRejection, transition, type PaymentEvent } from './payment-state.js';
import {
  NO_REFUNDS,
  TRANSACTION_URL_FIELDS,
  transactionUser,
  type Transaction,
  type TransactionUrls,
} from './transaction.js';

function validationError(fields: FieldMessages): KtpayError {
  return new KtpayError(ErrorCode.VALIDATION_4220002, {
    validation: fields,
    diagnostic: Object.entries(fields)
      .map(([k, v]) => `${k}: ${v.join(' ')}`)
      .join('; '),
  });
}

export interface CreateResult {
  tx: Transaction;
  /** Unknown fields and other non-fatal contract findings [mock]. */
  warnings: string[];
}

/** Plans the callbacks a transition causes (the callback outbox), so they are stored with it. */
export interface CallbackPlanner {
  plan(before: Transaction, after: Transaction, merchant: Merchant): Promise<PlannedCallbacks>;
}

/** One step of a chain of events applied in one write. */
interface Step {
  before: Transaction;
  after: Transaction;
}

/** How often {@link PaymentService.apply} starts again when another writer changed the payment meanwhile. */
const APPLY_ROUNDS = 8;

/** Runs `events` through the state machine from `tx`; a rejection throws its catalog code. */
function chain(tx: Transaction, events: readonly PaymentEvent[]): Step[] {
  const steps: Step[] = [];
  let cur = tx;
  for (const event of events) {
    const next = transition(cur, event);
    if (isRejection(next)) throw new KtpayError(next.code, { diagnostic: next.message });
    steps.push({ before: cur, after: next });
    cur = next;
  }
  return steps;
}

const sameStatuses = (a: readonly Step[], b: readonly Step[]) =>
  a.length === b.length && a.every((s, i) => s.after.status === b[i]!.after.status);

/**
 * The payments service: validation, storage and every status change. Routes, pages and the admin
 * API all go through it, so a payment made in a browser and one made headlessly are the same.
 *
 * @example
 * const { tx } = await payments.create(merchant, payload);
 * await payments.apply(tx.hash, { type: 'authorize', at: clock.now(), card });
 */
export function createPaymentService(deps: {
  store: Store;
  clock: Clock;
  schemas: SchemaRegistry;
  hub: TransitionHub;
  config: SandboxConfig;
  callbacks: CallbackPlanner;
}) {
  const { store, clock, schemas, hub, config } = deps;
  const validateCreate = schemas.validator('createPaymentRequest');

  // Transaction hashes come from a pooled random buffer: one randomBytes call per 256 hashes, not
  // one per create (the per-call system-call cost showed up as ~9 % of a create in the bench's
  // profile). Still 160 random bits each, from the same CSPRNG.
  let randomPool = Buffer.alloc(0);
  let randomOffset = 0;
  function newHash(): string {
    if (randomOffset + 20 > randomPool.length) {
      randomPool = randomBytes(20 * 256);
      randomOffset = 0;
    }
    randomOffset += 20;
    return randomPool.toString('hex', randomOffset - 20, randomOffset);
  }

  function checkUrls(order: Record<string, unknown>, merchant: Merchant, fields: FieldMessages) {
    for (const f of TRANSACTION_URL_FIELDS) {
      const url = order[f];
      if (typeof url !== 'string' || fields[`order.${f}`]) continue;
      const host = urlHost(url);
      if (!host) continue;
      // The delivery-time classification, so every spelling the URL parser produces (e.g. the
      // IPv4-mapped ::ffff:a9fe:a9fe) is caught here too; loopback is judged only at delivery.
      const blocked =
        f === 'callback_post_url' &&
        classifyAddress(host) === 'link-local' &&
        addressVerdict(host, host, addressRulesFor(merchant, config.callbacks.allow_hosts)) !== undefined;
      if (blocked) {
        fields[`order.${f}`] = [fieldMessage('blocked_address', merchant.locale)];
      } else if (merchant.strict_domains && !hostInDomains(host, merchant.domains)) {
        fields[`order.${f}`] = [fieldMessage('domain', merchant.locale)];
      }
    }
  }

  return {
    /**
     * Validates a decrypted create payload and stores a `pending` transaction. Throws 4220002 with
     * per-field messages for anything invalid, including a duplicate order_id.
     */
    async create(
      merchant: Merchant,
      payload: Record<string, unknown>,
      opts: { scenario?: string | undefined } = {},
    ): Promise<CreateResult> {
      const ok = validateCreate(payload);
      const { fields, warnings } = toFieldErrors(ok ? [] : validateCreate.errors, merchant.locale);
      const order = (
        typeof payload.order === 'object' && payload.order !== null ? payload.order : {}
      ) as Record<string, unknown>;
      checkUrls(order, merchant, fields);
      if (Object.keys(fields).length > 0) {
        // Refused anyway: name a duplicate order_id too, so one answer lists every problem. A valid
        // order is never looked up first: the store's unique (app_id, order_id) decides at insert.
        if (typeof order.order_id === 'string' && !fields['order.order_id']) {
          if (await store.findTransactionByOrder(merchant.app_id, order.order_id)) {
            fields['order.order_id'] = [fieldMessage('duplicate_order_id', merchant.locale)];
          }
        }
        throw validationError(fields);
      }
      const req = payload as unknown as CreatePaymentRequest;
      const now = clock.now();
      const urls: TransactionUrls = {};
      for (const f of TRANSACTION_URL_FIELDS) {
        const v = req.order[f];
        if (v) urls[f] = v;
      }
      const tx: Transaction = {
        // The memory store keeps a transaction in this state as a compact record and rebuilds it
        // in this key order (store/compact-transactions.ts, CREATED_KEYS; its test checks them).
        id: await store.nextTransactionId(),
        hash: newHash(),
        app_id: merchant.app_id,
        merchant_id: merchant.merchant_id,
        order_id: req.order.order_id,
        amount: req.order.amount,
        description: req.order.description ?? '',
        type: req.order.type ?? 'ecom',
        service: req.order.service
          ? { service_id: req.order.service.service_id, contract_value: req.order.service.contract_value }
          : null,
        urls,
        show_close_button: req.order.show_close_button ?? true,
        user: transactionUser(req.user),
        payload,
        status: 'pending',
        status_created_at: now,
        status_updated_at: null,
        error: null,
        history: [{ status: 'pending', at: now, event: 'create' }],
        card: null,
        refunds: NO_REFUNDS,
        created_at: now,
        updated_at: null,
        ...(opts.scenario ? { scenario: opts.scenario } : {}),
      };
      const inserted = await store.insertTransaction(tx);
      if (!inserted.inserted && inserted.reason === 'unknown_merchant') {
        // Deleted (or purged on expiry) while this create was under way: as if it came after.
        throw unknownMerchantError(
          config.envelope,
          `merchant ${merchant.app_id} was deleted while this payment was being created; nothing was stored`,
        );
      }
      if (!inserted.inserted) {
        throw validationError({ 'order.order_id': [fieldMessage('duplicate_order_id', merchant.locale)] });
      }
      return { tx, warnings };
    },

    get: (hash: string) => store.getTransaction(hash),

    /** A transaction that belongs to `merchant`, or 4040108 (another merchant's hash looks absent). */
    async getOwned(hash: string, merchant: Merchant): Promise<Transaction> {
      const tx = await store.getTransaction(hash);
      if (!tx || tx.app_id !== merchant.app_id) {
        throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108, {
          diagnostic: tx
            ? `transaction ${hash} belongs to another merchant than ${merchant.app_id}`
            : `no transaction ${hash} in this sandbox`,
        });
      }
      return tx;
    },

    /**
     * Applies one event, or a chain of them, through the state machine in **one write**, together
     * with the callback deliveries the new statuses cause; then tells the hub about each step. A
     * rejection throws its catalog code and changes nothing.
     *
     * Nothing is read-then-written: the chain is worked out once to plan the callbacks, then again
     * inside the store's change function on the row as it is at that moment. When another writer
     * changed the payment so that the chain now ends elsewhere, the whole apply starts again
     * (a rejection on the fresh row is the answer: e.g. the second of two concurrent pays gets
     * 4090111, as it would had it come second).
     *
     * `prepare` patches the row before the events (e.g. the bank's notice on the session); it runs
     * inside the change function, so it must be pure, and may return undefined to mean "nothing to
     * apply": the transaction is returned as it is.
     */
    async apply(
      hash: string,
      events: PaymentEvent | readonly PaymentEvent[],
      opts: { prepare?: (tx: Transaction) => Transaction | undefined } = {},
    ): Promise<Transaction> {
      const list: readonly PaymentEvent[] = Array.isArray(events) ? events : [events as PaymentEvent];
      const run = (tx: Transaction): Step[] | undefined => {
        const from = opts.prepare ? opts.prepare(tx) : tx;
        return from === undefined ? undefined : chain(from, list);
      };
      for (let round = 1; ; round++) {
        const current = await store.getTransaction(hash);
        if (!current) throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108);
        const planned = run(current);
        if (!planned) return current;
        const merchant = await store.getMerchant(current.app_id);
        const plans = merchant
          ? await Promise.all(planned.map((s) => deps.callbacks.plan(s.before, s.after, merchant)))
          : planned.map(() => NO_CALLBACKS);
        // What the change function saw, the last time the store ran it.
        const seen: { steps: Step[] | undefined; moved: boolean } = { steps: undefined, moved: false };
        const result = await store.updateTransaction(hash, (now) => {
          seen.steps = run(now);
          seen.moved = seen.steps !== undefined && !sameStatuses(seen.steps, planned);
          if (seen.steps === undefined || seen.moved) return undefined;
          return { tx: seen.steps.at(-1)!.after, deliveries: plans.flatMap((p) => p.deliveries) };
        });
        if (!result) throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108);
        const steps = seen.steps;
        if (steps === undefined) return result.after;
        if (seen.moved) {
          if (round < APPLY_ROUNDS) continue;
          throw new KtpayError(ErrorCode.NOT_ALLOWED_IN_STATUS_4090111, {
            diagnostic: `transaction ${hash} kept changing while this operation was applied; try again`,
          });
        }
        if (merchant) {
          for (let i = 0; i < steps.length; i++) {
            await hub.emit({ ...steps[i]!, merchant, callbacks: plans[i]! });
          }
        }
        return result.after;
      }
    },
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
