import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { ConfigError, loadConfig } from '../../mock-server/config/load-config.js';
import { parseScenarioText } from '../../mock-server/scenarios/scenario-library.js';
import { jsonTextDepth, notShown } from '../../mock-server/shared/json-depth.js';
import { startReceiver, type Receiver } from '../callbacks/receiver.js';
import { openEventStream } from '../helpers/event-stream.js';
import {
  API,
  APP_ID,
  buildTestApp,
  createPayment,
  orderPayload,
  postCreate,
  seal,
} from '../helpers/sandbox.js';

/**
 * Issue 22: one accepted request must never break a read path. A create whose sealed JSON held a
 * field nested 20,000 arrays deep (53 KB of base64, inside BODY_LIMIT) was accepted, and from then
 * on `GET /__admin/journal` and the dashboard's detail page answered 500 (JSON.stringify and the
 * dashboard's JSON view overflowed the stack).
 */

const apps: FastifyInstance[] = [];
const receivers: Receiver[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  for (const r of receivers.splice(0)) await r.close();
});

async function app(flags: Parameters<typeof buildTestApp>[0] = {}) {
  const a = await buildTestApp({ clearing_delay_ms: 'manual', ...flags });
  apps.push(a);
  return a;
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** A valid order whose plaintext carries `extra` (raw JSON text) as an unknown field. */
function orderWith(extra: string): string {
  return JSON.stringify(orderPayload()).replace(/}$/, `,"extra":${extra}}`);
}

describe('the 20,000-deep create of issue 22', () => {
  it('is refused with 4220101 and a hint naming the limit; the journal and the dashboard keep answering 200', async () => {
    const a = await app();
    const body = await seal(orderWith(nested(20_000)));
    expect(body.length).toBeLessThan(65_536); // inside BODY_LIMIT, as in the issue

    const res = await postCreate(a, body);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.code).toBe(4220101);
    expect(res.json().error.hint).toMatch(/nested 20001 levels deep; the sandbox accepts at most 64/);
    expect(await a.sandbox.store.countTransactions()).toBe(0);

    // A transaction the same merchant owns, with cancel/refund bodies just as deep in its journal.
    const hash = await createPayment(a);
    for (const op of ['cancel', 'refund']) {
      const r = await a.inject({
        method: 'POST',
        url: `${API}/payment/${hash}/${op}`,
        headers: { 'auth-identifier': APP_ID },
        payload: await seal(`{"reason":${nested(20_000)}}`),
      });
      expect(r.statusCode, op).toBe(422);
      expect(r.json().error.code, op).toBe(4220101);
    }

    for (const url of [
      '/__admin/journal',
      '/__admin/journal?limit=1',
      `/__admin/journal?transaction_hash=${hash}`,
      '/__admin/ui/journal?show=all',
      '/__admin/ui/journal',
      `/__admin/ui/transactions/${hash}`,
      '/__admin/ui/transactions',
      `/__admin/transactions/${hash}`,
    ]) {
      const r = await a.inject({ url });
      expect(r.statusCode, url).toBe(200);
    }
    // The journal keeps what arrived, cut where it gets too deep, with a placeholder there.
    const [refused] = (await a.inject({ url: '/__admin/journal?limit=4' })).json().entries.reverse();
    expect(refused.verdict.error_code).toBe(4220101);
    expect(refused.decrypted.order.order_id).toMatch(/^T-/);
    expect(JSON.stringify(refused.decrypted.extra)).toContain('[not shown: nested deeper than 64 levels]');
  });
});

describe('the nesting limit: 64 levels of objects and arrays', () => {
  const objects = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

  it('holds on create, cancel and refund payloads: 64 levels pass, 65 are 4220101', async () => {
    const a = await app();
    const ok = await postCreate(a, await seal(orderWith(nested(63)))); // 63 + the payload object
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().payload.transaction_hash).toMatch(/^[0-9a-f]{40}$/);
    const deep = await postCreate(a, await seal(orderWith(objects(64))));
    expect(deep.statusCode).toBe(422);
    expect(deep.json().error.hint).toContain('nested 65 levels deep');
    const hash = ok.json().payload.transaction_hash as string;
    const refund = await a.inject({
      method: 'POST',
      url: `${API}/payment/${hash}/refund`,
      headers: { 'auth-identifier': APP_ID },
      payload: await seal(`{"amount":1,"x":${nested(64)}}`),
    });
    expect(refund.json().error.code).toBe(4220101);
    // The refusal came before the state machine: the payment is still pending.
    expect((await a.sandbox.store.getTransaction(hash))!.status).toBe('pending');
  });

  it('holds on admin JSON bodies: 4220101 with the depth in the hint, before any route runs', async () => {
    const a = await app();
    for (const [method, url] of [
      ['POST', '/__admin/merchants'],
      ['POST', '/__admin/scenarios'],
      ['PUT', `/__admin/merchants/${APP_ID}/scenario`],
      ['POST', '/__admin/transactions/0000000000000000000000000000000000000000/pay'],
    ] as const) {
      for (const body of [`{"name":${nested(20_000)}}`, `{"name":${nested(64)}}`]) {
        const res = await a.inject({
          method,
          url,
          headers: { 'content-type': 'application/json' },
          payload: body,
        });
        expect(res.statusCode, url).toBe(422);
        expect(res.json().error.code, url).toBe(4220101);
        expect(res.json().error.hint, url).toMatch(
          /nested (20001|65) levels deep; the sandbox accepts at most 64/,
        );
      }
      // 64 levels reach the route, which judges the shape (4220122 or 4040108), not the depth.
      const res = await a.inject({
        method,
        url,
        headers: { 'content-type': 'application/json' },
        payload: `{"name":${nested(63)}}`,
      });
      expect(res.json().error.code, url).not.toBe(4220101);
    }
    expect((await a.inject({ url: '/__admin/merchants' })).json().merchants).toHaveLength(1);
  });

  it('holds on config files (YAML and JSON) and MERCHANTS_JSON: a ConfigError, not a stack overflow', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktpay-depth-'));
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const cases: Array<[string, () => unknown]> = [
      ['JSON 20,000', () => loadConfig({ file: write('a.json', `{"merchants":${nested(20_000)}}`) })],
      ['JSON 65', () => loadConfig({ file: write('b.json', `{"merchants":${nested(64)}}`) })],
      ['YAML flow 20,000', () => loadConfig({ file: write('c.yaml', `merchants: ${nested(20_000)}\n`) })],
      ['YAML flow 65', () => loadConfig({ file: write('d.yaml', `merchants: ${nested(64)}\n`) })],
      ['MERCHANTS_JSON', () => loadConfig({ env: { MERCHANTS_JSON: nested(20_000) } })],
    ];
    for (const [name, run] of cases) {
      expect(run, name).toThrow(ConfigError);
      expect(run, name).toThrow(/nested (more than 64 levels deep|too deeply to read); at most 64 levels/);
    }
    // 64 levels are read, and judged by the schema as any other value.
    expect(() => loadConfig({ file: write('e.json', `{"merchants":${nested(63)}}`) })).toThrow(
      /merchants\.0 must be object/,
    );
  });

  it('holds on scenario files: a ConfigError naming the file', () => {
    const schemas = createSchemaRegistry();
    const steps = '[{"match":{"endpoint":"create"},"effect":{"type":"respond_error","code":4220002}}]';
    for (const [source, text] of [
      ['deep.json', `{"name":"deep","description":"d","steps":${steps},"tags":${nested(20_000)}}`],
      ['deep.yaml', `name: deep\ndescription: d\ntags: ${nested(20_000)}\nsteps: ${steps}\n`],
      ['deep65.yaml', `name: deep\ndescription: d\ntags: ${nested(65)}\nsteps: ${steps}\n`],
    ]) {
      const run = () => parseScenarioText(text!, source!, schemas);
      expect(run, source).toThrow(ConfigError);
      expect(run, source).toThrow(new RegExp(`scenario ${source}: nested`));
    }
    expect(
      parseScenarioText(`{"name":"ok","description":"d","steps":${steps}}`, 'ok.json', schemas).name,
    ).toBe('ok');
  });
});

describe('an SQLite file an older version wrote, with rows nested 20,000 levels deep', () => {
  /** Splices `extra` (raw JSON) into a stored document right after `"key":{`. */
  const splice = (doc: string, key: string, extra: string) => {
    const at = doc.indexOf(`"${key}":{`);
    if (at < 0) throw new Error(`no "${key}" object in ${doc.slice(0, 200)}`);
    const open = at + key.length + 4;
    return `${doc.slice(0, open)}"extra":${extra},${doc.slice(open)}`;
  };

  it('is served on every read path without a 500, with a placeholder where a value is too deep', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktpay-legacy-'));
    const path = join(dir, 'old.db');
    const receiver = await startReceiver();
    receivers.push(receiver);
    const flags = {
      store: `sqlite:${path}`,
      default_merchant: { callback_post_url: receiver.url },
    } as const;

    // 1. Three ordinary payments, as any version would store them.
    const before = await app(flags);
    const pending = await createPayment(before);
    const toCancel = await createPayment(before);
    const paid = await createPayment(before);
    const card = { pan: '4405639704015096', exp_month: '12', exp_year: '40', cvc: '123' };
    await before.inject({ method: 'POST', url: `/__admin/transactions/${paid}/pay`, payload: card });
    await before.inject({ method: 'POST', url: `/__admin/transactions/${paid}/clear` });
    await receiver.waitFor(1);
    await before.close();
    apps.splice(apps.indexOf(before), 1);

    // 2. What a version without the limit stored: payloads, a journal entry's decrypted body and
    //    its response body nested 20,000 levels deep, written straight into the file.
    const deep = nested(20_000);
    const db = new Database(path);
    const getDoc = db.prepare('SELECT doc FROM transactions WHERE hash = ?').pluck();
    const setDoc = db.prepare('UPDATE transactions SET doc = ? WHERE hash = ?');
    for (const hash of [pending, toCancel, paid])
      setDoc.run(splice(getDoc.get(hash) as string, 'payload', deep), hash);
    const createEntry = db
      .prepare(
        "SELECT doc FROM journal WHERE transaction_hash = ? AND json_extract(doc, '$.method') = 'POST'",
      )
      .pluck()
      .get(pending) as string;
    const poisoned = splice(splice(createEntry, 'decrypted', deep), 'body', deep);
    db.prepare(
      'INSERT INTO journal (at, app_id, order_id, transaction_hash, doc) VALUES (?, ?, ?, ?, ?)',
    ).run(Date.now(), APP_ID, 'legacy', pending, poisoned);
    db.close();

    // 3. Today's sandbox on that file, over a real socket for the dashboard's event stream.
    const a = await app(flags);
    const base = await a.listen({ port: 0, host: '127.0.0.1' });
    const stream = await openEventStream(`${base}/__admin/ui/events`);
    try {
      const get = async (url: string, headers: Record<string, string> = {}) => {
        const res = await a.inject({ url, headers });
        expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(200);
        return res;
      };
      const journal = await get('/__admin/journal');
      expect(journal.body).toContain(notShown());
      expect(jsonTextDepth(journal.body)).toBeLessThanOrEqual(64);
      await get('/__admin/journal?limit=1');
      await get(`/__admin/journal?transaction_hash=${pending}`);
      await get('/__admin/transactions');
      await get(`/__admin/transactions/${pending}`);
      await get('/__admin/ui/transactions');
      const detail = await get(`/__admin/ui/transactions/${pending}`);
      expect(detail.body).toContain(notShown());
      expect(detail.body).toContain('class="timeline"');
      await get('/__admin/ui/journal?show=all');
      const status = await get(`${API}/payment/${pending}`, { 'auth-identifier': APP_ID });
      expect(status.json().payload.status.status).toBe('pending');
      await get(`${API}/payment/${pending}/acquirer-options`, { 'auth-identifier': APP_ID });
      const pdf = await get(`${API}/payment/${paid}/pdf`);
      expect(pdf.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      await get(`/__admin/callbacks?transaction_hash=${paid}`);
      await get(`/__admin/transactions/${paid}/callbacks`);
      await get('/openapi.json');
      await get('/__admin/health');

      // 4. The write paths on those rows: pay, clear (a callback goes out), cancel.
      const pay = await a.inject({
        method: 'POST',
        url: `/__admin/transactions/${pending}/pay`,
        payload: card,
      });
      expect(pay.statusCode, pay.body).toBe(200);
      const clear = await a.inject({ method: 'POST', url: `/__admin/transactions/${pending}/clear` });
      expect(clear.json().status).toBe('completed');
      const [, second] = await receiver.waitFor(2);
      expect(JSON.parse(second!.body)).toMatchObject({
        transaction_hash: pending,
        status: { status: 'completed' },
      });
      const cancel = await a.inject({
        method: 'POST',
        url: `${API}/payment/${toCancel}/cancel`,
        headers: { 'auth-identifier': APP_ID },
      });
      expect(cancel.statusCode, cancel.body).toBe(200);
      // The feed names the legacy transaction when it changes (kinds and hashes only, no stored data).
      await stream.waitFor((e) => {
        if (e.event !== 'change') return false;
        const d = JSON.parse(e.data) as { kinds: string[]; hashes: string[] | null };
        return d.kinds.includes('transaction') && (d.hashes === null || d.hashes.includes(pending));
      });
      expect(stream.status).toBe(200);
    } finally {
      await stream.close();
    }
    await a.close();
    apps.splice(apps.indexOf(a), 1);

    // 5. Written back cut at the limit: after a restart the changed rows are shallow again.
    const db2 = new Database(path, { readonly: true });
    const docOf = db2.prepare('SELECT doc FROM transactions WHERE hash = ?').pluck();
    for (const hash of [pending, toCancel]) {
      const doc = docOf.get(hash) as string;
      expect(jsonTextDepth(doc)).toBeLessThanOrEqual(64);
      expect(doc).toContain(notShown());
    }
    expect(jsonTextDepth(docOf.get(paid) as string)).toBeGreaterThan(20_000); // untouched
    db2.close();
    const after = await app(flags);
    expect((await after.inject({ url: `/__admin/ui/transactions/${pending}` })).statusCode).toBe(200);
    expect((await after.inject({ url: '/__admin/journal' })).statusCode).toBe(200);
    rmSync(dir, { recursive: true, force: true });
  });
});
