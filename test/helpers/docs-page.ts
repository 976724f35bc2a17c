import { readFileSync } from 'node:fs';
import { marked, type Token, type Tokens } from 'marked';
import { projectPath } from '../../mock-server/shared/project-root.js';

/**
 * The documentation as tests read it: `README.md` and the pages under `docs/`. Tests that keep a
 * table in step with the code (test cards, error codes, the runner's steps, the probe's flags, …)
 * find it here by page and heading, so moving a section means changing one path, not a test.
 */

/** The text of `README.md` or of a page under docs/ (`'docs/probe.md'`). */
export function readDocPage(file: string): string {
  return readFileSync(projectPath(file), 'utf8');
}

/** The plain text of inline tokens: what a reader sees, and what GitHub makes an anchor from. */
export function plainText(tokens: readonly Token[] | undefined): string {
  return (tokens ?? [])
    .map((t) => ('tokens' in t && t.tokens ? plainText(t.tokens) : 'text' in t ? String(t.text) : ''))
    .join('');
}

/**
 * One section of a page: from the heading whose text is `heading` (at any level, code spans read
 * as their text) to the next heading of the same or a higher level. Headings inside code blocks do
 * not count. Throws when the page has no such heading, so a renamed section fails the test that
 * reads it instead of passing on an empty string.
 *
 * @example
 * const section = docSection('docs/ci-and-docker.md', 'Use in CI');
 */
export function docSection(file: string, heading: string): string {
  const tokens = marked.lexer(readDocPage(file));
  const start = tokens.findIndex(
    (t) => t.type === 'heading' && plainText((t as Tokens.Heading).tokens) === heading,
  );
  if (start < 0) throw new Error(`${file} has no heading "${heading}"`);
  const depth = (tokens[start] as Tokens.Heading).depth;
  const end = tokens.findIndex(
    (t, i) => i > start && t.type === 'heading' && (t as Tokens.Heading).depth <= depth,
  );
  return tokens
    .slice(start, end < 0 ? undefined : end)
    .map((t) => t.raw)
    .join('');
}
