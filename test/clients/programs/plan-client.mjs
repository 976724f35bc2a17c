// A merchant's Node client for the client matrix (test/clients/node.test.ts).
//
//   node plan-client.mjs <fetch|http-chunked> <base-url> <plan.jsonl>
//
// Runs each step of the plan (one JSON object a line: id, method, path, auth, type, scenario, body,
// key) and prints one JSON line per reply: id, status, content_type, content_disposition, body_b64.
// A step with a `key` is sealed with libsodium-wrappers (crypto_box_seal, ORIGINAL base64), as the
// public JS widget client does. `{step}` in a path is the transaction_hash of that step's reply.
// `fetch` sends a string body (Content-Type: text/plain;charset=UTF-8 unless the step sets one);
// `http-chunked` writes each body through node:http in several pieces with no Content-Length, so
// it goes out as Transfer-Encoding: chunked.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import sodium from 'libsodium-wrappers';

const [transport, base, planFile] = process.argv.slice(2);
await sodium.ready;

function seal(text, key) {
  const cipher = sodium.crypto_box_seal(
    sodium.from_string(text),
    sodium.from_base64(key, sodium.base64_variants.ORIGINAL),
  );
  return sodium.to_base64(cipher, sodium.base64_variants.ORIGINAL);
}

async function sendFetch(method, url, headers, body) {
  const res = await fetch(url, { method, headers, body });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

function sendChunked(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: new Headers(res.headers), bytes: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) {
      const size = Math.ceil(body.length / 3);
      for (let i = 0; i < body.length; i += size) req.write(body.slice(i, i + size));
    }
    req.end();
  });
}

const send = transport === 'http-chunked' ? sendChunked : sendFetch;
console.log(JSON.stringify({ id: '_client', client: transport, node: process.version }));
const hashes = {};
for (const line of readFileSync(planFile, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const step = JSON.parse(line);
  const path = step.path.replace(/\{(\w+)\}/g, (_, id) => hashes[id] ?? '');
  const headers = {};
  if (step.auth) headers['Auth-Identifier'] = step.auth;
  if (step.type) headers['Content-Type'] = step.type;
  if (step.scenario) headers['X-Ktpay-Mock-Scenario'] = step.scenario;
  const body = step.body ? (step.key ? seal(step.body, step.key) : step.body) : undefined;
  const res = await send(step.method, base + path, headers, body);
  const found = /"transaction_hash":"([0-9a-f]{40})"/.exec(res.bytes.toString('latin1'));
  if (found) hashes[step.id] = found[1];
  console.log(
    JSON.stringify({
      id: step.id,
      status: res.status,
      content_type: res.headers.get('content-type') ?? '',
      content_disposition: res.headers.get('content-disposition') ?? '',
      body_b64: res.bytes.toString('base64'),
    }),
  );
}
