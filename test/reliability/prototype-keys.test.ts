import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { stringify as toYaml } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../contracts/schema-registry.js';
import { ConfigError, loadConfig } from '../../mock-server/config/load-config.js';
import { parseScenarioText } from '../../mock-server/scenarios/scenario-library.js';
import { completePayment, onlyDelivery, startReceiver, type Receiver } from '../callbacks/receiver.js';
import { API, APP_ID, buildTestApp, orderPayload, postCreate, seal } from '../helpers/sandbox.js';

/**
 * Issue 22 §3: keys named `__proto__`, `constructor` and `prototype` never change what the
 * sandbox does — in a payload, a scenario file, a config file, an admin body or a callback
 * receiver's answer. Each case compares the answer with the same request carrying an ordinary
 * unknown key (`zz_other`) in the same place, and `Object.prototype` must come out untouched.
 */

const KEYS = ['__proto__', 'constructor', 'prototype'] as const;
const OTHER = 'zz_other';
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

/** JSON text of `value` with the key `OTHER` renamed to `key` wherever it appears (JSON.stringify drops a real `__proto__`). */
const withKey = (value: unknown, key: string) =>
  JSON.stringify(value).replaceAll(`"${OTHER}":`, `${JSON.stringify(key)}:`);

/** A response without what differs between two runs anyway (hashes, order ids, times, the key's own name). */
function normal(res: LightMyRequestResponse, key: string, as: string = OTHER): string {
  return res.body
    .replaceAll(key, as)
    .replace(/[0-9a-f]{40}/g, '<hash>')
    .replace(/T-\d+-\d+-\d+/g, '<order>')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+\+06:00/g, '<time>');
}

let app: FastifyInstance;
beforeAll(async () => {
  app = await buildTestApp({ clearing_delay_ms: 'manual' });
});
afterAll(async () => {
  await app.close();
});
afterEach(() => {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
  for (const probe of ['amount', 'order_id', 'order', 'port', 'name', 'polluted', 'effect', 'status'])
    expect(({} as Record<string, unknown>)[probe], probe).toBeUndefined();
});

const payloadPlaces: Array<[string, (extra: Record<string, unknown>) => Record<string, unknown>]> = [
  ['top level', (extra) => ({ ...orderPayload(), ...extra })],
  ['order', (extra) => orderPayload(extra)],
  ['user', (extra) => orderPayload({}, { user: { phone: '+77011234567', ...extra } })],
  [
    'order.service',
    (extra) => orderPayload({ type: 'service', service: { service_id: 1, contract_value: '7', ...extra } }),
  ],
];

describe('payloads: the keys are unknown fields, nothing more', () => {
  for (const key of KEYS) {
    for (const [place, build] of payloadPlaces) {
      it(`create with "${key}" in ${place}: the same answer and transaction as with any unknown key`, async () => {
        // The key carries values that would matter if it became a prototype.
        const extra = {
          [OTHER]: { amount: 5, order_id: 'hijacked', type: 'service', status: 'completed', polluted: 1 },
        };
        const payload = build(extra);
        const other = await postCreate(app, await seal(JSON.stringify(payload)));
        const res = await postCreate(app, await seal(withKey(build(extra), key)));
        expect(res.statusCode, res.body).toBe(other.statusCode);
        expect(normal(res, key)).toBe(normal(other, OTHER));
        if (res.statusCode !== 200) return;
        const tx = (await app.sandbox.store.getTransaction(res.json().payload.transaction_hash))!;
        const twin = (await app.sandbox.store.getTransaction(other.json().payload.transaction_hash))!;
        expect([tx.amount, tx.type, tx.status, tx.description]).toEqual([
          twin.amount,
          twin.type,
          twin.status,
          twin.description,
        ]);
        expect(tx.order_id).not.toBe('hijacked');
        const [entry] = (await app.inject({ url: `/__admin/journal?transaction_hash=${tx.hash}` })).json()
          .entries;
        const path = place === 'top level' ? key : `${place}.${key}`;
        expect(entry.verdict.contract_warnings).toContain(
          `unknown field ${path}: not in the ktpay contract, ignored`,
        );
      });
    }

    it(`create whose required fields sit only under "${key}" is 4220002, as for an empty order`, async () => {
      const empty = await postCreate(app, await seal('{"order":{}}'));
      for (const text of [
        `{"order":{${JSON.stringify(key)}:{"amount":5,"order_id":"p-${key}"}}}`,
        `{${JSON.stringify(key)}:{"order":{"amount":5,"order_id":"q-${key}"}},"order":{}}`,
      ]) {
        const res = await postCreate(app, await seal(text));
        expect(res.statusCode, text).toBe(422);
        expect(res.json().error.validation, text).toEqual(empty.json().error.validation);
      }
    });

    it(`cancel and refund bodies with "${key}" holding a reason or an amount: ignored like any unknown key`, async () => {
      const hashes: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await postCreate(app, await seal(orderPayload({ amount: 100 })));
        hashes.push(r.json().payload.transaction_hash);
      }
      const [c1, c2, r1, r2] = hashes as [string, string, string, string];
      const op = async (hash: string, what: string, text: string) =>
        app.inject({
          method: 'POST',
          url: `${API}/payment/${hash}/${what}`,
          headers: { 'auth-identifier': APP_ID },
          payload: await seal(text),
        });
      const cancelBody = { [OTHER]: { reason: 'hijacked' } };
      const a = await op(c1, 'cancel', withKey(cancelBody, key));
      const b = await op(c2, 'cancel', JSON.stringify(cancelBody));
      expect(normal(a, key)).toBe(normal(b, OTHER));
      expect((await app.sandbox.store.getTransaction(c1))!.history.at(-1)!.detail).toBeUndefined();
      for (const h of [r1, r2]) await completePayment(app, h);
      const refundBody = { [OTHER]: { amount: 1 } };
      const x = await op(r1, 'refund', withKey(refundBody, key));
      const y = await op(r2, 'refund', JSON.stringify(refundBody));
      expect(normal(x, key)).toBe(normal(y, OTHER));
      expect((await app.sandbox.store.getTransaction(r1))!.status).toBe('refunded'); // the whole amount, not 1
    });
  }
});

describe('scenario files: the keys are unknown properties, refused like any other', () => {
  const schemas = createSchemaRegistry();
  const scenario = (extra: Record<string, unknown>, where: 'top' | 'step' | 'match' | 'effect') => {
    const match: Record<string, unknown> = { endpoint: 'create', ...(where === 'match' ? extra : {}) };
    const effect: Record<string, unknown> = {
      type: 'respond_error',
      code: 4220002,
      ...(where === 'effect' ? extra : {}),
    };
    const step: Record<string, unknown> = { match, effect, ...(where === 'step' ? extra : {}) };
    return { name: 'keys', description: 'd', steps: [step], ...(where === 'top' ? extra : {}) };
  };

  for (const key of KEYS) {
    for (const where of ['top', 'step', 'match', 'effect'] as const) {
      it(`"${key}" at ${where}, in JSON and in YAML: the same refusal as "${OTHER}"`, () => {
        const extra = { [OTHER]: { times: 'always', effect: { type: 'delay', ms: 1 } } };
        const json = withKey(scenario(extra, where), key);
        const yaml = toYaml(JSON.parse(json));
        const expected = () =>
          parseScenarioText(JSON.stringify(scenario(extra, where)), 'keys.json', schemas);
        expect(expected).toThrow(ConfigError);
        const message = (() => {
          try {
            expected();
          } catch (err) {
            return (err as Error).message;
          }
          return '';
        })();
        for (const [text, source] of [
          [json, 'keys.json'],
          [yaml, 'keys.yaml'],
        ] as const) {
          const run = () => parseScenarioText(text, source, schemas);
          expect(run, source).toThrow(ConfigError);
          expect(run, source).toThrow(message.replace('keys.json', source).replace(/^.*?: /, ''));
        }
      });
    }

    it(`"${key}" as a scenario name in the header or the order_id: what any unknown name gets`, async () => {
      // A name of the scenario-name pattern is looked up (and unknown: 4040124); others are plain text.
      const twin = /^[a-z0-9][a-z0-9-]*$/.test(key) ? 'zz-other' : 'zz_other';
      const create = async (name: string, via: 'header' | 'order_id') => {
        const order = orderPayload(via === 'order_id' ? { order_id: `scenario:${name}:${Date.now()}` } : {});
        const headers = via === 'header' ? { 'x-ktpay-mock-scenario': name } : {};
        return postCreate(app, await seal(order), headers);
      };
      for (const via of ['header', 'order_id'] as const) {
        const a = await create(key, via);
        const b = await create(twin, via);
        expect(a.statusCode, via).toBe(b.statusCode);
        expect(normal(a, key, twin).replace(/scenario:[^"]+/g, ''), via).toBe(
          normal(b, twin, twin).replace(/scenario:[^"]+/g, ''),
        );
        if (a.statusCode === 200)
          expect(
            (await app.sandbox.store.getTransaction(a.json().payload.transaction_hash))!.scenario,
          ).toBeUndefined();
      }
    });
  }
});

describe('config files: the keys are unknown settings, refused like any other', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ktpay-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const write = (ext: string, text: string) => {
    const path = join(dir, `c${++n}.${ext}`);
    writeFileSync(path, text);
    return path;
  };
  const places: Array<[string, (extra: Record<string, unknown>) => Record<string, unknown>]> = [
    ['top level', (extra) => ({ ...extra })],
    ['default_merchant', (extra) => ({ default_merchant: { domains: ['a.kz'], ...extra } })],
    ['callbacks', (extra) => ({ callbacks: { timeout_ms: 1000, ...extra } })],
    [
      'merchants[0]',
      (extra) => ({
        merchants: [{ name: 'A', domains: ['a.kz'], public_key: `${'a'.repeat(43)}=`, ...extra }],
      }),
    ],
  ];

  it('a "__proto__" key in a JSON config file no longer sets the port (it did: merged["__proto__"] = … changed the prototype)', () => {
    const path = write('json', '{"__proto__":{"port":1234,"admin_token":"x"}}');
    expect(() => loadConfig({ file: path })).toThrow(/__proto__ is not a known setting \(from config file/);
  });

  for (const key of KEYS) {
    for (const [place, build] of places) {
      it(`"${key}" in ${place}, JSON and YAML: the same refusal as "${OTHER}"`, () => {
        const extra = { [OTHER]: { port: 1234, store: 'sqlite:/tmp/x.db', admin_token: 'x', name: 'B' } };
        const reference = () => loadConfig({ file: write('json', JSON.stringify(build(extra))) });
        expect(reference).toThrow(ConfigError);
        let expected = '';
        try {
          reference();
        } catch (err) {
          expected = (err as Error).message.replace(/config file \S+/g, 'FILE');
        }
        const json = withKey(build(extra), key);
        for (const path of [write('json', json), write('yaml', toYaml(JSON.parse(json)))]) {
          let got = '';
          try {
            loadConfig({ file: path });
          } catch (err) {
            expect(err).toBeInstanceOf(ConfigError);
            got = (err as Error).message.replace(/config file \S+/g, 'FILE');
          }
          expect(got, path).toBe(expected.replaceAll(OTHER, key));
        }
      });
    }
  }

  it('MERCHANTS_JSON with the keys in a merchant: refused like an unknown field', () => {
    for (const key of KEYS) {
      const env = {
        MERCHANTS_JSON: `[{"name":"A","domains":["a.kz"],"public_key":"${'a'.repeat(43)}=",${JSON.stringify(key)}:{"name":"B"}}]`,
      };
      expect(() => loadConfig({ env }), key).toThrow(
        new RegExp(`merchants\\.0\\.${key} is not a known setting`),
      );
    }
  });
});

describe('admin bodies, query strings and forms', () => {
  const merchant = { name: 'Keys shop', domains: ['keys.kz'], public_key: `${'k'.repeat(43)}=` };
  const post = (url: string, payload: string, method: 'POST' | 'PUT' = 'POST') =>
    app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload });

  it('"__proto__" (and "constructor": {"prototype"}) in any admin body: 4220101 naming the key, nothing created', async () => {
    const before = (await app.inject({ url: '/__admin/merchants' })).json().merchants.length;
    for (const [url, body, method] of [
      [
        '/__admin/merchants',
        `{"__proto__":{"envelope":"widget"},${JSON.stringify(merchant).slice(1)}`,
        'POST',
      ],
      [
        '/__admin/merchants',
        `{"constructor":{"prototype":{"x":1}},${JSON.stringify(merchant).slice(1)}`,
        'POST',
      ],
      ['/__admin/merchants', `{"name":"x","domains":[{"__proto__":{}}]}`, 'POST'],
      ['/__admin/scenarios', '{"__proto__":{"name":"x"}}', 'POST'],
      [`/__admin/merchants/${APP_ID}/scenario`, '{"__proto__":{"name":"decline-system"}}', 'PUT'],
      [
        `/__admin/transactions/${'0'.repeat(40)}/pay`,
        '{"__proto__":{"otp":"1111"},"pan":"4405639704015096"}',
        'POST',
      ],
    ] as const) {
      const res = await post(url, body, method);
      expect(res.statusCode, url).toBe(422);
      expect(res.json().error.code, url).toBe(4220101);
      expect(res.json().error.hint, url).toContain(
        '"__proto__" key or a "constructor" object with a "prototype" key',
      );
    }
    expect((await app.inject({ url: '/__admin/merchants' })).json().merchants).toHaveLength(before);
    const scenarios = (await app.inject({ url: '/__admin/scenarios' })).json();
    expect(scenarios.merchants[APP_ID]).toBeNull();
  });

  for (const key of ['constructor', 'prototype'] as const) {
    it(`"${key}" as a plain key in admin bodies: 4220122 "Unknown field", as for "${OTHER}"`, async () => {
      for (const [url, body] of [
        ['/__admin/merchants', { ...merchant, [OTHER]: 'x' }],
        ['/__admin/scenarios', { name: 'k', description: 'd', steps: [], [OTHER]: 1 }],
        [
          `/__admin/transactions/${'0'.repeat(40)}/pay`,
          { pan: '4405639704015096', exp_month: 1, exp_year: 40, cvc: '123', [OTHER]: 1 },
        ],
      ] as const) {
        const a = await post(url, withKey(body, key));
        const b = await post(url, JSON.stringify(body));
        expect(a.statusCode, url).toBe(b.statusCode);
        expect(normal(a, key), url).toBe(normal(b, OTHER));
      }
    });
  }

  it('query strings and the sign-in form: the keys are ignored like any unknown parameter', async () => {
    for (const q of [
      '__proto__[status]=refunded',
      'constructor[prototype][status]=refunded',
      '__proto__=x&constructor=y&prototype=z',
    ]) {
      for (const path of [
        '/__admin/transactions',
        '/__admin/journal',
        '/__admin/callbacks',
        '/__admin/ui/transactions',
      ]) {
        const a = await app.inject({ url: `${path}?${q}` });
        const b = await app.inject({ url: `${path}?zz_other=1` });
        expect(a.statusCode, `${path}?${q}`).toBe(b.statusCode);
      }
    }
    const guarded = await buildTestApp({ admin_token: 'right' });
    try {
      for (const body of [
        '__proto__[token]=right',
        'token[__proto__]=right',
        'constructor=right&prototype=right',
      ]) {
        const res = await guarded.inject({
          method: 'POST',
          url: '/__admin/ui/login',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: body,
        });
        expect(res.statusCode, body).toBe(401);
        expect(res.headers['set-cookie'], body).toBeUndefined();
      }
    } finally {
      await guarded.close();
    }
  });
});

describe("a callback receiver's answer", () => {
  let receiver: Receiver | undefined;
  afterEach(async () => receiver?.close());

  it('keeps headers named constructor, __proto__, prototype and toString as sent', async () => {
    receiver = await startReceiver((_req, res) => {
      res.setHeader('constructor', 'c');
      res.setHeader('__proto__', 'p');
      res.setHeader('prototype', 'q');
      res.setHeader('toString', 't');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    const created = await postCreate(app, await seal(orderPayload({ callback_post_url: receiver.url })));
    const hash = created.json().payload.transaction_hash as string;
    await completePayment(app, hash);
    await app.sandbox.callbacks.whenIdle();
    const delivery = await onlyDelivery(app, hash);
    expect(delivery.state).toBe('acknowledged');
    const headers = delivery.attempts[0]!.response_headers!;
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.hasOwn(headers, '__proto__')).toBe(true);
    expect(headers).toMatchObject({ constructor: 'c', prototype: 'q', tostring: 't' });
    expect(headers.__proto__).toBe('p');
    const page = await app.inject({ url: `/__admin/ui/transactions/${hash}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('constructor: c');
  });
});
