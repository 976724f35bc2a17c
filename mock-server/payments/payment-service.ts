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
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { TransitionHub } from './payment-events.js';
import { isRejection, transition, type PaymentEvent } from './payment-state.js';
import {
  NO_REFUNDS,
  TRANSACTION_URL_FIELDS,
  transactionUser,
  type Transaction,
  type TransactionUrls,
} from './transaction.js';

export interface CreateResult {
  tx: Transaction;
  /** Unknown fields and other non-fatal contract findings [mock]. */
  warnings: string[];
}

/**
 * The payments service: validation, storage and every status change. Routes, pages and the admin
 * API all go through it, so a payment made in a browser and one made headlessly are the same.
 *
 * @example
 * const { tx } = payments.create(merchant, payload);
 * payments.apply(tx.hash, { type: 'authorize', at: clock.now(), card });
 */
export function createPaymentService(deps: {
  store: Store;
  clock: Clock;
  schemas: SchemaRegistry;
  hub: TransitionHub;
  config: SandboxConfig;
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
    create(
      merchant: Merchant,
      payload: Record<string, unknown>,
      opts: { scenario?: string | undefined } = {},
    ): CreateResult {
      const ok = validateCreate(payload);
      const { fields, warnings } = toFieldErrors(ok ? [] : validateCreate.errors, merchant.locale);
      const order = (
        typeof payload.order === 'object' && payload.order !== null ? payload.order : {}
      ) as Record<string, unknown>;
      checkUrls(order, merchant, fields);
      if (typeof order.order_id === 'string' && !fields['order.order_id']) {
        if (store.findTransactionByOrder(merchant.app_id, order.order_id)) {
          fields['order.order_id'] = [fieldMessage('duplicate_order_id', merchant.locale)];
        }
      }
      if (Object.keys(fields).length > 0) {
        throw new KtpayError(ErrorCode.VALIDATION_4220002, {
          validation: fields,
          diagnostic: Object.entries(fields)
            .map(([k, v]) => `${k}: ${v.join(' ')}`)
            .join('; '),
        });
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
        id: store.nextTransactionId(),
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
      if (!store.insertTransaction(tx)) {
        // Lost a race with an identical order_id.
        throw new KtpayError(ErrorCode.VALIDATION_4220002, {
          validation: { 'order.order_id': [fieldMessage('duplicate_order_id', merchant.locale)] },
        });
      }
      return { tx, warnings };
    },

    get: (hash: string) => store.getTransaction(hash),

    /** A transaction that belongs to `merchant`, or 4040108 (another merchant's hash looks absent). */
    getOwned(hash: string, merchant: Merchant): Transaction {
      const tx = store.getTransaction(hash);
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
     * Applies an event through the state machine, stores the result and notifies listeners.
     * A rejection throws its catalog code and changes nothing.
     */
    apply(hash: string, event: PaymentEvent): Transaction {
      const before = store.getTransaction(hash);
      if (!before) throw new KtpayError(ErrorCode.TRANSACTION_NOT_FOUND_4040108);
      const after = transition(before, event);
      if (isRejection(after)) throw new KtpayError(after.code, { diagnostic: after.message });
      store.updateTransaction(after);
      const merchant = store.getMerchant(after.app_id);
      if (merchant) hub.emit({ before, after, merchant });
      return after;
    },
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
