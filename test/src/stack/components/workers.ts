// Two worker replicas in bearer mode against the stack's kube-apiserver, started from the built
// worker/dist/main.js. Contributes WORKER_URLS (comma-separated MCP URLs).
import path from 'node:path';
import { fileExists, type Component, type StackContext } from '../component.js';

const REPLICAS = 2;

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
    return { WORKER_URLS: urls.join(',') };
  },
  async check(env: Record<string, string>): Promise<void> {
    const urls = (env.WORKER_URLS ?? '').split(',').filter(Boolean);
    if (urls.length < REPLICAS) throw new Error('WORKER_URLS is missing or short');
    for (const url of urls) {
      if (!(await healthy(url).catch(() => false))) throw new Error(`worker ${url} is not healthy`);
    }
  },
};
