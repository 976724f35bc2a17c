import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import sodium from 'libsodium-wrappers';

/*
 * The bench's "floor": the least any create-payment server must do, with the same crypto library
 * as the sandbox (FLOOR_CRYPTO=native for sodium-native, else libsodium-wrappers). Plain node:http; read the body, trim, base64-decode, crypto_box_seal_open,
 * answer a fixed small JSON. Nothing else: no routing, validation, storage or journal. The
 * create / floor ratio says how much the sandbox adds on top of the unavoidable crypto.
 *
 * Run: PORT=… FLOOR_PUBLIC_KEY=… FLOOR_SECRET_KEY=… node --import tsx test/bench/floor-server.ts
 */

await sodium.ready;
const pk = new Uint8Array(Buffer.from(process.env.FLOOR_PUBLIC_KEY ?? '', 'base64'));
const sk = new Uint8Array(Buffer.from(process.env.FLOOR_SECRET_KEY ?? '', 'base64'));

/** FLOOR_CRYPTO=native opens with sodium-native (as the sandbox does when it is installed), else libsodium-wrappers. */
interface NativeSodium {
  crypto_box_SEALBYTES: number;
  crypto_box_seal_open(m: Uint8Array, c: Uint8Array, pk: Uint8Array, sk: Uint8Array): boolean;
}
const native =
  process.env.FLOOR_CRYPTO === 'native'
    ? (createRequire(import.meta.url)('sodium-native') as NativeSodium)
    : undefined;
const open = native
  ? (cipher: Uint8Array) =>
      cipher.length >= native.crypto_box_SEALBYTES &&
      native.crypto_box_seal_open(
        Buffer.allocUnsafe(cipher.length - native.crypto_box_SEALBYTES),
        cipher,
        pk,
        sk,
      )
  : (cipher: Uint8Array) => sodium.crypto_box_seal_open(cipher, pk, sk).length > 0;
const OK = '{"success":true}';
const BAD = '{"success":false}';

/** The floor's work on one request body: trim, base64-decode, open. */
function openBody(text: string): boolean {
  const cipher = new Uint8Array(Buffer.from(text.trim(), 'base64'));
  try {
    return open(cipher);
  } catch {
    return false;
  }
}

const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';
if (process.env.FLOOR_FRAMEWORK === 'fastify') {
  // The same work as one Fastify route: what the framework the sandbox is built on (DESIGN.md) costs
  // by itself, with nothing of the sandbox's own (no hooks, validation, storage or journal).
  const app = Fastify({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.get('/', (_req, reply) => reply.type('application/json').send(OK));
  app.post('/*', (req, reply) => {
    const opened = openBody(typeof req.body === 'string' ? req.body : '');
    return reply
      .code(opened ? 200 : 422)
      .type('application/json')
      .send(opened ? OK : BAD);
  });
  await app.listen({ port, host });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
} else {
  const server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(OK);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const opened = openBody(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(opened ? 200 : 422, { 'content-type': 'application/json' }).end(opened ? OK : BAD);
    });
  });
  server.listen(port, host);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
