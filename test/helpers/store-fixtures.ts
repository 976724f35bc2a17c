import type { ScenarioFile } from '../../contracts/types.js';
import type { Delivery } from '../../mock-server/callbacks/delivery.js';
import type { JournalEntry } from '../../mock-server/journal/journal-entry.js';
import type { Merchant } from '../../mock-server/merchants/merchant.js';
import type { Transaction } from '../../mock-server/payments/transaction.js';

/** Test data for the store suites: complete, realistic objects with every optional part filled. */

export function merchantFixture(appId: string, patch: Partial<Merchant> = {}): Merchant {
  return {
    app_id: appId,
    merchant_id: 7,
    name: 'Магазин «Тест»',
    domains: ['shop.example.kz'],
    public_key: '0X/Tkqu9KnZDgKEJb7LUgoIFOrZgvk2Z4XPYoLvVC3Y=',
    server_keys: [
      {
        public_key: 'oy8UXMILwFoN7RoZ+pVNMTEjkVPkvwuQoolX9wjJGjs=',
        secret_key: 'IQytgr/VdGPDI1xr91q9QEtdhVd/YFY/E6vl3MQP+FI=',
        expires_at: null,
      },
    ],
    callback_post_url: 'https://shop.example.kz/ktpay/callback',
    envelope: 'reference',
    locale: 'ru',
    strict_domains: true,
    acquirer_options_version: 2,
    notify_on: ['refunded'],
    builtin: false,
    created_at: 1_767_225_600_000,
    ...patch,
  };
}

export function transactionFixture(id: number, patch: Partial<Transaction> = {}): Transaction {
  const at = 1_767_225_600_000 + id * 1000;
  return {
    id,
    hash: id.toString(16).padStart(40, 'a'),
    app_id: 'e2d3d70d53c67bcd377266f74e98587c',
    merchant_id: 1,
    order_id: `Order-${id}`,
    amount: 1500.5,
    description: 'Заказ №1 — тест',
    type: 'ecom',
    service: null,
    urls: { callback_post_url: 'https://shop.example.kz/cb' },
    show_close_button: true,
    user: { merchant_user_id: 'user1', phone: '+77778889900', email: 'test@example.com' },
    payload: { order: { amount: 1500.5, order_id: `Order-${id}`, extra: { nested: [1, 'два', null] } } },
    status: 'pending',
    status_created_at: at,
    status_updated_at: null,
    error: null,
    history: [{ status: 'pending', at, event: 'create' }],
    card: null,
    refunds: [],
    created_at: at,
    updated_at: null,
    ...patch,
  };
}

export function deliveryFixture(id: string, patch: Partial<Delivery> = {}): Delivery {
  return {
    id,
    transaction_hash: 'a'.repeat(40),
    app_id: 'e2d3d70d53c67bcd377266f74e98587c',
    url: 'https://shop.example.kz/cb',
    body: '{"order_id":"1","status":{"status":"completed"}}',
    status: 'completed',
    state: 'pending',
    created_at: 1_767_225_600_000,
    next_attempt_at: 1_767_225_615_000,
    attempts: [],
    note: null,
    ...patch,
  };
}

export function journalFixture(
  at: number,
  patch: Partial<Omit<JournalEntry, 'id'>> = {},
): Omit<JournalEntry, 'id'> {
  return {
    at,
    app_id: 'e2d3d70d53c67bcd377266f74e98587c',
    order_id: null,
    transaction_hash: null,
    method: 'POST',
    path: '/api/v1/merchant-widget/payment',
    headers: { 'auth-identifier': 'e2d3d70d53c67bcd377266f74e98587c' },
    raw_body_size: 180,
    decrypted: { order: { order_id: 'x', amount: 1 } },
    verdict: { ok: true, error_code: null, explanation: null, contract_warnings: [], scenario: null },
    response: { status: 200, body: { success: true } },
    duration_ms: 1.25,
    ...patch,
  };
}

export function scenarioFixture(name: string, description = 'Тестовый сценарий'): ScenarioFile {
  return {
    name,
    description,
    steps: [{ match: { endpoint: 'create' }, effect: { type: 'respond_error', code: 5000001 }, times: 2 }],
  };
}
