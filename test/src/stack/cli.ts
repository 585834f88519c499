// `npm run stack -- up [--restart name,...] | down | status | env`
import { readFileSync, existsSync } from 'node:fs';
import { ComponentError } from './component.js';
import { stackEnvFile } from './env.js';
import { down, status, up } from './stack.js';

const t0 = Date.now();
const report = (line: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up': {
      const i = rest.indexOf('--restart');
      const restart = i >= 0 ? (rest[i + 1] ?? '').split(',').filter(Boolean) : [];
      await up({ report, restart });
      return 0;
    }
    case 'down':
      await down({ report });
      return 0;
    case 'status': {
      const s = await status();
      for (const c of s) process.stdout.write(`${c.healthy ? 'ok  ' : 'FAIL'} ${c.name.padEnd(16)} ${c.detail}\n`);
      return s.every((c) => c.healthy) ? 0 : 1;
    }
    case 'env':
      if (!existsSync(stackEnvFile)) {
        process.stderr.write(`${stackEnvFile} missing: run \`npm run stack -- up\`\n`);
        return 1;
      }
      process.stdout.write(readFileSync(stackEnvFile, 'utf8'));
      return 0;
    default:
      process.stderr.write('usage: npm run stack -- up [--restart <component,...>] | down | status | env\n');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ComponentError) {
      process.stderr.write(`\nstack: component "${err.component}" failed: ${err.message}\n`);
    } else {
      process.stderr.write(`\nstack: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  },
);
