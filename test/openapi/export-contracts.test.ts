import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import sodium from 'libsodium-wrappers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog, readContractData } from '../../contracts/error-catalog.js';
import { schemas } from '../../contracts/schema-registry.js';
import { buildOpenApi } from '../../mock-server/openapi/build-openapi.js';
import { buildTestApp, postCreate } from '../helpers/sandbox.js';

const addFormats = addFormatsModule.default as unknown as typeof addFormatsModule.default.default;
const ROOT = new URL('../..', import.meta.url).pathname;
const cli = (args: string[]) =>
  execFileSync(process.execPath, ['--import', 'tsx', 'mock-server/cli.ts', ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });

/**
 * Issue 8: `ktpay-mock export contracts --out dir` writes a bundle a merchant can use on its own.
 * The checks below read only the exported files (a fresh ajv, plain libsodium), as a merchant would.
 */
describe('ktpay-mock export', () => {
  let dir: string;
  const read = (rel: string) => readFileSync(join(dir, rel), 'utf8');
  const readJson = <T = unknown>(rel: string) => JSON.parse(read(rel)) as T;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ktpay-contracts-'));
    const out = cli(['export', 'contracts', '--out', join(dir, 'bundle')]);
    expect(out).toContain('wrote');
    dir = join(dir, 'bundle');
  });
  afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('writes every JSON Schema, the OpenAPI document, the catalog, the test cards and a README', () => {
    const files = readdirSync(join(dir, 'schemas'));
    expect(files).toHaveLength(Object.keys(schemas).length);
    for (const s of Object.values(schemas))
      expect(files).toContain((s as { $id: string }).$id.split('/').pop());
    expect(readJson('error-catalog.json')).toEqual(errorCatalog);
    expect(readJson('test-cards.json')).toEqual(readContractData('test-cards.json'));
    expect(readJson('acquirer-outcomes.json')).toEqual(readContractData('acquirer-outcomes.json'));
    expect(readJson('openapi.json')).toEqual(buildOpenApi());
    expect(read('README.txt')).toContain('create-payment.sealed.txt');
  });

  it('the exported OpenAPI document validates as 3.1', async () => {
    const result = await new Validator().validate(readJson<Record<string, unknown>>('openapi.json'));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('the example opens with the exported keypair and validates against the exported create-payment schema', async () => {
    await sodium.ready;
    const keys = readJson<{ app_id: string; app_key: string; server_secret_key: string }>(
      'example/test-keypair.json',
    );
    const cipher = sodium.from_base64(
      read('example/create-payment.sealed.txt').trim(),
      sodium.base64_variants.ORIGINAL,
    );
    const opened = sodium.crypto_box_seal_open(
      cipher,
      sodium.from_base64(keys.app_key, sodium.base64_variants.ORIGINAL),
      sodium.from_base64(keys.server_secret_key, sodium.base64_variants.ORIGINAL),
    );
    const payload = JSON.parse(sodium.to_string(opened)) as unknown;
    expect(payload).toEqual(readJson('example/create-payment.json'));

    const ajv = new Ajv2020({
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
      discriminator: true,
      allErrors: true,
    });
    addFormats(ajv);
    for (const f of readdirSync(join(dir, 'schemas'))) ajv.addSchema(readJson(`schemas/${f}`) as object);
    const validate = ajv.getSchema(readJson<{ $id: string }>('schemas/create-payment-request.json').$id)!;
    expect(validate(payload), JSON.stringify(validate.errors)).toBe(true);
    // And the exported callback schema is the one the sandbox itself holds.
    expect(readJson<{ $id: string }>('schemas/callback-body.json').$id).toBe(schemas.callbackBody.$id);
  });

  it('the sealed example is a real request: the sandbox accepts it as is', async () => {
    const app = await buildTestApp();
    try {
      const res = await postCreate(app, read('example/create-payment.sealed.txt'));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ success: true, payload: { show_close_button: true } });
    } finally {
      await app.close();
    }
  });

  it('export openapi prints the same document /openapi.json serves (less the server line for itself)', () => {
    expect(JSON.parse(cli(['export', 'openapi']))).toEqual(buildOpenApi());
  });
});
