import {
  Agent,
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A round-robin front for a cluster test: every request goes to the next replica in turn, and the
 * answer says which one served it (`x-served-by: <index>`). A replica that refuses the connection
 * (it was killed) is skipped for good, and the request goes to the next one; a request cut off
 * mid-way answers 502, as a load balancer would. It listens on 127.0.0.1, on `opts.port` or a free
 * port; the bench runs it as a process of its own (test/bench/round-robin-front.ts).
 */
export interface RoundRobin {
  url: string;
  /** Requests each replica served. */
  served: number[];
  close(): Promise<void>;
}

export async function startRoundRobin(
  replicas: readonly string[],
  opts: { port?: number } = {},
): Promise<RoundRobin> {
  const targets = replicas.map((u) => new URL(u));
  const agents = targets.map(() => new Agent({ keepAlive: true, maxSockets: 64 }));
  const down = new Set<number>();
  const served = targets.map(() => 0);
  let turn = 0;

  function next(): number | undefined {
    for (let i = 0; i < targets.length; i++) {
      const n = turn++ % targets.length;
      if (!down.has(n)) return n;
    }
    return undefined;
  }

  function forward(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const n = next();
    if (n === undefined) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no replica is up');
      return;
    }
    const t = targets[n]!;
    const out = request(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: req.headers.host ?? t.host },
        agent: agents[n],
      },
      (answer) => {
        served[n]!++;
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, 'x-served-by': String(n) });
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' && !res.headersSent) {
        down.add(n); // nothing reached that replica: the next one may take the request
        forward(req, body, res);
      } else if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' }).end(`replica ${n}: ${err.message}`);
      } else res.destroy();
    });
    out.end(body);
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((ok) => server.listen(opts.port ?? 0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      for (const a of agents) a.destroy();
    },
  };
}
