// `npm run bench [-- section...]`: reuses the running stack (or brings it up), runs every section in
// sections/ (or the named ones), prints one table and writes bench/results.md with machine and versions.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheRoot } from '../stack/component.js';
import { loadStackEnv, readStackEnvRaw, repoRoot } from '../stack/env.js';
import { isHealthy, up } from '../stack/stack.js';
import type { BenchResult, BenchRow, BenchSection } from './section.js';

const report = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function fmt(v: number | string | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function withRatio(row: BenchRow): BenchRow {
  if (row.ratio === undefined && typeof row.ours === 'number' && typeof row.baseline === 'number' && row.baseline !== 0) {
    return { ...row, ratio: row.ours / row.baseline };
  }
  return row;
}

function table(rows: Array<BenchRow & { section: string }>): string {
  const header = ['section', 'metric', 'ours', 'baseline', 'unit', 'ratio', 'target', 'met'];
  const body = rows.map((r) => [
    r.section,
    r.metric,
    fmt(r.ours),
    r.baseline === undefined ? '' : `${fmt(r.baseline)}${r.baselineName ? ` (${r.baselineName})` : ''}`,
    r.unit ?? '',
    r.ratio === undefined ? '' : r.ratio.toFixed(2),
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function loadSections(filter: string[]): Promise<BenchSection[]> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sections');
  const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  const sections: BenchSection[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { default?: BenchSection };
    if (!mod.default?.run) throw new Error(`bench section ${f} has no default export with run()`);
    if (!filter.length || filter.includes(mod.default.name)) sections.push(mod.default);
  }
  return sections;
}

async function main(): Promise<void> {
  const filter = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  if (readStackEnvRaw() && (await isHealthy())) report('reusing the running stack (.stack/env)');
  else {
    report('bringing the stack up (see .stack/logs)');
    await up({ report });
  }
  const env = loadStackEnv();
  const raw = readStackEnvRaw() ?? {};
  if (raw.STACK_CA_FILE) process.env.NODE_EXTRA_CA_CERTS = raw.STACK_CA_FILE;
  const sections = await loadSections(filter);
  const rows: Array<BenchRow & { section: string }> = [];
  const versions: Record<string, string> = { node: process.version };
  const notes: string[] = [];
  for (const s of sections) {
    report(`section ${s.name}`);
    const started = Date.now();
    let result: BenchResult;
    try {
      result = await s.run({
        env,
        report: (l) => report(`${s.name}: ${l}`),
        cacheDir: (...parts) => {
          const d = path.join(cacheRoot(), 'bench', ...parts);
          mkdirSync(d, { recursive: true });
          return d;
        },
      });
    } catch (err) {
      report(`section ${s.name} failed: ${(err as Error).stack ?? err}`);
      notes.push(`${s.name}: FAILED: ${(err as Error).message}`);
      process.exitCode = 1;
      continue;
    }
    rows.push(...result.rows.map((r) => ({ ...withRatio(r), section: s.name })));
    Object.assign(versions, result.versions ?? {});
    notes.push(...(result.notes ?? []).map((n) => `${s.name}: ${n}`));
    report(`section ${s.name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const out = table(rows);
  process.stdout.write(`${out}\n`);
  const cpus = os.cpus();
  const md = [
    '# Bench results',
    '',
    `Run ${new Date().toISOString()} by \`npm run bench\`. Targets are reported, never asserted in tests.`,
    '',
    '## Machine',
    '',
    `- ${os.type()} ${os.release()} ${os.arch()}, ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    '',
    '## Versions',
    '',
    ...Object.entries(versions).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Results',
    '',
    out,
    '',
    ...(notes.length ? ['## Notes', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
  const dir = path.join(repoRoot, 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'results.md'), md);
  report(`wrote ${path.join(dir, 'results.md')}`);
}

main().catch((err: unknown) => {
  report(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
