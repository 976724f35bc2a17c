import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cryptoReady, openSealed, sealToBase64 } from '../../mock-server/crypto/sealed-box.js';
import { DEFAULT_MERCHANT } from '../../mock-server/merchants/default-merchant.js';

const CLI = ['--import', 'tsx', 'mock-server/cli.ts'];
const ROOT = new URL('../..', import.meta.url).pathname;
const run = (args: string[], input?: string) =>
  execFileSync(process.execPath, [...CLI, ...args], { input, encoding: 'utf8', cwd: ROOT });

describe('ktpay-mock CLI', () => {
  it('keygen prints a box keypair as base64', () => {
    const kp = JSON.parse(run(['keygen']));
    expect(Buffer.from(kp.public_key, 'base64')).toHaveLength(32);
    expect(Buffer.from(kp.secret_key, 'base64')).toHaveLength(32);
  });

  it('seal (default app_key) and open (default secret key) round-trip', () => {
    const json = '{"order":{"amount":1000,"order_id":"cli-1"}}';
    // Into a pipe (or a file) exactly the body: no newline for curl --data-binary @body.txt to send.
    const body = run(['seal'], json);
    expect(body).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(run(['open'], body).trim()).toBe(json);
  });

  it('seal with several files prints one body a line, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktpay-seal-'));
    try {
      const files = ['{"n":1}', '{"n":2}', '{"n":3}'].map((json, i) => {
        const file = join(dir, `${i}.json`);
        writeFileSync(file, json);
        return file;
      });
      const lines = run(['seal', ...files]).split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[3]).toBe('');
      await cryptoReady();
      const keys = { publicKey: DEFAULT_MERCHANT.app_key, secretKey: DEFAULT_MERCHANT.server_secret_key };
      const opened = lines
        .slice(0, 3)
        .map((b) => Buffer.from(openSealed(Buffer.from(b, 'base64'), keys)!).toString());
      expect(opened).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('open reads a wrapped body with a warning, and names what is wrong with an unpadded one', async () => {
    await cryptoReady();
    // 7 bytes of JSON and 48 of the sealed box: base64 with == padding.
    const body = sealToBase64('{"n":1}', DEFAULT_MERCHANT.app_key);
    const wrapped = spawnSync(process.execPath, [...CLI, 'open'], {
      input: `${body.match(/.{1,20}/g)!.join('\r\n')}\n`,
      encoding: 'utf8',
      cwd: ROOT,
    });
    expect(wrapped.stdout.trim()).toBe('{"n":1}');
    expect(wrapped.stderr).toContain('wrapped into lines of 20 characters with CRLF line ends');
    const unpadded = spawnSync(process.execPath, [...CLI, 'open'], {
      input: body.replace(/=+$/, ''),
      encoding: 'utf8',
      cwd: ROOT,
    });
    expect(unpadded.status).toBe(2);
    expect(unpadded.stderr).toContain('the base64 has no = padding');
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
