import { describe, expect, it } from 'vitest';
import { banner } from '../../mock-server/server.js';
import { docSection, readDocPage } from '../helpers/docs-page.js';
import { testConfig } from '../helpers/sandbox.js';

describe('the dashboard and the docs are easy to find (issue 8)', () => {
  it('the startup banner links the dashboard, /docs and /openapi.json', () => {
    const text = banner(testConfig(), 'http://127.0.0.1:8077');
    expect(text).toContain('http://127.0.0.1:8077/__admin/ui');
    expect(text).toContain('http://127.0.0.1:8077/docs');
    expect(text).toContain('http://127.0.0.1:8077/openapi.json');
    expect(banner(testConfig({ admin_token: 't' }), 'http://127.0.0.1:8077')).toContain('?token=');
  });

  it('the docs have pages for the dashboard, the API docs and the export command, and the README links them', () => {
    expect(docSection('docs/dashboard.md', 'Dashboard')).toContain('/__admin/ui');
    const apiDocs = docSection('docs/merchant-api.md', 'API docs and the contract bundle');
    expect(apiDocs).toContain('ktpay-mock export contracts --out');
    expect(apiDocs).toContain('ktpay-mock export openapi');
    const readme = readDocPage('README.md');
    expect(readme).toContain('http://127.0.0.1:8077/__admin/ui');
    expect(readme).toContain('(docs/dashboard.md)');
    expect(readme).toContain('http://127.0.0.1:8077/docs');
  });
});
