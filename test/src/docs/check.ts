// The docs checks as plain functions over a repository root, so the test can run them on the real docs and
// on small fixtures that must fail.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { entryFor, type CommandEntry } from './commands.js';
import { isRelativeLink, markdownFacts, type MarkdownFacts } from './markdown.js';

/** README.md and every Markdown file under docs/, repository-relative. */
export function docFiles(root: string): string[] {
  const out = existsSync(path.join(root, 'README.md')) ? ['README.md'] : [];
  const walk = (dir: string): void => {
    if (!existsSync(path.join(root, dir))) return;
    for (const name of readdirSync(path.join(root, dir)).sort()) {
      const rel = path.posix.join(dir, name);
      if (statSync(path.join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  return out;
}

function factsReader(root: string): (rel: string) => MarkdownFacts {
  const cache = new Map<string, MarkdownFacts>();
  return (rel) => {
    let f = cache.get(rel);
    if (!f) {
      f = markdownFacts(readFileSync(path.join(root, rel), 'utf8'));
      cache.set(rel, f);
    }
    return f;
  };
}

/** One line per relative link in `files` whose file or `#anchor` does not exist. */
export function brokenLinks(root: string, files: string[]): string[] {
  const facts = factsReader(root);
  const problems: string[] = [];
  for (const file of files) {
    for (const href of facts(file).links.filter(isRelativeLink)) {
      const hash = href.indexOf('#');
      const target = decodeURI(hash < 0 ? href : href.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(href.slice(hash + 1));
      const resolved = target === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
      if (resolved.startsWith('..') || path.isAbsolute(resolved)) {
        problems.push(`${file}: ${href} points outside the repository`);
        continue;
      }
      const abs = path.join(root, resolved);
      if (!existsSync(abs)) {
        problems.push(`${file}: ${href} → ${resolved} does not exist`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!resolved.endsWith('.md') || statSync(abs).isDirectory()) {
        problems.push(`${file}: ${href} names an anchor in a file that is not Markdown`);
      } else if (!facts(resolved).anchors.has(anchor)) {
        problems.push(`${file}: ${href} → no heading or anchor "#${anchor}" in ${resolved}`);
      }
    }
  }
  return problems;
}

/** One line per repository path named in inline code that does not exist (a file moved or renamed). */
export function missingPaths(root: string, files: string[]): string[] {
  const facts = factsReader(root);
  return files.flatMap((file) =>
    [...new Set(facts(file).paths)].filter((p) => !existsSync(path.join(root, p))).map((p) => `${file}: \`${p}\` does not exist`),
  );
}

/** One line per json or yaml code block that does not parse (a config a reader pastes must be valid). */
export function unparsableBlocks(root: string, files: string[]): string[] {
  const facts = factsReader(root);
  const problems: string[] = [];
  for (const file of files) {
    for (const block of facts(file).data) {
      try {
        if (block.lang === 'json') JSON.parse(block.text);
        else parseYaml(block.text);
      } catch (e) {
        problems.push(`${file}: a ${block.lang} block does not parse (${(e as Error).message.split('\n')[0]}): ${block.text.slice(0, 60)}`);
      }
    }
  }
  return problems;
}

/**
 * One line per shell command in `files` that no entry lists, per entry whose proof does not hold (its file
 * missing or not containing the literal, or neither a test nor a reason given), and per entry no doc shows.
 */
export function commandProblems(root: string, files: string[], entries: CommandEntry[]): string[] {
  const facts = factsReader(root);
  const problems: string[] = [];
  const used = new Set<CommandEntry>();
  for (const file of files) {
    for (const command of facts(file).commands) {
      const entry = entryFor(command, entries);
      if (entry) used.add(entry);
      else problems.push(`${file}: \`${command}\` is neither run by the suite nor listed as not runnable (test/src/docs/commands.ts)`);
    }
  }
  for (const entry of entries) {
    const name = String(entry.command);
    if (Boolean(entry.ranBy) === Boolean(entry.notRunnable)) {
      problems.push(`${name}: give exactly one of ranBy or notRunnable`);
    }
    if (entry.ranBy) {
      const abs = path.join(root, entry.ranBy.file);
      if (!existsSync(abs)) problems.push(`${name}: ${entry.ranBy.file} does not exist`);
      else if (!readFileSync(abs, 'utf8').includes(entry.ranBy.contains)) {
        problems.push(`${name}: ${entry.ranBy.file} does not contain ${JSON.stringify(entry.ranBy.contains)}`);
      }
    }
    if (!used.has(entry)) problems.push(`${name}: no doc shows this command any more; remove the entry`);
  }
  return problems;
}
