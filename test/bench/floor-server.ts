import { createServer } from 'node:http';
import sodium from 'libsodium-wrappers';

/*
 * The bench's "floor": the least any create-payment server must do, with the same crypto library
 * as the sandbox. Plain node:http; read the body, trim, base64-decode, crypto_box_seal_open,
 * answer a fixed small JSON. Nothing else: no routing, validation, storage or journal. The
 * create / floor ratio says how much the sandbox adds on top of the unavoidable crypto.
 *
 * Run: PORT=… FLOOR_PUBLIC_KEY=… FLOOR_SECRET_KEY=… node --import tsx test/bench/floor-server.ts
 */

await sodium.ready;
const pk = new Uint8Array(Buffer.from(process.env.FLOOR_PUBLIC_KEY ?? '', 'base64'));
const sk = new Uint8Array(Buffer.from(process.env.FLOOR_SECRET_KEY ?? '', 'base64'));
const OK = '{"success":true}';
const BAD = '{"success":false}';

const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(OK);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const cipher = new Uint8Array(Buffer.from(Buffer.concat(chunks).toString('utf8').trim(), 'base64'));
    let opened = false;
    try {
      opened = sodium.crypto_box_seal_open(cipher, pk, sk).length > 0;
    } catch {
      opened = false;
    }
    res.writeHead(opened ? 200 : 422, { 'content-type': 'application/json' }).end(opened ? OK : BAD);
  });
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
