import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export interface SandboxProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port>, from the banner. */
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout and stderr so far (the last 20,000 characters). */
  output(): string;
}

/**
 * Starts `node --import tsx mock-server/cli.ts serve` as a child process on a free port on
 * 127.0.0.1 and resolves once its banner says where it listens. `env` is added to the test's
 * environment (STORE, KTPAY_MOCK_CONFIG, CLEARING_DELAY_MS, …).
 *
 * @example
 * const replica = await startSandboxProcess({ STORE: url });
 * replica.child.kill('SIGKILL');
 */
export async function startSandboxProcess(env: Record<string, string>): Promise<SandboxProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'mock-server/cli.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  let output = '';
  const add = (c: Buffer) => (output = (output + c.toString('utf8')).slice(-20_000));
  child.stderr!.on('data', add);
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`sandbox did not start within 60 s:\n${output}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      add(c);
      const m = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`sandbox exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
  return { child, url, exited, output: () => output };
}
