// Shared pieces of the worker integration suites: an SDK client per user, and an admin REST client
// (the stack's admin kubeconfig) for setting up fixtures.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { KubeRest } from '@kmg/worker/k8s/rest';
import { bytes, millicores } from '@kmg/worker/output/quantity';
import { createClusterTransport } from '@kmg/worker/k8s/transport';
import type { StackEnv } from '../stack/env.js';

/** MCP revision the suites speak: 2025-era (initialize handshake) or the stateless 2026-07-28 revision. */
export type Era = 'legacy' | 'modern';
export const MODERN_REVISION = '2026-07-28';

export async function mcpClient(url: string, token: string | undefined, fetchImpl?: typeof fetch, era: Era = 'legacy'): Promise<Client> {
  const client = new Client(
    { name: 'worker-it', version: '0.0.0' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: MODERN_REVISION } } } : {},
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} },
      ...(fetchImpl ? { fetch: fetchImpl } : {}),
    }),
  );
  return client;
}

export function textOf(res: unknown): string {
  const content = (res as CallToolResult).content ?? [];
  return content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

export function workerUrls(env: StackEnv): string[] {
  if (!env.WORKER_URLS?.length) throw new Error('WORKER_URLS is missing from .stack/env: the stack has no workers');
  return env.WORKER_URLS;
}

/** REST as the stack admin (client certificate from KUBECONFIG_ADMIN). */
export function adminRest(env: StackEnv): KubeRest {
  const transport = createClusterTransport({
    name: 'admin',
    identity: 'kubeconfig',
    kubeconfig: env.KUBECONFIG_ADMIN,
    insecureSkipTlsVerify: false,
    policy: { readOnly: false, nonDestructive: false, tools: { deny: [] }, kinds: { deny: [] }, revealSecrets: [] },
  });
  return new KubeRest(transport, async () => {
    const opts: { headers?: Record<string, string> } = {};
    await transport.kubeConfig!.applyToHTTPSOptions(opts);
    return { ...(opts.headers ?? {}) };
  });
}

/** Creates (or keeps) an object as admin; a 409 means it is already there. */
export async function ensure(rest: KubeRest, collectionPath: string, body: unknown): Promise<void> {
  const res = await rest.raw('POST', collectionPath, { body });
  if (res.status !== 201 && res.status !== 200 && res.status !== 409) throw new Error(`create ${collectionPath} failed: ${res.status} ${res.text.slice(0, 300)}`);
}

/**
 * A service account that may impersonate users and groups (what an impersonation-mode worker runs as), and a file
 * holding a one-hour token for it.
 */
export async function impersonatorTokenFile(rest: KubeRest, namespace: string, sa: string): Promise<string> {
  await ensure(rest, `/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace } });
  await ensure(rest, '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: sa },
    rules: [{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }],
  });
  await ensure(rest, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: sa },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: sa },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
  });
  const tr = await rest.json<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  const file = path.join(mkdtempSync(path.join(tmpdir(), `${sa}-`)), 'token');
  writeFileSync(file, tr.status.token);
  return file;
}

export async function ensureNamespace(rest: KubeRest, name: string): Promise<void> {
  await ensure(rest, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/** Names of the kwok nodes (pods carry nodeName, there is no scheduler). */
export async function nodeNames(rest: KubeRest): Promise<string[]> {
  const list = await rest.get<{ items: Array<{ metadata: { name: string } }> }>('/api/v1/nodes');
  const names = list.items.map((n) => n.metadata.name);
  if (!names.length) throw new Error('the stack has no nodes');
  return names;
}

export function podManifest(name: string, namespace: string, nodeName: string, labels: Record<string, string> = {}): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { nodeName, containers: [{ name: 'app', image: 'registry.invalid/app:1', ports: [{ containerPort: 8080 }] }] },
  };
}

/** Creates `count` pods named `<prefix>-<i>` with bounded concurrency. */
export async function createPods(rest: KubeRest, namespace: string, prefix: string, count: number, labels: Record<string, string> = {}): Promise<void> {
  const nodes = await nodeNames(rest);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await ensure(rest, `/api/v1/namespaces/${namespace}/pods`, podManifest(`${prefix}-${String(i).padStart(4, '0')}`, namespace, nodes[i % nodes.length]!, labels));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

export async function deletePods(rest: KubeRest, namespace: string, labelSelector: string): Promise<void> {
  await rest.raw('DELETE', `/api/v1/namespaces/${namespace}/pods`, { query: { labelSelector, gracePeriodSeconds: 0 } });
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The usage a pod's container should report, as quantities ("250m", "300Mi"). */
export interface ContainerUsage {
  cpu: string;
  memory: string;
}

/**
 * Polls metrics.k8s.io (bounded by `timeoutMs`) until each pod reports each container's expected usage: memory
 * exactly, CPU within 1% (a rate between two samples). A new pod shows after metrics-server's first or second
 * scrape, and a fresh container's first sample has no CPU yet.
 */
export async function waitForPodUsage(rest: KubeRest, namespace: string, pods: Record<string, Record<string, ContainerUsage>>, timeoutMs: number): Promise<void> {
  type PodMetrics = { metadata: { name: string }; containers: Array<{ name: string; usage: { cpu?: string; memory?: string } }> };
  await waitFor(`metrics.k8s.io usage of ${Object.keys(pods).join(', ')} in ${namespace}`, async () => {
    const list = await rest.get<{ items: PodMetrics[] }>(`/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods`);
    return Object.entries(pods).every(([pod, containers]) => {
      const reported = list.items.find((i) => i.metadata.name === pod)?.containers ?? [];
      return Object.entries(containers).every(([name, want]) => {
        const got = reported.find((c) => c.name === name)?.usage;
        return bytes(got?.memory) === bytes(want.memory) && Math.abs(millicores(got?.cpu) - millicores(want.cpu)) <= millicores(want.cpu) / 100;
      });
    });
  }, timeoutMs);
}

export interface WorkerProcess {
  url: string;
  stop(): Promise<void>;
}

/** A worker for the stack's cluster that runs each call with the caller's own bearer token, as the suites' users. */
export function startStackWorker(env: StackEnv, extraEnv: Record<string, string> = {}): Promise<WorkerProcess> {
  return startWorkerProcess(env, { WORKER_IDENTITY: 'bearer', WORKER_CLUSTER_NAME: 'stack', ...extraEnv });
}

/** alice's MCP client on a worker of her own (startStackWorker): the opening of the worker suites; stop ends both. */
export interface AliceSession {
  alice: Client;
  stop(): Promise<void>;
}

export async function aliceOnStackWorker(env: StackEnv): Promise<AliceSession> {
  const { kubeToken } = await import('../support/keycloak-tokens.js');
  const worker = await startStackWorker(env);
  try {
    const alice = await mcpClient(worker.url, await kubeToken(env, 'alice'));
    return { alice, stop: async () => (await alice.close(), await worker.stop()) };
  } catch (err) {
    await worker.stop();
    throw err;
  }
}

/** Starts one more worker from the built worker/dist/main.js with extra env (for modes the stack's replicas don't run). */
export async function startWorkerProcess(env: StackEnv, extraEnv: Record<string, string>): Promise<WorkerProcess> {
  const { spawn } = await import('node:child_process');
  const { freePort } = await import('../stack/component.js');
  const { repoRoot } = await import('../stack/env.js');
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(repoRoot, 'worker', 'dist', 'main.js')], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), KUBE_APISERVER_URL: env.KUBE_APISERVER_URL, KUBE_CA_FILE: env.KUBE_CA_FILE, LOG_LEVEL: 'warn', ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const url = `http://127.0.0.1:${port}/mcp`;
  try {
    await waitFor(`worker on ${url}`, async () => {
      if (child.exitCode !== null) throw new Error(`worker exited: ${stderr}`);
      return (await fetch(new URL('/healthz', url))).ok;
    }, 20_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}; stderr: ${stderr}`);
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
