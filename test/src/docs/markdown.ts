// Reads what the docs test checks out of a Markdown file: its links, the anchors its headings make, and the
// commands in its shell code blocks. marked does the parsing and github-slugger makes anchors the way GitHub
// renders them, so the test agrees with what a reader clicks.
import GithubSlugger from 'github-slugger';
import { Lexer, type Token, type Tokens } from 'marked';

export interface MarkdownFacts {
  /** Every link and image target, as written. */
  links: string[];
  /** Anchors a `#fragment` may name: heading slugs plus explicit `id`/`name` attributes. */
  anchors: Set<string>;
  /** One entry per command line in `sh`/`bash`/`shell`/`console` code blocks (continuations joined). */
  commands: string[];
  /** Repository paths named in inline code (`gateway/src/…`, `helm/…`), which must exist. */
  paths: string[];
  /** Code blocks in a data language (json, yaml), which must parse. */
  data: Array<{ lang: 'json' | 'yaml'; text: string }>;
}

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);
const HTML_TARGET = /\b(?:href|src)\s*=\s*"([^"]*)"/g;
const HTML_ANCHOR = /\b(?:id|name)\s*=\s*"([^"]+)"/g;
// A word in inline code that names a file or directory of this repository. Build output (dist/) is left
// out: it exists only after `tsc -b`. Placeholders ({org}, <pool>) and globs do not match.
const REPO_PATH = /^(?:\.ci|bench|deploy|docs|gateway|helm|shared|test|worker)\/[A-Za-z0-9_./-]*$/;

/** The repository paths in one inline code span. */
export function repoPaths(code: string): string[] {
  return code
    .split(/\s+/)
    .map((w) => w.replace(/^[("'`]+|[)"'`,.:;]+$/g, ''))
    .filter((w) => REPO_PATH.test(w) && !w.includes('/dist/') && !w.includes('..'));
}

/** Visible text of inline tokens (what GitHub slugs a heading from). */
function plainText(tokens: Token[] | undefined): string {
  return (tokens ?? [])
    .map((t) => {
      if ('tokens' in t && Array.isArray(t.tokens) && t.tokens.length > 0 && t.type !== 'codespan') return plainText(t.tokens);
      if (t.type === 'html') return '';
      return 'text' in t && typeof t.text === 'string' ? t.text : '';
    })
    .join('');
}

/** Drops a trailing ` # comment` outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}

/** The commands of one shell code block: comments and prompts removed, `\` continuations joined. */
export function shellCommands(code: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const raw of code.split('\n')) {
    let line = stripComment(raw).trim().replace(/^\$\s+/, '');
    const continued = line.endsWith('\\');
    if (continued) line = line.slice(0, -1).trim();
    pending = pending ? `${pending} ${line}` : line;
    if (continued) continue;
    if (pending) out.push(pending.replace(/\s+/g, ' '));
    pending = '';
  }
  if (pending) out.push(pending.replace(/\s+/g, ' '));
  return out;
}

export function markdownFacts(source: string): MarkdownFacts {
  const tokens = new Lexer({ gfm: true }).lex(source);
  const slugger = new GithubSlugger();
  const facts: MarkdownFacts = { links: [], anchors: new Set(), commands: [], paths: [], data: [] };
  const visit = (list: Token[] | undefined): void => {
    for (const t of list ?? []) {
      switch (t.type) {
        case 'heading':
          facts.anchors.add(slugger.slug(plainText((t as Tokens.Heading).tokens)));
          break;
        case 'link':
        case 'image':
          facts.links.push((t as Tokens.Link | Tokens.Image).href);
          break;
        case 'html':
          for (const m of t.raw.matchAll(HTML_TARGET)) facts.links.push(m[1]!);
          for (const m of t.raw.matchAll(HTML_ANCHOR)) facts.anchors.add(m[1]!);
          break;
        case 'codespan':
          facts.paths.push(...repoPaths((t as Tokens.Codespan).text));
          break;
        case 'code': {
          const code = t as Tokens.Code;
          const lang = (code.lang ?? '').trim().split(/\s+/)[0]!;
          if (SHELL_LANGS.has(lang)) facts.commands.push(...shellCommands(code.text));
          if (lang === 'json') facts.data.push({ lang: 'json', text: code.text });
          if (lang === 'yaml' || lang === 'yml') facts.data.push({ lang: 'yaml', text: code.text });
          break;
        }
      }
      // Descend into containers (paragraphs, lists, tables, blockquotes, inline runs).
      if ('tokens' in t && Array.isArray(t.tokens)) visit(t.tokens);
      if (t.type === 'list') for (const item of (t as Tokens.List).items) visit(item.tokens);
      if (t.type === 'table') {
        const table = t as Tokens.Table;
        for (const cell of [...table.header, ...table.rows.flat()]) visit(cell.tokens);
      }
    }
  };
  visit(tokens);
  return facts;
}

/** A link that points inside the repository (not a URL with a scheme, not protocol-relative). */
export function isRelativeLink(href: string): boolean {
  return href !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(href) && !href.startsWith('//');
}
