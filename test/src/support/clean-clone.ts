// A clean clone of this checkout's HEAD, as a newcomer gets it (`git clone`), with node_modules taken from
// this checkout instead of installed again (what `npm ci` would put there, as the lock is the same).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CleanClone {
  dir: string;
  commit: string;
  remove(): void;
}

/**
 * Copies a node_modules tree as hard links (a second on one file system; a plain copy across file systems).
 * Real files, not symlinks into this checkout: tsc resolves symlinks and would name this checkout's paths in
 * the clone's declarations. Symlinks inside (.bin, the @kmg workspace links) are relative, so they point
 * into the clone.
 */
function copyNodeModules(from: string, to: string): void {
  try {
    execFileSync('cp', ['-al', from, to]);
  } catch {
    rmSync(to, { recursive: true, force: true });
    execFileSync('cp', ['-a', from, to]);
  }
}

/** Clones `repoRoot` at its HEAD (what is committed, not the work tree) into a temp dir. */
export function cleanClone(repoRoot: string): CleanClone {
  const parent = mkdtempSync(path.join(tmpdir(), 'kmg-clone-'));
  const dir = path.join(parent, 'kube-mcp-gateway');
  const commit = execFileSync('git', ['-C', repoRoot, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  execFileSync('git', ['clone', '--quiet', '--no-checkout', repoRoot, dir]);
  execFileSync('git', ['-C', dir, 'checkout', '--quiet', '--detach', commit]);
  for (const ws of ['.', 'shared', 'worker', 'gateway', 'test']) {
    const nm = path.join(repoRoot, ws, 'node_modules');
    if (existsSync(nm)) copyNodeModules(nm, path.join(dir, ws, 'node_modules'));
  }
  return { dir, commit, remove: () => rmSync(parent, { recursive: true, force: true }) };
}
