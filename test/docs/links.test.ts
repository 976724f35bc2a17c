import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../mock-server/shared/project-root.js';
import { brokenLinks, headingAnchors, linkTargets } from './link-check.js';

const pages = [
  'README.md',
  ...readdirSync(join(PROJECT_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('links in README.md and docs/', () => {
  it.each(pages)('%s: every relative link names a file that exists, every #anchor a heading', (page) => {
    expect(brokenLinks(PROJECT_ROOT, page)).toEqual([]);
  });

  it('every page under docs/ is reachable from the README', () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const linked = new Set(linkTargets(readme).map((href) => href.split('#')[0]));
    for (const page of pages.filter((p) => p.startsWith('docs/'))) expect(linked, page).toContain(page);
  });
});

describe('the link check itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ktpay-links-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing file, a missing anchor, an anchor on this page and an anchor into a non-Markdown file', () => {
    mkdirSync(join(dir, 'docs'));
    writeFileSync(join(dir, 'docs', 'other.md'), '# Other page\n\n## Setup (`PORT`)\n\n## Setup (`PORT`)\n');
    writeFileSync(join(dir, 'data.json'), '{}');
    writeFileSync(
      join(dir, 'docs', 'page.md'),
      [
        '# Page',
        '',
        '[ok](other.md) [ok](other.md#setup-port) [ok](other.md#setup-port-1) [ok](#page) [ok](../data.json)',
        '[ok](https://example.com/nowhere) [ok](../docs/)',
        '',
        '| a | b |',
        '|---|---|',
        '| [missing file](missing.md) | [missing anchor](other.md#nope) |',
        '',
        '- [own anchor](#not-here) ![picture](images/none.png) [json anchor](../data.json#x)',
        '',
        '```md',
        '[inside a code block](not-checked.md)',
        '```',
      ].join('\n'),
    );
    expect(brokenLinks(dir, 'docs/page.md').map((b) => [b.href, b.reason])).toEqual([
      ['missing.md', 'docs/missing.md does not exist'],
      ['other.md#nope', 'docs/other.md has no heading with the anchor #nope'],
      ['#not-here', 'docs/page.md has no heading with the anchor #not-here'],
      ['images/none.png', 'docs/images/none.png does not exist'],
      ['../data.json#x', 'an anchor into data.json, which is not a Markdown page'],
    ]);
  });

  it('makes anchors as GitHub does: code spans read as text, punctuation dropped, repeats numbered', () => {
    expect([...headingAnchors('# Persistence (`STORE=sqlite`)\n## A: b\n## A: b\n')]).toEqual([
      'persistence-storesqlite',
      'a-b',
      'a-b-1',
    ]);
  });
});
