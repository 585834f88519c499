// Go-built binaries cached by version: <cache>/<name>/<version>/bin/<binary>. Builds run the scripts in
// test/scripts with their output in the component log; a cross-process lock keeps two runs from building
// the same binary at once.
import { existsSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { processStartTime, type StackContext } from '../component.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for / takes `<dir>/.build-lock`; a lock whose owner process is gone is taken over. */
async function withBuildLock<T>(ctx: StackContext, dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, '.build-lock');
  mkdirSync(dir, { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'owner'), `${process.pid} ${processStartTime(process.pid) ?? '-'}`);
      break;
    } catch {
      let alive = true;
      try {
        const [pid, start] = readFileSync(path.join(lock, 'owner'), 'utf8').split(' ');
        alive = processStartTime(Number(pid)) === start;
      } catch {
        alive = false;
      }
      if (!alive) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      ctx.progress(`another process is building into ${dir}; waiting`);
      await sleep(5000);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface GoBinary {
  /** Cache folder name, e.g. `etcd`. */
  name: string;
  version: string;
  binary: string;
  /** Builds the binary into `<outDir>/bin/<binary>`. */
  build: (ctx: StackContext, outDir: string) => Promise<void>;
}

/** Path of the cached binary, building it first when missing. */
export async function ensureGoBinary(ctx: StackContext, spec: GoBinary): Promise<string> {
  const outDir = path.join(ctx.paths.cacheDir, spec.name, spec.version);
  const bin = path.join(outDir, 'bin', spec.binary);
  if (existsSync(bin)) return bin;
  return withBuildLock(ctx, outDir, async () => {
    if (existsSync(bin)) return bin;
    const t = Date.now();
    ctx.progress(`building ${spec.binary} ${spec.version} from its Go module into ${outDir} (once; minutes on 2 cores)`);
    await spec.build(ctx, outDir);
    ctx.progress(`built ${spec.binary} in ${((Date.now() - t) / 1000).toFixed(0)}s`);
    return bin;
  });
}

export function script(ctx: StackContext, name: string): string {
  return path.join(ctx.paths.repoRoot, 'test', 'scripts', name);
}
