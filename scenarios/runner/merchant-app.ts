import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

/** A free TCP port on 127.0.0.1 (closed again at once; the app binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface MerchantApp {
  /** The last lines the app printed (for a failure that may be the app's crash). */
  tail(): string;
  /** Whether the process has exited, and how. */
  exited(): { code: number | null; signal: string | null } | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the merchant app for the run (`app.command` in the check config), in its own process
 * group so stopping it also stops what the shell started. Output goes to `logFile` and a short
 * in-memory tail. Resolves once `readyUrl` answers any HTTP status.
 *
 * @example
 * const app = await startMerchantApp({ command: 'node server.js', cwd, env, readyUrl: 'http://127.0.0.1:3000/', timeoutMs: 10000 });
 * await app.stop();
 */
export async function startMerchantApp(opts: {
  command: string;
  cwd: string;
  env: Record<string, string>;
  readyUrl?: string;
  timeoutMs: number;
  logFile?: string;
}): Promise<MerchantApp> {
  const child: ChildProcess = spawn(opts.command, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    shell: true,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log: WriteStream | undefined;
  if (opts.logFile) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    log = createWriteStream(opts.logFile);
  }
  let tail = '';
  const onData = (d: Buffer) => {
    log?.write(d);
    tail = (tail + d.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exit: { code: number | null; signal: string | null } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      tail += `\n${err.message}`;
      exit = { code: null, signal: null };
      resolve();
    });
  });

  const app: MerchantApp = {
    tail: () => tail.trim().split('\n').slice(-15).join('\n'),
    exited: () => exit,
    async stop() {
      if (!exit && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          child.kill('SIGTERM');
        }
        const timer = setTimeout(() => {
          try {
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }, 3000);
        await exited;
        clearTimeout(timer);
      }
      await new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));
    },
  };

  if (opts.readyUrl) {
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      if (exit) {
        await app.stop();
        throw new Error(
          `the merchant app (${opts.command}) exited before it was ready (code ${exit.code}):\n${app.tail()}`,
        );
      }
      try {
        await fetch(opts.readyUrl, { signal: AbortSignal.timeout(1000) });
        break;
      } catch {
        if (Date.now() > deadline) {
          await app.stop();
          throw new Error(
            `the merchant app (${opts.command}) did not answer ${opts.readyUrl} within ${opts.timeoutMs} ms:\n${app.tail()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  return app;
}
