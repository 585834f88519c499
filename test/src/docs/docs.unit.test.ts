// The README and docs/ as a reader meets them: every relative link opens (file and #anchor), every shell
// command shown is either run by the suite or marked as not runnable here with the reason, and the README
// keeps the two commands CI and newcomers rely on.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../stack/env.js';
import { brokenLinks, commandProblems, docFiles, missingPaths, unparsableBlocks } from './check.js';
import { COMMANDS, type CommandEntry } from './commands.js';
import { markdownFacts, repoPaths, shellCommands } from './markdown.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');


describe('README.md and docs/', () => {
  const files = docFiles(repoRoot);

  it('covers the README and the docs directory', () => {
    expect(files[0]).toBe('README.md');
    expect(files).toContain('docs/architecture.md');
    expect(files).toContain('docs/CONTRIBUTING.md');
  });

  it('has no relative link to a missing file or anchor', () => {
    expect(brokenLinks(repoRoot, files)).toEqual([]);
  });

  it('shows json and yaml a reader pastes (client configs, values) that parse', () => {
    expect(unparsableBlocks(repoRoot, files)).toEqual([]);
  });

  it('names only repository paths that exist', () => {
    expect(missingPaths(repoRoot, files)).toEqual([]);
  });

  it('shows only commands the suite runs or that are listed as not runnable, with the reason', () => {
    expect(commandProblems(repoRoot, files, COMMANDS)).toEqual([]);
  });

  it('keeps the README commands CI and a newcomer run, literally', () => {
    // .ci/run runs the README's test command; the first-contact path is the start command.
    expect(readme).toContain('npm ci && npm test');
    expect(readme).toContain('npm ci && npm start');
    expect(markdownFacts(readme).commands).toEqual(expect.arrayContaining(['npm ci && npm test', 'npm ci && npm start']));
  });

  it('lists the toolchains and every package .ci/run installs as what the tests need', () => {
    const ci = readFileSync(path.join(repoRoot, '.ci/run'), 'utf8');
    const contributing = readFileSync(path.join(repoRoot, 'docs/CONTRIBUTING.md'), 'utf8');
    const packages = [...ci.matchAll(/need\+=\(([\w.-]+)\)/g)].map((m) => m[1]!);
    expect(packages).toEqual(expect.arrayContaining(['redis-server', 'chromium', 'maven']));
    for (const pkg of packages) expect(contributing, pkg).toMatch(new RegExp(`\`${pkg}\``));
    // The versions .ci/run refuses to go below are the ones the docs name.
    expect(ci).toMatch(/java_major\)" -ge 17/);
    expect(ci).toMatch(/go_minor\)" -ge 24/);
    expect(ci).toContain('a===20&&b>=19');
    for (const text of [contributing, readme]) expect(text).toMatch(/Node\.js 20\.19\+[\s\S]*Go 1\.24\+[\s\S]*Java 17\+/);
  });

  it('keeps the README short and free of team markers and placeholders', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(250);
    for (const file of files) {
      const text = readFileSync(path.join(repoRoot, file), 'utf8');
      expect(text, file).not.toMatch(/<!-- \/?section:/);
      expect(text, file).not.toMatch(/to be written/i);
      expect(text, file).not.toMatch(/written by the part of the team/i);
    }
  });
});

describe('the checks themselves', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  function fixture(docs: Record<string, string>): string {
    dir = mkdtempSync(path.join(tmpdir(), 'kmg-docs-'));
    for (const [rel, text] of Object.entries(docs)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    return dir;
  }

  it('finds links in paragraphs, lists, tables and HTML, and anchors from headings with code in them', () => {
    const facts = markdownFacts(
      '# Quick start: `npm start`\n\nSee [a](docs/a.md).\n\n- [b](b.md#x)\n\n| t |\n| --- |\n| [c](c.md) |\n\n<a href="d.md">d</a> <a id="here"></a>\n',
    );
    expect(facts.links).toEqual(['docs/a.md', 'b.md#x', 'c.md', 'd.md']);
    expect([...facts.anchors]).toEqual(['quick-start-npm-start', 'here']);
  });

  it('reads commands from shell blocks only, without comments or prompts, joining continuations', () => {
    const facts = markdownFacts('```sh\n# a comment\n$ npm run bench   # all\nhelm upgrade \\\n  --install x\n```\n\n```json\n{"a": 1}\n```\n');
    expect(facts.commands).toEqual(['npm run bench', 'helm upgrade --install x']);
    expect(shellCommands("echo 'a # b' # c")).toEqual(["echo 'a # b'"]);
  });

  it('reports a missing file, a missing anchor and a link out of the repository', () => {
    const root = fixture({
      'README.md': '# Top\n\n[ok](docs/x.md#part-two) [self](#top) [gone](docs/none.md) [bad](docs/x.md#nope) [out](../x.md)\n',
      'docs/x.md': '# X\n\n## Part two\n',
    });
    const problems = brokenLinks(root, docFiles(root));
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/docs\/none\.md does not exist/);
    expect(problems.join('\n')).toMatch(/no heading or anchor "#nope"/);
    expect(problems.join('\n')).toMatch(/outside the repository/);
  });

  it('reports a repository path in inline code that does not exist, ignoring build output and placeholders', () => {
    expect(repoPaths('gateway/src/app.ts, worker/dist/main.js helm/{chart} docs/')).toEqual(['gateway/src/app.ts', 'docs/']);
    const root = fixture({ 'README.md': 'See `docs/x.md` and `gateway/gone.ts`.\n', 'docs/x.md': '# X\n' });
    expect(missingPaths(root, docFiles(root))).toEqual(['README.md: `gateway/gone.ts` does not exist']);
  });

  it('reports a json or yaml block that does not parse', () => {
    const root = fixture({ 'README.md': '```json\n{ "servers": { } }\n```\n\n```json\n{ "a": 1, }\n```\n\n```yaml\na: [1\n```\n' });
    const problems = unparsableBlocks(root, docFiles(root));
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/a json block does not parse[\s\S]*a yaml block does not parse/);
  });

  it('reports a new command, a proof that does not hold and an entry nothing shows', () => {
    const root = fixture({ 'README.md': '```sh\nnpm start\nrm -rf /tmp/x\n```\n', 'ci.sh': 'npm start\n' });
    const entries: CommandEntry[] = [
      { command: 'npm start', ranBy: { file: 'ci.sh', contains: 'npm start' } },
      { command: 'npm test', ranBy: { file: 'missing.sh', contains: 'npm test' } },
    ];
    const problems = commandProblems(root, docFiles(root), entries).join('\n');
    expect(problems).toMatch(/`rm -rf \/tmp\/x` is neither run by the suite nor listed/);
    expect(problems).toMatch(/missing\.sh does not exist/);
    expect(problems).toMatch(/npm test: no doc shows this command/);
    expect(problems).not.toMatch(/npm start/);
  });
});
