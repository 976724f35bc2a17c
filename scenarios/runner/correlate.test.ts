import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../mock-server/journal/journal-entry.js';
import type { RunContext, ScenarioState, TriggerRecord } from './context.js';
import { answerKeys, findCreate } from './correlate.js';

const APP = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);
const hash = (c: string) => c.repeat(40);

let nextId = 1;
function create(o: {
  app_id?: string | null;
  order_id?: string;
  amount?: number;
  hash?: string | null;
}): JournalEntry {
  const order = o.order_id ? { order_id: o.order_id, amount: o.amount ?? 100 } : undefined;
  return {
    id: nextId++,
    at: Date.now(),
    app_id: o.app_id === undefined ? APP : o.app_id,
    order_id: o.order_id ?? null,
    transaction_hash: o.hash ?? null,
    method: 'POST',
    path: '/api/v1/merchant-widget/payment',
    headers: {},
    raw_body_size: 10,
    decrypted: order ? { order } : null,
    verdict: { ok: !!o.hash, error_code: null, explanation: null, contract_warnings: [], scenario: null },
    response: { status: o.hash ? 200 : 500, body: null },
    duration_ms: 3,
  };
}

/** A journal the way GET /__admin/journal filters it (newest first). */
function runWith(entries: JournalEntry[], parallel = 1): RunContext {
  const journal = async (q: {
    transaction_hash?: string;
    order_id?: string;
    app_id?: string;
    limit?: number;
  }) =>
    entries
      .filter(
        (e) =>
          (!q.transaction_hash || e.transaction_hash === q.transaction_hash) &&
          (!q.order_id || e.order_id === q.order_id) &&
          (!q.app_id || e.app_id === q.app_id),
      )
      .sort((x, y) => y.id - x.id);
  return {
    merchant: { app_id: APP },
    sandbox: { journal },
    config: { parallel, trigger: { http: { url: 'http://shop/checkout' } } },
    claimed: new Set<number>(),
  } as unknown as RunContext;
}

function stateWith(trigger: Partial<TriggerRecord>, used: string[] = [], mark = 0): ScenarioState {
  return {
    trigger: {
      kind: 'http',
      request: 'POST http://shop/checkout',
      started_at: Date.now(),
      duration_ms: 5,
      ...trigger,
    },
    used: new Set(used),
    vars: { order_id: 'kmc-1', amount: 777 },
    mark,
  } as unknown as ScenarioState;
}

describe('answerKeys', () => {
  it('reads transaction_hash and order_id at the default or the configured JSONPaths', () => {
    expect(answerKeys({ order_id: 'A1', transaction_hash: hash('c') })).toEqual({
      order_id: 'A1',
      transaction_hash: hash('c'),
    });
    expect(
      answerKeys(
        { data: { payment: { id: hash('d') } }, order: { number: 17 } },
        {
          transaction_hash: '$.data.payment.id',
          order_id: '$.order.number',
        },
      ),
    ).toEqual({ transaction_hash: hash('d'), order_id: '17' });
    expect(answerKeys({ transaction_hash: 'not-a-hash', order_id: '' })).toEqual({});
    expect(answerKeys(undefined)).toEqual({});
  });
});

describe('findCreate: exact, never by timing when the shop names the payment', () => {
  it('a shop that creates two payments: the one its answer names is taken, not the newest', async () => {
    const named = create({ order_id: 'A1', hash: hash('1') });
    const later = create({ order_id: 'A1-upsell', hash: hash('2') });
    const found = await findCreate(
      stateWith({ body: { transaction_hash: hash('1') } }),
      runWith([named, later]),
      200,
    );
    expect(found?.entry.id).toBe(named.id);
    expect(found?.by).toMatch(/^transaction_hash 1{40} in the shop's answer/);
    expect(found?.exact).toBe(true);
  });

  it("two runs against one sandbox: another merchant's create with the same order id is never taken", async () => {
    const mine = create({ order_id: 'ORD-1' });
    const theirs = create({ order_id: 'ORD-1', app_id: OTHER, hash: hash('9') });
    const found = await findCreate(stateWith({ body: { order_id: 'ORD-1' } }), runWith([mine, theirs]), 200);
    expect(found?.entry.id).toBe(mine.id);
    expect(found?.by).toMatch(/order_id ORD-1 in the shop's answer/);
  });

  it("without keys in the answer: the trigger's own order_id, then its unique amount", async () => {
    const byOrder = create({ order_id: 'kmc-1', hash: hash('3') });
    const other = create({ order_id: 'x', amount: 5, hash: hash('4') });
    let found = await findCreate(
      stateWith({ body: undefined }, ['order_id']),
      runWith([other, byOrder]),
      200,
    );
    expect(found?.entry.id).toBe(byOrder.id);
    const byAmount = create({ order_id: 'shop-77', amount: 777, hash: hash('5') });
    found = await findCreate(stateWith({ body: {} }, ['amount']), runWith([other, byAmount]), 200);
    expect(found?.entry.id).toBe(byAmount.id);
    expect(found?.by).toMatch(/the trigger's amount 777/);
  });

  it('by time as the last resort: in parallel each scenario takes the earliest create nobody else took', async () => {
    const first = create({ order_id: 'p', hash: hash('6') });
    const second = create({ order_id: 'q', hash: hash('7') });
    const run = runWith([first, second], 4);
    const a = await findCreate(stateWith({ body: {} }, [], first.id - 1), run, 2000);
    const b = await findCreate(stateWith({ body: {} }, [], first.id - 1), run, 2000);
    expect([a?.entry.id, b?.entry.id]).toEqual([first.id, second.id]);
    expect(a?.exact).toBe(false);
    expect(a?.by).toMatch(/^time: the earliest create-payment/);
  });
});
