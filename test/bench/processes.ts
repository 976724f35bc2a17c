import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

/** How to start a sandbox or helper process: argv[0] and the rest, run from `cwd`. */
export interface Launch {
  command: string;
  args: string[];
  cwd: string;
}

export interface BenchProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** ms from spawn to the first 200 from the ready probe. */
  startupMs: number;
  /** CPU time (user + system, all threads) the process had used by then; null off Linux. */
  startupCpuMs: number | null;
  /** Resident set size now, and its peak, in bytes (Linux /proc; `ps` elsewhere). */
  memory(): { rss: number; peak: number | null };
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
  stop(): Promise<void>;
  /** Everything the process wrote to stderr (kept for error messages). */
  stderr(): string;
}

/**
 * The environment every bench child starts from: only what a process needs to run. Nothing from
 * the caller's shell or test runner (KTPAY_MOCK_CONFIG, NODE_OPTIONS, VITEST, …) changes what is measured.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'SYSTEMROOT'];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

/** A TCP port that was free a moment ago (the child binds it right after). */
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

/** One GET; resolves with the status code, or rejects on a connection error. */
export function probe(url: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('probe timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** User + system CPU ms of a process so far (Linux /proc), or null. */
export function cpuMsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

function readMemory(pid: number): { rss: number; peak: number | null } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : null;
    };
    const rss = kb('VmRSS');
    if (rss !== null) return { rss, peak: kb('VmHWM') };
  } catch {
    // not Linux: fall through to ps
  }
  const out = execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  return { rss: Number(out.trim()) * 1024, peak: null };
}

/**
 * Spawns a server process with `PORT` set, polls `readyPath` every 2 ms until it answers 200,
 * and reports how long that took from the spawn call.
 *
 * @example
 * const p = await startProcess(sandboxLaunch, { env: { STORE: 'memory' }, readyPath: '/__admin/health' });
 */
export async function startProcess(
  launchOrForPort: Launch | ((port: number) => Launch),
  opts: {
    env?: Record<string, string>;
    readyPath: string;
    timeoutMs?: number;
    /**
     * Its own process group, stopped as a whole: for a launcher that starts the server as a child
     * (`npm start` runs `node …`), so the stop reaches the server too.
     */
    group?: boolean;
  },
): Promise<BenchProcess> {
  const port = await freePort();
  const launch = typeof launchOrForPort === 'function' ? launchOrForPort(port) : launchOrForPort;
  const env: NodeJS.ProcessEnv = { ...cleanEnv(), ...opts.env, PORT: String(port), HOST: '127.0.0.1' };
  const started = performance.now();
  const child = spawn(launch.command, launch.args, {
    cwd: launch.cwd,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: opts.group === true,
  });
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (opts.group && child.pid !== undefined) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  let errText = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (errText.length < 20_000) errText += d;
  });
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code) => {
      exited = code;
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = started + (opts.timeoutMs ?? 20_000);
  let startupMs: number | undefined;
  while (startupMs === undefined) {
    if (exited !== undefined)
      throw new Error(`${launch.args.join(' ')} exited (${exited}) before it was ready:\n${errText}`);
    if (performance.now() > deadline) {
      signal('SIGKILL');
      throw new Error(
        `${launch.args.join(' ')} was not ready within ${opts.timeoutMs ?? 20_000} ms:\n${errText}`,
      );
    }
    try {
      if ((await probe(url + opts.readyPath)) === 200) startupMs = performance.now() - started;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  const pid = child.pid!;
  const startupCpuMs = cpuMsOf(pid);
  return {
    url,
    port,
    pid,
    child,
    startupMs,
    startupCpuMs,
    memory: () => readMemory(pid),
    stderr: () => errText,
    async stop() {
      if (exited !== undefined) {
        if (opts.group) signal('SIGKILL'); // whatever the launcher left behind
        return;
      }
      signal('SIGTERM');
      const force = setTimeout(() => signal('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(force);
      if (opts.group) signal('SIGKILL');
    },
  };
}
