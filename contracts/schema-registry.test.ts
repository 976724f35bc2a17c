import { Ajv2020 } from 'ajv/dist/2020.js';
import * as addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { createSchemaRegistry, schemas, type SchemaName } from './schema-registry.js';

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
    const registry = createSchemaRegistry();
    for (const name of Object.keys(schemas) as SchemaName[]) {
      expect(typeof registry.validator(name), name).toBe('function');
    }
  });
});
