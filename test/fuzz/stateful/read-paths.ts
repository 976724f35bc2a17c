import { API } from '../../helpers/sandbox.js';
import { expectApi, expectThat, fail, no5xx, okJson, validates } from './expect.js';
import type { JournalModel, Model, TxModel } from './model.js';
import type { SandboxUnderTest } from './sandbox-under-test.js';

/**
 * What the stateful fuzz reads after every command (issue 22 §2): every read path must answer
 * without a 5xx and agree with the model — the journal list and one transaction's entries, the
 * transactions list and detail, the dashboard's pages, the event stream, status,
 * acquirer-options and the PDF, callbacks, OpenAPI and health.
 */

const RECEIPT_STATUSES = new Set(['success', 'completed', 'partially_refunded', 'refunded']);
const STREAM_DEADLINE_MS = 10_000;

interface AdminTx {
  transaction_hash: string;
  order_id: string;
  amount: number;
  status: string;
  refunded_amount: number;
  refunds: unknown[];
  history: Array<{ status: string }>;
}

function sameTx(got: AdminTx, want: TxModel, what: string): void {
  const wanted = {
    order_id: want.order_id,
    amount: want.cents / 100,
    status: want.status,
    refunded_amount: want.refundedCents / 100,
    refunds: want.refunds,
    history: want.history.join(' > '),
  };
  const actual = {
    order_id: got.order_id,
    amount: got.amount,
    status: got.status,
    refunded_amount: got.refunded_amount,
    refunds: got.refunds.length,
    history: got.history.map((h) => h.status).join(' > '),
  };
  if (JSON.stringify(actual) !== JSON.stringify(wanted))
    fail(
      `${what}: transaction ${want.hash}\n  model ${JSON.stringify(wanted)}\n  sandbox ${JSON.stringify(actual)}`,
    );
}

interface AdminJournalEntry {
  method: string;
  path: string;
  transaction_hash: string | null;
  response: { status: number };
  verdict: { error_code: number | null };
}

function sameJournal(got: AdminJournalEntry[], want: JournalModel[], what: string): void {
  const line = (e: Omit<JournalModel, 'app_id'>) =>
    `${e.method} ${e.path} ${e.status} ${e.code ?? '-'} ${e.hash === undefined ? '?' : (e.hash ?? '-')}`;
  const gotLines = got.map((e, i) =>
    line({
      method: e.method,
      path: e.path,
      status: e.response.status,
      code: e.verdict.error_code,
      ...(want[i]?.hash === undefined ? {} : { hash: e.transaction_hash }),
    }),
  );
  const wantLines = want.map(line);
  if (gotLines.join('\n') !== wantLines.join('\n'))
    fail(
      `${what}: the journal differs from the model\n  model (newest first):\n    ${wantLines.join('\n    ')}\n  sandbox:\n    ${gotLines.join('\n    ')}`,
    );
}

/** The merchant-API reads of one transaction: status, acquirer-options and (when paid) the PDF. Journaled. */
async function merchantReads(
  model: Model,
  sb: SandboxUnderTest,
  tx: TxModel,
  renderPdf: boolean,
): Promise<void> {
  const m = model.merchant(tx.app_id)!;
  const gone = m.deleted;
  // Status, with the owner's Auth-Identifier (a deleted merchant's app_id is unknown: 4220103).
  const status = await sb.request({
    url: `${API}/payment/${tx.hash}`,
    headers: { 'auth-identifier': m.app_id },
  });
  const statusVerdict = gone ? { code: 4220103 } : { ok: true as const };
  const payload = expectApi(status, gone ? 'reference' : m.envelope, statusVerdict, `status of ${tx.hash}`);
  // An unknown Auth-Identifier is refused before the route looks at the hash: the entry names none.
  model.record({
    method: 'GET',
    path: `${API}/payment/${tx.hash}`,
    status: status.statusCode,
    code: 'ok' in statusVerdict ? null : statusVerdict.code,
    hash: gone ? null : tx.hash,
    app_id: m.app_id,
  });
  if (!gone) {
    validates('paymentStatus', payload, 'status payload');
    const s = payload as { status: { status: string }; amount: number; refunded_amount: number };
    expectThat(
      s.status.status === tx.status &&
        s.amount === tx.cents / 100 &&
        s.refunded_amount === tx.refundedCents / 100,
      `status of ${tx.hash}: model ${tx.status} ${tx.cents / 100} refunded ${tx.refundedCents / 100}`,
      status,
    );
  }

  // acquirer-options without Auth-Identifier: the owner's dialect; a deleted owner is 4040108.
  const options = await sb.request({ url: `${API}/payment/${tx.hash}/acquirer-options` });
  const optionsVerdict = gone ? { code: 4040108 } : { ok: true as const };
  const opts = expectApi(
    options,
    gone ? 'reference' : m.envelope,
    optionsVerdict,
    `acquirer-options of ${tx.hash}`,
  );
  model.record({
    method: 'GET',
    path: `${API}/payment/${tx.hash}/acquirer-options`,
    status: options.statusCode,
    code: 'ok' in optionsVerdict ? null : optionsVerdict.code,
    hash: tx.hash,
    app_id: tx.app_id,
  });
  if (!gone)
    validates(
      m.acquirer_options_version === 1 ? 'acquirerOptionsV1' : 'acquirerOptionsV2',
      opts,
      'acquirer-options',
    );

  // The receipt: 4090113 until paid; a paid one when `renderPdf` (a render costs 0.1-0.6 s on this
  // box, and its content only changes with the payment).
  const paid = RECEIPT_STATUSES.has(tx.status);
  if (paid && !renderPdf) return;
  if (paid) tx.receiptRendered = true;
  const pdf = await sb.request({ url: `${API}/payment/${tx.hash}/pdf` });
  no5xx(pdf, `pdf of ${tx.hash}`);
  if (paid) {
    expectThat(
      pdf.statusCode === 200 &&
        pdf.headers['content-type'] === 'application/pdf' &&
        pdf.rawPayload.subarray(0, 5).toString('latin1') === '%PDF-',
      `pdf of ${tx.hash} (${tx.status}) is not a PDF`,
      pdf,
    );
  } else {
    expectApi(pdf, gone ? 'reference' : m.envelope, { code: 4090113 }, `pdf of unpaid ${tx.hash}`);
  }
  model.record({
    method: 'GET',
    path: `${API}/payment/${tx.hash}/pdf`,
    status: pdf.statusCode,
    code: paid ? null : 4090113,
    hash: tx.hash,
    app_id: tx.app_id,
  });
}

/** One transaction through the admin API and the dashboard, and its callbacks. */
async function adminReads(model: Model, sb: SandboxUnderTest, tx: TxModel): Promise<void> {
  const view = okJson<AdminTx>(
    await sb.request({ url: `/__admin/transactions/${tx.hash}` }),
    `admin view of ${tx.hash}`,
    'adminTransactionView',
  );
  sameTx(view, tx, 'GET /__admin/transactions/{hash}');

  const entries = okJson<{ entries: AdminJournalEntry[] }>(
    await sb.request({ url: `/__admin/journal?transaction_hash=${tx.hash}&limit=1000` }),
    `journal of ${tx.hash}`,
    'journalList',
  ).entries;
  sameJournal(
    entries,
    model.ring().filter((e) => e.hash === tx.hash),
    `GET /__admin/journal?transaction_hash=${tx.hash}`,
  );

  const page = await sb.request({ url: `/__admin/ui/transactions/${tx.hash}` });
  no5xx(page, `dashboard page of ${tx.hash}`);
  expectThat(
    page.statusCode === 200 && String(page.headers['content-type']).startsWith('text/html'),
    `dashboard page of ${tx.hash}`,
    page,
  );
  expectThat(
    page.body.includes(`data-status="${tx.status}"`),
    `dashboard page of ${tx.hash} does not show ${tx.status}`,
    page,
  );
  const timeline = /<ol class="timeline">([\s\S]*?)<\/ol>/.exec(page.body)?.[1] ?? '';
  const shown = (timeline.match(/<li>/g) ?? []).length;
  expectThat(
    shown === tx.history.length,
    `dashboard timeline of ${tx.hash}: ${shown} entries, model ${tx.history.length}`,
    page,
  );
  expectThat(page.body.includes('id="payload"'), `dashboard page of ${tx.hash} has no payload view`, page);

  const calls = okJson<{
    deliveries: Array<{ body: string; url: string; status: string; scenario?: { action?: string } }>;
    notes: unknown[];
  }>(
    await sb.request({ url: `/__admin/transactions/${tx.hash}/callbacks` }),
    `callbacks of ${tx.hash}`,
    'transactionCallbacks',
  );
  const got = calls.deliveries.map((d) => `${d.status} ${d.url}`).sort();
  const required = tx.deliveries.filter((d) => !d.optional).map((d) => `${d.status} ${d.url}`);
  const optional = tx.deliveries.filter((d) => d.optional).map((d) => `${d.status} ${d.url}`);
  const rest = [...got];
  const missing = required.filter((r) => {
    const i = rest.indexOf(r);
    if (i < 0) return true;
    rest.splice(i, 1);
    return false;
  });
  const extra = rest.filter((r) => {
    const i = optional.indexOf(r);
    if (i < 0) return true;
    optional.splice(i, 1);
    return false;
  });
  expectThat(
    missing.length === 0 && extra.length === 0,
    `callbacks of ${tx.hash}: model ${JSON.stringify(tx.deliveries)}, sandbox ${JSON.stringify(got)}`,
  );
  for (const d of calls.deliveries) {
    const body = JSON.parse(d.body) as { transaction_hash: string; status: { status: string } };
    expectThat(
      body.transaction_hash === tx.hash && body.status.status === d.status,
      `callback body of ${tx.hash}: ${d.body.slice(0, 200)}`,
    );
    // extra_fields adds unknown fields on purpose (a scenario); every other body is the contract's.
    if (d.scenario?.action !== 'extra_fields') validates('callbackBody', body, 'callback body');
  }
  const notes = model.ring().filter((e) => e.hash === tx.hash && e.method === 'CALLBACK').length;
  expectThat(
    calls.notes.length === notes,
    `callback notes of ${tx.hash}: ${calls.notes.length}, model ${notes}`,
  );
}

/** The lists, the dashboard's list pages, OpenAPI, health and the event stream. */
async function globalReads(model: Model, sb: SandboxUnderTest, pages: boolean): Promise<void> {
  const health = okJson<{ transactions: number }>(
    await sb.request({ url: '/__admin/health' }),
    'health',
    'adminHealth',
  );
  expectThat(
    health.transactions === model.txs.length,
    `health counts ${health.transactions} transactions, model ${model.txs.length}`,
  );

  const list = okJson<{ transactions: AdminTx[] }>(
    await sb.request({ url: '/__admin/transactions?limit=1000' }),
    'transactions list',
    'adminTransactionList',
  );
  expectThat(
    list.transactions.length === model.txs.length,
    `transactions list has ${list.transactions.length}, model ${model.txs.length}`,
  );
  for (const got of list.transactions) {
    const want = model.tx(got.transaction_hash);
    if (!want) fail(`transactions list holds ${got.transaction_hash}, which the model does not know`);
    sameTx(got, want, 'GET /__admin/transactions');
  }

  const journal = okJson<{ entries: AdminJournalEntry[] }>(
    await sb.request({ url: '/__admin/journal?limit=1000' }),
    'journal',
    'journalList',
  );
  sameJournal(journal.entries, model.ring(), 'GET /__admin/journal');

  const deliveries = okJson<{ total: number }>(
    await sb.request({ url: '/__admin/callbacks?limit=1000' }),
    'callbacks',
    'callbackDeliveryList',
  );
  const owed = model.txs.reduce((n, t) => n + t.deliveries.filter((d) => !d.optional).length, 0);
  const mayBe = model.txs.reduce((n, t) => n + t.deliveries.length, 0);
  expectThat(
    deliveries.total >= owed && deliveries.total <= mayBe,
    `callbacks total ${deliveries.total}, model ${owed}${mayBe > owed ? `-${mayBe}` : ''}`,
  );

  const merchants = okJson<{ merchants: Array<{ app_id: string }> }>(
    await sb.request({ url: '/__admin/merchants' }),
    'merchants',
    'adminMerchantList',
  );
  expectThat(
    JSON.stringify(merchants.merchants.map((m) => m.app_id).sort()) ===
      JSON.stringify(
        model
          .live()
          .map((m) => m.app_id)
          .sort(),
      ),
    `merchants: ${merchants.merchants.length}, model ${model.live().length}`,
  );
  const scenarios = okJson<{ merchants: Record<string, string | null> }>(
    await sb.request({ url: '/__admin/scenarios' }),
    'scenarios',
    'scenarioCatalog',
  );
  for (const m of model.live())
    expectThat(
      (scenarios.merchants[m.app_id] ?? null) === m.scenario,
      `merchant ${m.app_id} has scenario ${scenarios.merchants[m.app_id]}, model ${m.scenario}`,
    );

  // Every step: the two pages whose content every command changes; after merchant and scenario
  // commands (and restarts, and at the start of a sequence) also the others and OpenAPI.
  const urls = ['/__admin/ui/transactions', '/__admin/ui/journal?show=all'];
  if (pages) urls.push('/__admin/ui/journal', '/__admin/ui/merchants');
  for (const url of urls) {
    const page = await sb.request({ url });
    no5xx(page, url);
    expectThat(
      page.statusCode === 200 && String(page.headers['content-type']).startsWith('text/html'),
      url,
      page,
    );
    if (url === '/__admin/ui/transactions')
      for (const t of model.txs)
        expectThat(page.body.includes(`data-hash="${t.hash}"`), `${url} does not list ${t.hash}`, page);
    if (url === '/__admin/ui/journal?show=all') {
      const shown = (page.body.match(/data-entry="/g) ?? []).length;
      expectThat(
        shown === model.ring().length,
        `${url}: ${shown} entries, model ${model.ring().length}`,
        page,
      );
    }
  }

  if (pages) {
    const openapi = await sb.request({ url: '/openapi.json' });
    expectThat(
      openapi.statusCode === 200 && openapi.body.startsWith('{"openapi":"3.1'),
      'openapi.json',
      openapi,
    );
  }

  sb.checkStream(STREAM_DEADLINE_MS);
}

/**
 * Every read path after one command. `touched` are the transactions the command acted on;
 * `changed` those whose status or refunds it changed; `pages` adds the pages and documents that
 * only merchant and scenario commands change.
 */
export async function checkReads(
  model: Model,
  sb: SandboxUnderTest,
  touched: readonly string[],
  opts: { changed?: ReadonlySet<string>; step?: number; pages?: boolean } = {},
): Promise<void> {
  const txs = [...new Set(touched)].map((h) => model.tx(h)).filter((t): t is TxModel => t !== undefined);
  for (const tx of txs) {
    const changed = opts.changed?.has(tx.hash) ?? false;
    // The receipt of half of the payments (by hash) when first paid, then after one in five changes.
    const render = changed && (tx.receiptRendered ? (opts.step ?? 0) % 5 === 0 : tx.hash < '8');
    await merchantReads(model, sb, tx, render);
  }
  for (const tx of txs) await adminReads(model, sb, tx);
  await globalReads(model, sb, opts.pages ?? true);
}
