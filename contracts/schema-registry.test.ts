import { Ajv2020 } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCompiledValidators } from './compile-validators.js';
import { packagePath } from './package-root.js';
import {
  compiledValidatorLoader,
  createSchemaRegistry,
  schemas,
  type SchemaName,
} from './schema-registry.js';

const addFormats = addFormatsModule.default as unknown as typeof addFormatsModule.default.default;

describe('schema registry', () => {
  // The runtime registry skips meta-schema validation for startup time; this is where it happens.
  it('every schema is valid against the JSON Schema 2020-12 meta-schema', () => {
    const ajv = new Ajv2020({
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
      discriminator: true,
      validateSchema: true,
    });
    addFormats(ajv);
    const invalid: string[] = [];
    for (const [name, schema] of Object.entries(schemas)) {
      if (!ajv.validateSchema(schema as object)) invalid.push(`${name}: ${ajv.errorsText(ajv.errors)}`);
    }
    expect(invalid).toEqual([]);
  });

  it('the meta-schema check catches a malformed schema (the test above can fail)', () => {
    const ajv = new Ajv2020({ strict: true, validateSchema: true });
    expect(ajv.validateSchema({ type: 'object', properties: { a: { type: 'strng' } } })).toBe(false);
    expect(ajv.validateSchema({ type: 'object', required: 'a' })).toBe(false);
  });

  it('every schema compiles in strict mode in the runtime registry', () => {
    const registry = createSchemaRegistry({ compiled: false });
    expect(registry.precompiled).toBe(false);
    for (const name of Object.keys(schemas) as SchemaName[]) {
      expect(typeof registry.validator(name), name).toBe('function');
    }
  });

  describe('validators precompiled by the build', () => {
    // Inside the package, so the generated files resolve ajv's runtime helpers from node_modules.
    mkdirSync(packagePath('test-artifacts'), { recursive: true });
    const dir = mkdtempSync(packagePath('test-artifacts', 'validators-'));
    const count = writeCompiledValidators(dir);
    const load = compiledValidatorLoader(dir);
    const runtime = createSchemaRegistry({ compiled: false });

    it('cover every schema', () => {
      expect(count).toBe(Object.keys(schemas).length);
      expect(load).toBeTypeOf('function');
      for (const name of Object.keys(schemas) as SchemaName[])
        expect(load!(name), name).toBeTypeOf('function');
    });

    it('give the same verdicts and the same errors as validators compiled at run time', () => {
      const samples: unknown[] = [
        null,
        1,
        'x',
        [],
        {},
        { order: {} },
        { order: { amount: -1, order_id: '' }, extra: true },
        { order: { amount: 1500, order_id: 'A-1', callback_post_url: 'notaurl', type: 'nope' } },
        { order: { amount: 1500, order_id: 'A-1', description: 'Заказ' } },
        { app_id: 'shop', domains: ['shop.kz'], envelope: 'widget' },
        { name: 'x', steps: [{ step: 'create' }] },
      ];
      for (const name of Object.keys(schemas) as SchemaName[]) {
        const pre = load!(name)!;
        const run = runtime.validator(name);
        for (const sample of samples) {
          const verdict = run(structuredClone(sample));
          expect(pre(structuredClone(sample)), `${name} ${JSON.stringify(sample)}`).toBe(verdict);
          expect(pre.errors ?? null, `${name} ${JSON.stringify(sample)}`).toEqual(run.errors ?? null);
        }
      }
    });

    it('are ignored once a schema differs from the one they were compiled from', () => {
      const index = join(dir, 'index.json');
      const original = readFileSync(index, 'utf8');
      writeFileSync(index, original.replace(/"fingerprint": "[0-9a-f]+"/, '"fingerprint": "stale"'));
      try {
        expect(compiledValidatorLoader(dir)).toBeUndefined();
      } finally {
        writeFileSync(index, original);
      }
      expect(compiledValidatorLoader(dir)).toBeTypeOf('function');
      expect(compiledValidatorLoader(join(dir, 'missing'))).toBeUndefined();
      rmSync(dir, { recursive: true, force: true });
    });
  });
});
