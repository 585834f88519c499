// The chaos table: printed by npm run chaos and written to bench/chaos.md with the machine and run settings.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../stack/env.js';
import type { ScenarioResult } from './scenario.js';

function failed(r: ScenarioResult): string {
  const kinds = Object.entries(r.failedByKind).sort((a, b) => b[1] - a[1]);
  if (!kinds.length) return '0';
  return `${kinds.reduce((n, [, c]) => n + c, 0)} (${kinds.map(([k, c]) => `${k} ×${c}`).join('; ')})`;
}

export function table(results: ScenarioResult[]): string {
  const header = ['scenario', 'attempted', 'succeeded', 'failed (by kind)', 'sessions lost', 'families revoked', 'recover ms', 'unauth 200', 'met'];
  const rows = results.map((r) => [r.name, String(r.attempted), String(r.succeeded), failed(r), String(r.sessionsLost), String(r.familiesRevoked), r.recoverMs === null ? 'n/a' : String(Math.round(r.recoverMs)), String(r.unauthenticated200), r.met ? 'yes' : 'NO']);
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function markdown(results: ScenarioResult[], settings: Record<string, string | number>): string {
  const cpus = os.cpus();
  const lines = [
    '# Chaos results',
    '',
    'Written by `npm run chaos` (test/src/chaos/run.ts): faults injected under load from real MCP SDK clients through a',
    'loopback load balancer in front of two gateway replicas, with a private Redis and two workers per scenario. Targets',
    'are reported, not asserted here; the short versions in `npm test` (test/src/chaos/chaos.it.test.ts) assert them.',
    '',
    `Run: ${new Date().toISOString()} · ${cpus.length} × ${cpus[0]?.model ?? 'cpu'} · ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB · Node ${process.version} · ${Object.entries(settings).map(([k, v]) => `${k} ${v}`).join(' · ')}`,
    '',
    table(results),
    '',
    '## Targets and notes',
    '',
  ];
  for (const r of results) {
    lines.push(`### ${r.name}`, '', `Target: ${r.target}`, '');
    for (const n of r.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * Writes bench/chaos.md. Results are also kept in bench/chaos.json so a run of some scenarios (--only) replaces
 * their rows and keeps the others' (each row says when and how it ran).
 */
export function writeChaosMd(results: ScenarioResult[], settings: Record<string, string | number>): string {
  const dir = path.join(repoRoot, 'bench');
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, 'chaos.json');
  const stamp = `${new Date().toISOString().slice(0, 16)}Z, ${Object.entries(settings).map(([k, v]) => `${k} ${v}`).join(', ')}`;
  const stamped = results.map((r) => ({ ...r, notes: [...r.notes.filter((n) => !n.startsWith('run: ')), `run: ${stamp}`] }));
  const kept: ScenarioResult[] = existsSync(json) ? (JSON.parse(readFileSync(json, 'utf8')) as ScenarioResult[]) : [];
  const merged = [...kept.filter((k) => !stamped.some((r) => r.name === k.name)), ...stamped].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  writeFileSync(json, `${JSON.stringify(merged, null, 2)}\n`);
  const file = path.join(dir, 'chaos.md');
  writeFileSync(file, markdown(merged, settings));
  return file;
}
