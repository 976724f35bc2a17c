import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../mock-server/server.js';
import { expectSuccessReply } from '../helpers/envelope-assert.js';
import { head, rawHttp } from '../helpers/raw-http.js';
import { API, APP_ID, buildTestApp, orderPayload, postCreate, seal, testConfig } from '../helpers/sandbox.js';

/**
 * Issue 15 §1: an empty, malformed or unexpected Content-Type is treated like none; the body is the
 * sealed base64 text whatever the header says (spec §2). Guzzle's stream handler, on a PHP without
 * the curl extension, sends `Content-Type:` with an empty value: that exact header goes over a real
 * socket, since an inject()ed request may not carry the bytes a client writes.
 */

const ODD_TYPES = [
  '', // Guzzle's StreamHandler: "Content-Type:\r\n"
  ' ',
  'undefined',
  'text',
  'json',
  ';',
  'text/',
  '/plain',
  'a/b/c',
  'text/plain;;;',
  'text/plain; charset',
  'text/plain, application/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'text/plain; charset=utf-16',
  'application/json; charset=windows-1251',
  'image/png',
  'текст/plain',
];

describe('Content-Type on create (inject)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(() => app.close());

  for (const type of ODD_TYPES) {
    it(`creates the payment with Content-Type ${JSON.stringify(type)}`, async () => {
      const res = await postCreate(app, await seal(orderPayload()), { 'content-type': type });
      expectSuccessReply(res.statusCode, res.json(), 'reference');
    });
  }

  it('creates the payment whatever printable Content-Type is sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({
          unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
          maxLength: 40,
        }),
        async (type) => {
          // Each run needs its own order_id: a duplicate would be refused for another reason.
          const res = await postCreate(app, await seal(orderPayload()), { 'content-type': type });
          expect(res.statusCode, `${JSON.stringify(type)}: ${res.body}`).toBe(200);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('Content-Type on a real socket', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(testConfig({ port: 0 }), { logger: false });
  });
  afterAll(() => server.close());

  /** POSTs a sealed order with these exact header lines and returns the reply and the journal entry. */
  async function createWith(headerLines: string[]) {
    const payload = orderPayload();
    const body = await seal(payload);
    const res = await rawHttp(server.url, [
      head([
        `POST ${API}/payment HTTP/1.1`,
        'Host: 127.0.0.1',
        `Auth-Identifier: ${APP_ID}`,
        ...headerLines,
        `Content-Length: ${body.length}`,
      ]) + body,
    ]);
    const journal = await fetch(`${server.url}/__admin/journal?order_id=${payload.order.order_id}`);
    const [entry] = (await journal.json()).entries as { headers: Record<string, string> }[];
    return { res, entry: entry! };
  }

  it('an empty value ("Content-Type:", as Guzzle\'s stream handler sends it) is treated like none', async () => {
    const { res, entry } = await createWith(['Content-Type:']);
    expectSuccessReply(res.status, JSON.parse(res.body.toString()), 'reference');
    // The journal records the header as it was sent, not the parser's stand-in.
    expect(entry.headers['content-type']).toBe('');
  });

  it.each([
    ['Content-Type: '],
    ['Content-Type:\t'],
    ['Content-Type: text'],
    ['Content-Type: ;charset=utf-8'],
  ])('%j is treated like none', async (line) => {
    const { res, entry } = await createWith([line]);
    expectSuccessReply(res.status, JSON.parse(res.body.toString()), 'reference');
    expect(entry.headers['content-type']).toBe(line.slice('Content-Type:'.length).trim());
  });

  it('no Content-Type at all', async () => {
    const { res, entry } = await createWith([]);
    expectSuccessReply(res.status, JSON.parse(res.body.toString()), 'reference');
    expect(entry.headers['content-type']).toBeUndefined();
  });
});
