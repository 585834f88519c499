// The compose cluster is seeded like the local stack: deploy/compose/cluster-seed.json is the stack's
// seed (test/src/stack/components/seed.ts) with event timestamps left for cluster-init to fill in.
// `node test/dist/compose/seed-file.js` rewrites it; a unit test keeps it equal to the stack's.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedObjects } from '../stack/components/seed.js';
import { repoRoot } from '../stack/env.js';

export const seedFile = path.join(repoRoot, 'deploy', 'compose', 'cluster-seed.json');

export function composeSeed(): unknown[] {
  return seedObjects().map((o) => {
    if (o.kind !== 'Event') return o;
    const { firstTimestamp: _f, lastTimestamp: _l, ...rest } = o as Record<string, unknown>;
    return rest;
  });
}

export function renderSeedFile(): string {
  return `${JSON.stringify(composeSeed(), null, 1)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) writeFileSync(seedFile, renderSeedFile());
