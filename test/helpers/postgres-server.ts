import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where PostgreSQL's server binaries are: PG_BIN, else the newest Debian `postgresql-<n>` install. */
export function findPostgresBin(): string | undefined {
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  if (process.env.PG_BIN) return has(process.env.PG_BIN) ? process.env.PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (has(join(root, v, 'bin'))) return join(root, v, 'bin');
  return undefined;
}

/** The runtime line foreignRuntime() prints when no server binaries are found. */
export const POSTGRES_RUNTIME =
  'PostgreSQL server binaries (apt-get install postgresql, or PG_BIN=<dir with initdb and postgres>)';

export interface PostgresServer {
  /** postgres://ktpay@127.0.0.1:<port>/postgres (trust authentication, only on 127.0.0.1). */
  url: string;
  port: number;
  pid: number;
  /** A URL for a fresh, empty database of its own on this server. */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown, then the data directory is removed. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/**
 * Starts a real, throwaway PostgreSQL server: `initdb` into a temp directory, `postgres` on a free
 * port on 127.0.0.1, removed again by `stop()`. Run as root (as on CI), the server runs as the
 * `postgres` system user, because initdb refuses root. Durability is switched off (fsync,
 * synchronous_commit): nothing here outlives the test, and the suites stay fast on a shared box.
 *
 * @example
 * const pg = await startPostgres();
 * const url = await pg.createDatabase('contract_1');
 * await pg.stop();
 */
export async function startPostgres(
  opts: { bin?: string; durable?: boolean; settings?: Record<string, string> } = {},
): Promise<PostgresServer> {
  const bin = opts.bin ?? findPostgresBin();
  if (!bin) throw new Error(`no PostgreSQL server binaries: ${POSTGRES_RUNTIME}`);
  const asRoot = process.getuid?.() === 0;
  let ids: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root needs a `postgres` system user');
    ids = { uid, gid };
  }
  const dir = mkdtempSync(join(tmpdir(), 'ktpay-pg-'));
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const data = join(dir, 'data');
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'ktpay', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'],
    { encoding: 'utf8', ...(ids ?? {}) },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  }
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    max_connections: '200',
    ...(opts.durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...opts.settings,
  };
  const args = ['-D', data, '-p', String(port)];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  const child: ChildProcess = spawn(join(bin, 'postgres'), args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(ids ?? {}),
  });
  let log = '';
  child.stderr?.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `postgres://ktpay@127.0.0.1:${port}/postgres`;
  const ready = join(bin, 'pg_isready');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = spawnSync(ready, ['-h', '127.0.0.1', '-p', String(port), '-U', 'ktpay', '-d', 'postgres'], {
      stdio: 'ignore',
    });
    if (r.status === 0) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`PostgreSQL did not start on port ${port}: ${log}`);
    }
    await new Promise((r2) => setTimeout(r2, 50));
  }
  const psql = join(bin, 'psql');
  return {
    url,
    port,
    pid: child.pid!,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name))
        throw new Error(`database name ${name}: lowercase letters, digits, _`);
      const r = spawnSync(
        existsSync(psql) ? psql : 'psql',
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          'ktpay',
          '-d',
          'postgres',
          '-c',
          `CREATE DATABASE ${name}`,
        ],
        { encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`CREATE DATABASE ${name}: ${r.stderr}`);
      return `postgres://ktpay@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT'); // fast shutdown: disconnect clients, stop
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
