import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectPath } from '../../mock-server/shared/project-root.js';
import { parseJavaVersion, writeStubs } from './peers.js';
import { startProcess } from './processes.js';

/*
 * The parts of `npm run bench -- --peers` that need neither the peers nor the network: reading
 * `java -version`, the stubs each peer is given, and the bare server measured beside them. The peers
 * themselves are measured only by the bench (it installs them with npm), never by the test suite.
 */

const dir = mkdtempSync(join(tmpdir(), 'ktpay-peer-stubs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench peers', () => {
  it('reads the Java major version from `java -version`, old and new numbering', () => {
    expect(parseJavaVersion('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment')).toBe(17);
    expect(parseJavaVersion('openjdk version "21" 2023-09-19')).toBe(21);
    expect(parseJavaVersion('java version "1.8.0_392"')).toBe(8);
    expect(parseJavaVersion('command not found')).toBeUndefined();
  });

  it('stubs the status GET for any 40-hex hash with the sandbox body, in both peers', () => {
    const body = JSON.stringify({
      success: true,
      payload: { transaction_hash: 'a'.repeat(40), status: 'pending' },
    });
    const prefix = '/api/v1/merchant-widget/payment/';
    const { wiremockRoot, prismSpec } = writeStubs(dir, { prefix, body });

    const mapping = JSON.parse(readFileSync(join(wiremockRoot, 'mappings', 'status-get.json'), 'utf8')) as {
      request: { method: string; urlPathPattern: string };
      response: { status: number; headers: Record<string, string>; body: string };
    };
    expect(mapping.request.method).toBe('GET');
    const pattern = new RegExp(`^${mapping.request.urlPathPattern}$`);
    expect(pattern.test(`${prefix}${'0f'.repeat(20)}`)).toBe(true);
    expect(pattern.test(`${prefix}${'0f'.repeat(19)}`)).toBe(false);
    expect(pattern.test(`/api/v1/merchant-widgetXpayment/${'0'.repeat(40)}`)).toBe(false);
    expect(mapping.response).toEqual({ status: 200, headers: { 'Content-Type': 'application/json' }, body });

    const spec = JSON.parse(readFileSync(prismSpec, 'utf8')) as {
      openapi: string;
      paths: Record<
        string,
        { get: { responses: Record<string, { content: Record<string, { example: unknown }> }> } }
      >;
    };
    expect(spec.openapi).toMatch(/^3\./);
    const op = spec.paths[`${prefix}{hash}`]!.get;
    expect(op.responses['200']!.content['application/json']!.example).toEqual(JSON.parse(body));
  });
});

describe('the ceiling beside the peers (canned-status-server.ts)', () => {
  it('answers a GET under the prefix with the canned body, and 404 elsewhere', async () => {
    const body = JSON.stringify({ success: true, payload: { status: 'pending' } });
    const prefix = '/api/v1/merchant-widget/payment/';
    const p = await startProcess(
      {
        command: process.execPath,
        args: ['--import', 'tsx', projectPath('test', 'bench', 'canned-status-server.ts')],
        cwd: projectPath(),
      },
      { env: { CANNED_PREFIX: prefix, CANNED_BODY: body }, readyPath: `${prefix}${'0'.repeat(40)}` },
    );
    try {
      const hit = await fetch(`${p.url}${prefix}${'ab'.repeat(20)}`);
      expect(hit.status).toBe(200);
      expect(hit.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await hit.text()).toBe(body);
      expect((await fetch(`${p.url}/__admin/health`)).status).toBe(404);
      expect((await fetch(`${p.url}${prefix}x`, { method: 'POST' })).status).toBe(404);
    } finally {
      await p.stop();
    }
  });
});
