// `npm run compose -- up | down | status | images`
import { composeDown, composeStatus, composeUp } from './compose.js';
import { ensureEngine, ensureHostTools } from './engine.js';
import { ensureBaseImages, ensureProductImage } from './images.js';
import { repoRoot } from '../stack/env.js';
import { reporter } from './run.js';
import path from 'node:path';

const report = reporter();

async function main(argv: string[]): Promise<number> {
  switch (argv[0]) {
    case 'up':
      await composeUp(report);
      return 0;
    case 'down':
      await composeDown(report);
      return 0;
    case 'status': {
      const s = await composeStatus();
      for (const c of s) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.service.padEnd(18)} ${c.detail}\n`);
      return s.every((c) => c.ok) ? 0 : 1;
    }
    case 'images': {
      await ensureEngine(report);
      await ensureHostTools(report);
      const log = path.join(repoRoot, '.compose', 'logs', 'images.log');
      await ensureProductImage(report, repoRoot, await ensureBaseImages(report, log), log);
      return 0;
    }
    default:
      process.stderr.write('usage: npm run compose -- up | down | status | images\n');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`\ncompose: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
