import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const CLI = ['--import', 'tsx', 'mock-server/cli.ts'];
const run = (args: string[], input?: string) =>
  execFileSync(process.execPath, [...CLI, ...args], {
    input,
    encoding: 'utf8',
    cwd: new URL('../..', import.meta.url).pathname,
  });

describe('ktpay-mock CLI', () => {
  it('keygen prints a box keypair as base64', () => {
    const kp = JSON.parse(run(['keygen']));
    expect(Buffer.from(kp.public_key, 'base64')).toHaveLength(32);
    expect(Buffer.from(kp.secret_key, 'base64')).toHaveLength(32);
  });

  it('seal (default app_key) and open (default secret key) round-trip', () => {
    const json = '{"order":{"amount":1000,"order_id":"cli-1"}}';
    const body = run(['seal'], json).trim();
    expect(body).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(run(['open'], body).trim()).toBe(json);
  });

  it('seal with another app_key cannot be opened with the default key', () => {
    const kp = JSON.parse(run(['keygen']));
    const body = run(['seal', '-k', kp.public_key], '{}').trim();
    expect(() => run(['open'], body)).toThrow(/does not open/);
    expect(run(['open', '-s', kp.secret_key], body).trim()).toBe('{}');
  });

  it('serve refuses a bad config with a message naming the field and exit code 2', async () => {
    const child = spawn(process.execPath, [...CLI, 'serve'], {
      env: { ...process.env, PORT: 'eighty' },
      cwd: new URL('../..', import.meta.url).pathname,
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('port must be integer (from environment variable PORT)');
  });
});
