import { createServer } from 'node:http';

/*
 * The bench's ceiling for the status GET beside the peers: plain node:http answering every GET
 * under CANNED_PREFIX with the sandbox's own status body (CANNED_BODY), as the peers' stubs do.
 * No routing, lookup, auth, journal or framework: the most any Node server answers on this machine
 * with this load generator. `sandbox / peer` can be no better than `ceiling / peer` here.
 *
 * Run: PORT=… CANNED_PREFIX=/api/v1/merchant-widget/payment/ CANNED_BODY='{…}' node test/bench/canned-status-server.ts
 */

const prefix = process.env.CANNED_PREFIX ?? '/';
const body = Buffer.from(process.env.CANNED_BODY ?? '{}');
const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length };

createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith(prefix)) {
    res.writeHead(200, headers);
    res.end(body);
    return;
  }
  res.writeHead(404).end();
}).listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
