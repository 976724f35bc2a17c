import { connect } from 'node:net';

/** One HTTP/1.x response as it came off the wire. */
export interface RawResponse {
  /** The status line of the final response, e.g. `HTTP/1.1 200 OK`. */
  statusLine: string;
  status: number;
  /** Header names lower-cased; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
  /** Status lines of 1xx responses before the final one (`HTTP/1.1 100 Continue`). */
  interim: string[];
  /** True when the server closed the connection on its own after the response. */
  serverClosed: boolean;
}

/** What to do next on the connection: send bytes, or wait until the server has written a pattern. */
export type RawStep = string | Buffer | { waitFor: RegExp };

/** A parsed response, or undefined while the bytes so far do not hold a complete one. */
function parse(bytes: Buffer, ended: boolean): Omit<RawResponse, 'serverClosed'> | undefined {
  const interim: string[] = [];
  let at = 0;
  for (;;) {
    const headEnd = bytes.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return undefined;
    const [statusLine = '', ...lines] = bytes.subarray(at, headEnd).toString('latin1').split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    at = headEnd + 4;
    if (status >= 100 && status < 200) {
      interim.push(statusLine);
      continue;
    }
    const rest = bytes.subarray(at);
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (rest.length < n) return undefined;
      return { statusLine, status, headers, body: rest.subarray(0, n), interim };
    }
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunks: Buffer[] = [];
      let p = 0;
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', p);
        if (lineEnd < 0) return undefined;
        const size = parseInt(rest.subarray(p, lineEnd).toString('latin1'), 16);
        if (rest.length < lineEnd + 2 + size + 2) return undefined;
        if (size === 0) return { statusLine, status, headers, body: Buffer.concat(chunks), interim };
        chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
    }
    // No length: the body runs until the server closes (HTTP/1.0 style).
    return ended ? { statusLine, status, headers, body: rest, interim } : undefined;
  }
}

/**
 * Speaks HTTP/1.x over a fresh TCP connection byte for byte, where a client library would
 * normalise what the test is about (an empty header, a chunked body, `Expect: 100-continue`, an
 * HTTP/1.0 request). Runs the steps in order, then reads one response; a server that keeps the
 * connection open is hung up on once the response is complete.
 *
 * @example
 * const res = await rawHttp(server.url, [`POST /x HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi`]);
 */
export function rawHttp(url: string, steps: RawStep[], timeoutMs = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    let serverClosed = false;
    let waiting: { pattern: RegExp; resume: () => void } | undefined;
    let done = false;
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `no complete response in ${timeoutMs} ms; got ${JSON.stringify(received.toString('latin1').slice(0, 300))}`,
          ),
        ),
      timeoutMs,
    );
    function finish(err?: Error) {
      if (done) return;
      const res = parse(received, true);
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (res) resolve({ ...res, serverClosed });
      else
        reject(
          err ??
            new Error(`incomplete response: ${JSON.stringify(received.toString('latin1').slice(0, 300))}`),
        );
    }
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (waiting && waiting.pattern.test(received.toString('latin1'))) {
        const { resume } = waiting;
        waiting = undefined;
        resume();
      }
      const res = parse(received, false);
      // A complete response on a connection the server keeps open: wait a moment for a close that
      // may be on its way (Connection: close), then hang up.
      if (res && !done) setTimeout(() => finish(), res.headers.connection === 'close' ? 200 : 20);
    });
    socket.on('end', () => {
      serverClosed = true;
      finish();
    });
    socket.on('error', (err) => finish(err));
    socket.on('connect', async () => {
      for (const step of steps) {
        if (typeof step === 'string' || Buffer.isBuffer(step)) {
          socket.write(step);
        } else {
          await new Promise<void>((resume) => {
            if (step.waitFor.test(received.toString('latin1'))) resume();
            else waiting = { pattern: step.waitFor, resume };
          });
        }
      }
    });
  });
}

/** The request head lines joined as HTTP wants them, with the blank line that ends the head. */
export function head(lines: string[]): string {
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A body as `Transfer-Encoding: chunked` frames, cut into `pieces` chunks of about equal size. */
export function chunked(body: string, pieces: number): string {
  const size = Math.ceil(body.length / pieces);
  let out = '';
  for (let i = 0; i < body.length; i += size) {
    const part = body.slice(i, i + size);
    out += `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}
