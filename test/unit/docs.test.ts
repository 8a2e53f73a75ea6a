// The README is the front door and docs/ the rest: every relative link and anchor in them resolves.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const slugOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replace(/ /g, '-');

/** The markdown of a page outside its code blocks (a link shown in code is not a link). */
function prose(markdown: string): string {
  return markdown.split(/^```.*$/m).filter((_, i) => i % 2 === 0).join('\n');
}

const anchorsOf = (page: string) => new Set([...prose(readFileSync(join(root, page), 'utf8')).matchAll(/^#{1,6} (.+)$/gm)].map((match) => slugOf(match[1]!)));

describe('the documentation', () => {
  it('when the README is read, then it fits on a screen or two (at most 200 lines) and links to every page of docs/', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(200);
    for (const page of pages.filter((name) => name.startsWith('docs/'))) expect({ page, linked: readme.includes(`](${page})`) }).toEqual({ page, linked: true });
  });

  it.each(pages)('when %s is read, then every relative link names a file that exists, and every anchor a heading of it', (page) => {
    const broken: string[] = [];
    for (const [, target] of prose(readFileSync(join(root, page), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:)/.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const file = path === '' ? page : join(dirname(page), path);
      if (!existsSync(join(root, file))) broken.push(`${target}: no file ${file}`);
      else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(file).has(anchor)) broken.push(`${target}: no heading #${anchor} in ${file}`);
    }
    expect(broken).toEqual([]);
  });
});
