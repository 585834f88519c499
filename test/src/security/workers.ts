// Worker processes of the security suites' own (this checkout's worker/dist against the stack's apiserver), so
// an attack that could hurt a worker (a gzip bomb) never takes down the stack's shared ones.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { StackEnv } from '../stack/env.js';
import { startWorkerProcess, type WorkerProcess } from '../worker/helpers.js';

/** A bearer-mode worker serving clusters `stack` and `prod`, both the stack's apiserver (one pool, two clusters). */
export async function twoClusterWorker(env: StackEnv): Promise<WorkerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kmg-sec-worker-'));
  const file = path.join(dir, 'worker.yaml');
  const cluster = (name: string) => ({ name, server: env.KUBE_APISERVER_URL, caFile: env.KUBE_CA_FILE, identity: 'bearer' });
  writeFileSync(file, stringify({ clusters: [cluster('stack'), cluster('prod')], defaultCluster: 'stack' }));
  return startWorkerProcess(env, { KMG_WORKER_CONFIG: file });
}
