// The workers npm start runs: two replicas of worker/dist/main.js on free loopback ports, as a stack
// component (own process group, pid recorded under <repo>/.dev, so stopping is exact and a killed run's
// workers are found next time).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { fileExists, type Component } from '../stack/component.js';

export const ASSERTION_AUDIENCE = 'kmg-worker';

export interface DevWorkersOptions {
  replicas: number;
  clusterName: string;
  /** The kubeconfig whose user the workers act as or impersonate with; KUBECONFIG_ADMIN of the env when omitted. */
  kubeconfig?: string;
  context?: string;
  /** impersonation: each dev user as itself (gateway-signed assertions); kubeconfig: every dev user as the kubeconfig user. */
  identity: 'impersonation' | 'kubeconfig';
  assertion: { issuer: string; publicKeyPem: string };
  logLevel: string;
}

export function workerConfig(o: DevWorkersOptions, kubeconfig: string, port: number): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    port,
    logLevel: o.logLevel,
    clusters: [{ name: o.clusterName, identity: o.identity, kubeconfig, ...(o.context ? { context: o.context } : {}) }],
    ...(o.identity === 'impersonation' ? { assertion: { issuer: o.assertion.issuer, audience: ASSERTION_AUDIENCE, publicKey: o.assertion.publicKeyPem } } : {}),
  };
}

async function healthy(url: string): Promise<boolean> {
  return (await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(2000) })).ok;
}

export function devWorkers(o: DevWorkersOptions): Component {
  return {
    name: 'workers',
    async up(ctx) {
      const main = path.join(ctx.paths.repoRoot, 'worker', 'dist', 'main.js');
      if (!fileExists(main)) ctx.fail(`${main} is missing: run \`npx tsc -b\` first`);
      const kubeconfig = o.kubeconfig ?? ctx.env.KUBECONFIG_ADMIN;
      if (!kubeconfig) return ctx.fail('no kubeconfig for the workers');
      const started: { url: string; proc: ReturnType<typeof ctx.spawn> }[] = [];
      for (let i = 1; i <= o.replicas; i++) {
        const port = await ctx.freePort();
        const file = path.join(ctx.dataDir(), `worker-${i}.yaml`);
        writeFileSync(file, toYaml(workerConfig(o, kubeconfig, port)), { mode: 0o600 });
        // The worker reads PORT, HOST and LOG_LEVEL from its environment over the file: set them to match.
        const proc = ctx.spawn(process.execPath, [main, '--config', file], {
          logName: `worker-${i}.log`,
          env: { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: o.logLevel, KMG_WORKER_CONFIG: undefined },
        });
        started.push({ url: `http://127.0.0.1:${port}/mcp`, proc });
      }
      // Side by side: each takes seconds to load on a busy machine.
      await Promise.all(started.map((w, i) => ctx.waitFor(`worker ${i + 1} /healthz`, () => healthy(w.url), { process: w.proc, timeoutMs: 30_000 })));
      const urls = started.map((w) => w.url);
      return { WORKER_URLS: urls.join(',') };
    },
    async check(env) {
      for (const url of (env.WORKER_URLS ?? '').split(',').filter(Boolean)) {
        if (!(await healthy(url).catch(() => false))) throw new Error(`worker ${url} is not healthy`);
      }
    },
  };
}
