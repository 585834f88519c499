// What the build compiles into dist (and so into the image): the shipped packages' build tsconfigs take no
// test file, no test helper and no development launcher, while tsconfig.test.json still type-checks those.
// Asked of the compiler itself (--listFilesOnly), so a stale file left in a local dist cannot hide or fake it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './paths.js';

const run = promisify(execFile);
const tsc = path.join(repoRoot, 'node_modules', '.bin', 'tsc');

async function sources(project: string): Promise<string[]> {
  const { stdout } = await run(tsc, ['-p', path.join(repoRoot, project), '--listFilesOnly'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  const dir = path.join(repoRoot, path.dirname(project), 'src') + path.sep;
  return stdout.split('\n').filter((f) => f.startsWith(dir)).map((f) => path.relative(repoRoot, f));
}

const testOnly = (f: string) => /\.test\.ts$|(^|\/)testing(\.ts$|\/)|^gateway\/src\/dev\//.test(f);

describe('the build', () => {
  it.each(['shared', 'worker', 'gateway'])('compiles no test, test helper or dev launcher of %s into dist', async (ws) => {
    const built = await sources(`${ws}/tsconfig.json`);
    expect(built.length).toBeGreaterThan(0);
    expect(built.filter(testOnly)).toEqual([]);
    // …and the tests are still type-checked, by the test project that tsc -b builds with it.
    const checked = await sources(`${ws}/tsconfig.test.json`);
    expect(checked.some((f) => f.endsWith('.test.ts'))).toBe(true);
  }, 120_000);
});
