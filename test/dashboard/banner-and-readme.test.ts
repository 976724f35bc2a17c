import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { banner } from '../../mock-server/server.js';
import { testConfig } from '../helpers/sandbox.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the dashboard and the docs are easy to find (issue 8)', () => {
  it('the startup banner links the dashboard, /docs and /openapi.json', () => {
    const text = banner(testConfig(), 'http://127.0.0.1:8077');
    expect(text).toContain('http://127.0.0.1:8077/__admin/ui');
    expect(text).toContain('http://127.0.0.1:8077/docs');
    expect(text).toContain('http://127.0.0.1:8077/openapi.json');
    expect(banner(testConfig({ admin_token: 't' }), 'http://127.0.0.1:8077')).toContain('?token=');
  });

  it('the README has sections for the dashboard, the API docs and the export command', () => {
    expect(readme).toContain('## Dashboard');
    expect(readme).toContain('## API docs and the contract bundle');
    expect(readme).toContain('ktpay-mock export contracts --out');
    expect(readme).toContain('ktpay-mock export openapi');
    expect(readme).toContain('/__admin/ui');
  });
});
