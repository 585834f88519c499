// Two worker replicas in bearer mode against the stack's kube-apiserver, started from the built
// worker/dist/main.js. Contributes WORKER_URLS (comma-separated MCP URLs).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileExists, type Component, type StackContext } from '../component.js';
import { repoRoot } from '../env.js';

const REPLICAS = 2;

/**
 * Fingerprint of the code the workers run (worker/dist and shared/dist contents). `check` compares it,
 * so after a rebuild `up` (and the integration global setup) restart the workers instead of testing old code.
 */
export function workerBuildId(root = repoRoot): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) hash.update(p).update(readFileSync(p));
    }
  };
  walk(path.join(root, 'worker', 'dist'));
  walk(path.join(root, 'shared', 'dist'));
  return hash.digest('hex').slice(0, 16);
}

async function healthy(mcpUrl: string): Promise<boolean> {
  const res = await fetch(new URL('/healthz', mcpUrl), { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

export const workers: Component = {
  name: 'workers',
  dependsOn: ['kube-apiserver'],
  async up(ctx: StackContext): Promise<Record<string, string>> {
    const main = path.join(ctx.paths.repoRoot, 'worker', 'dist', 'main.js');
    if (!fileExists(main)) ctx.fail(`${main} is missing: run \`npx tsc -b\` first`);
    const apiserver = ctx.env.KUBE_APISERVER_URL;
    const ca = ctx.env.KUBE_CA_FILE;
    if (!apiserver || !ca) ctx.fail('KUBE_APISERVER_URL and KUBE_CA_FILE must come from the kube-apiserver component');
    const urls: string[] = [];
    for (let i = 1; i <= REPLICAS; i++) {
      const port = await ctx.freePort();
      const proc = ctx.spawn(process.execPath, [main], {
        logName: `workers-${i}.log`,
        env: {
          HOST: '127.0.0.1',
          PORT: String(port),
          KUBE_APISERVER_URL: apiserver,
          KUBE_CA_FILE: ca,
          WORKER_IDENTITY: 'bearer',
          WORKER_CLUSTER_NAME: 'stack',
          LOG_LEVEL: 'info',
          KMG_WORKER_CONFIG: undefined,
        },
      });
      const url = `http://127.0.0.1:${port}/mcp`;
      ctx.progress(`replica ${i} starting on ${url}`);
      await ctx.waitFor(`worker replica ${i} /healthz`, () => healthy(url), { process: proc, timeoutMs: 30_000 });
      urls.push(url);
    }
    return { WORKER_URLS: urls.join(','), WORKER_BUILD_ID: workerBuildId(ctx.paths.repoRoot) };
  },
  async check(env: Record<string, string>): Promise<void> {
    const urls = (env.WORKER_URLS ?? '').split(',').filter(Boolean);
    if (urls.length < REPLICAS) throw new Error('WORKER_URLS is missing or short');
    if (env.WORKER_BUILD_ID && env.WORKER_BUILD_ID !== workerBuildId()) throw new Error('worker/dist changed since the workers started');
    for (const url of urls) {
      if (!(await healthy(url).catch(() => false))) throw new Error(`worker ${url} is not healthy`);
    }
  },
};
