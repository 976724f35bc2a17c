import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import GithubSlugger from 'github-slugger';
import { marked, type Tokens } from 'marked';
import { plainText } from '../helpers/docs-page.js';

/**
 * Relative links in Markdown, checked the way GitHub resolves them: a link's path is taken from
 * the file's own folder and must name a file or folder that exists; a `#anchor` must be the slug
 * of a heading in the target page (github-slugger, GitHub's own algorithm, numbering repeats as
 * `-1`, `-2`). Links with a scheme (`https:`, `mailto:`) are not followed.
 */

export interface BrokenLink {
  file: string;
  href: string;
  reason: string;
}

/** The anchors GitHub gives a page's headings, in order. */
export function headingAnchors(markdown: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  for (const t of marked.lexer(markdown)) {
    if (t.type === 'heading') anchors.add(slugger.slug(plainText((t as Tokens.Heading).tokens)));
  }
  return anchors;
}

/** Every link and image target of a page, tables and lists included. */
export function linkTargets(markdown: string): string[] {
  const hrefs: string[] = [];
  marked.walkTokens(marked.lexer(markdown), (t) => {
    if (t.type === 'link' || t.type === 'image') hrefs.push((t as Tokens.Link | Tokens.Image).href);
  });
  return hrefs;
}

/**
 * The broken relative links of `file` (a path under `root`).
 *
 * @example
 * brokenLinks(projectRoot, 'docs/probe.md'); // [] when every link resolves
 */
export function brokenLinks(root: string, file: string): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const here = resolve(root, file);
  const anchorsCache = new Map<string, Set<string>>();
  const anchorsOf = (path: string) => {
    if (!anchorsCache.has(path)) anchorsCache.set(path, headingAnchors(readFileSync(path, 'utf8')));
    return anchorsCache.get(path)!;
  };
  for (const href of linkTargets(readFileSync(here, 'utf8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
    const [pathPart = '', anchor] = href.split('#', 2) as [string, string | undefined];
    const target = pathPart === '' ? here : resolve(dirname(here), decodeURI(pathPart));
    const shown = relative(root, target) || '.';
    if (!target.startsWith(resolve(root))) {
      broken.push({ file, href, reason: `points outside the repository (${shown})` });
      continue;
    }
    if (!existsSync(target)) {
      broken.push({ file, href, reason: `${shown} does not exist` });
      continue;
    }
    if (anchor === undefined) continue;
    if (!target.endsWith('.md') || statSync(target).isDirectory()) {
      broken.push({ file, href, reason: `an anchor into ${shown}, which is not a Markdown page` });
    } else if (!anchorsOf(target).has(anchor)) {
      broken.push({ file, href, reason: `${shown} has no heading with the anchor #${anchor}` });
    }
  }
  return broken;
}
