// `npm ci` installs exactly what package-lock.json lists and refuses a lock that does not match the
// manifests. Two ways a lock goes wrong while `npm install` on one machine still works: a manifest gained a
// dependency the lock does not record, or the lock was resolved on one platform and lacks the other
// platforms' optional packages (esbuild's and rollup's native binaries), which npm ci then cannot place.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { repoRoot } from '../stack/env.js';

const deps = z.record(z.string(), z.string()).optional();
const lockSchema = z.object({
  lockfileVersion: z.number(),
  packages: z.record(
    z.string(),
    z.object({
      version: z.string().optional(),
      link: z.boolean().optional(),
      dependencies: deps,
      devDependencies: deps,
      optionalDependencies: deps,
      peerDependencies: deps,
    }),
  ),
});
type Lock = z.infer<typeof lockSchema>;
const manifestSchema = z.object({ name: z.string(), workspaces: z.array(z.string()).optional(), dependencies: deps, devDependencies: deps, optionalDependencies: deps });

function readLock(): Lock {
  return lockSchema.parse(JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')));
}

/** Where npm's resolution finds `name` for the package at lock path `from`: innermost node_modules first, then each parent's. */
function resolveInLock(lock: Lock, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i >= 0 ? dir.slice(0, i) : '';
  }
}

/** Optional dependencies of locked packages that the lock has no entry for. */
function missingOptionalPackages(lock: Lock): string[] {
  const missing: string[] = [];
  for (const [at, pkg] of Object.entries(lock.packages)) {
    for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
      if (!resolveInLock(lock, at, name)) missing.push(`${name} (optional dependency of ${at || 'the root'})`);
    }
  }
  return missing;
}

describe('package-lock.json (what npm ci installs on a clean clone)', () => {
  const lock = readLock();

  it('records every optional platform package of every locked package, for all platforms', () => {
    const withOptional = Object.values(lock.packages).filter((p) => Object.keys(p.optionalDependencies ?? {}).length > 0);
    // esbuild and rollup ship one optional package per platform: the check has something to check.
    expect(withOptional.length).toBeGreaterThan(0);
    expect(missingOptionalPackages(lock)).toEqual([]);
  });

  it('names an optional platform package the lock lacks, looking where npm looks (nested first, then up)', () => {
    const synthetic: Lock = {
      lockfileVersion: 3,
      packages: {
        '': {},
        'node_modules/rollup': { version: '4.0.0', optionalDependencies: { '@rollup/rollup-linux-x64-gnu': '4.0.0', '@rollup/rollup-darwin-arm64': '4.0.0' } },
        'node_modules/@rollup/rollup-linux-x64-gnu': { version: '4.0.0' },
        'node_modules/vite/node_modules/esbuild': { version: '0.25.0', optionalDependencies: { '@esbuild/linux-x64': '0.25.0' } },
        'node_modules/vite/node_modules/@esbuild/linux-x64': { version: '0.25.0' },
        'gateway/node_modules/tsx': { version: '4.0.0', optionalDependencies: { fsevents: '2.3.3' } },
      },
    };
    expect(missingOptionalPackages(synthetic)).toEqual([
      '@rollup/rollup-darwin-arm64 (optional dependency of node_modules/rollup)',
      'fsevents (optional dependency of gateway/node_modules/tsx)',
    ]);
  });

  it('matches every workspace manifest: the same dependencies with the same ranges', () => {
    const root = manifestSchema.parse(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')));
    for (const ws of ['', ...(root.workspaces ?? [])]) {
      const manifest = manifestSchema.parse(JSON.parse(readFileSync(path.join(repoRoot, ws, 'package.json'), 'utf8')));
      const locked = lock.packages[ws];
      expect(locked, `lock entry for workspace "${ws || '(root)'}"`).toBeDefined();
      for (const field of ['dependencies', 'devDependencies', 'optionalDependencies'] as const) {
        expect(locked![field] ?? {}, `${ws || '(root)'} ${field}`).toEqual(manifest[field] ?? {});
      }
      // npm links each workspace into node_modules under its package name.
      if (ws !== '') expect(lock.packages[`node_modules/${manifest.name}`]?.link, `link for ${manifest.name}`).toBe(true);
    }
  });

  it('resolves every declared dependency of every locked package', () => {
    const unresolved: string[] = [];
    for (const [at, pkg] of Object.entries(lock.packages)) {
      if (pkg.link) continue;
      for (const name of Object.keys({ ...pkg.dependencies, ...(at.startsWith('node_modules/') ? {} : pkg.devDependencies) })) {
        if (!resolveInLock(lock, at, name)) unresolved.push(`${name} (needed by ${at || 'the root'})`);
      }
    }
    expect(unresolved).toEqual([]);
  });
});
