// pods_top and nodes_top against the real metrics API: metrics-server (aggregated as metrics.k8s.io) scrapes
// kwok, which reports the usage the pods' and nodes' annotations set (see stack/components/kwok.ts). The
// numbers are predictable: memory exactly, percentages exactly, CPU to within 1% (a rate between two
// samples whose timestamps metrics-server takes a few milliseconds apart from kwok's evaluation).
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { USAGE_CPU_ANNOTATION, USAGE_MEMORY_ANNOTATION } from '../stack/components/kwok.js';
import { METRIC_RESOLUTION_SECONDS } from '../stack/components/metrics-server.js';
import { NODE_ALLOCATABLE, NODE_USAGE, NODES } from '../stack/components/seed.js';
import { kubeToken } from '../support/keycloak-tokens.js';
import { adminRest, ensure, ensureNamespace, mcpClient, startStackWorker, textOf, waitFor, waitForPodUsage, type WorkerProcess } from './helpers.js';

const NS = 'kmg-tools-top';
const APP = 'kmg-top';

interface PodSpec { name: string; node: string; annotations: Record<string, string>; containers: Array<{ name: string; resources?: unknown }> }

/** Usage by annotation: per pod (each container) or per container (`<key>.<container>`). */
const PODS: PodSpec[] = [
  { name: 'big', node: NODES[0]!, annotations: { [USAGE_CPU_ANNOTATION]: '250m', [USAGE_MEMORY_ANNOTATION]: '300Mi' },
    containers: [{ name: 'app', resources: { requests: { cpu: '500m', memory: '600Mi' }, limits: { cpu: '1', memory: '1200Mi' } } }] },
  { name: 'medium', node: NODES[1]!, annotations: { [USAGE_CPU_ANNOTATION]: '50m', [USAGE_MEMORY_ANNOTATION]: '128Mi' },
    containers: [{ name: 'app' }] },
  { name: 'sidecars', node: NODES[0]!,
    annotations: { [`${USAGE_CPU_ANNOTATION}.app`]: '100m', [`${USAGE_MEMORY_ANNOTATION}.app`]: '64Mi', [`${USAGE_CPU_ANNOTATION}.proxy`]: '20m', [`${USAGE_MEMORY_ANNOTATION}.proxy`]: '32Mi' },
    containers: [{ name: 'app' }, { name: 'proxy' }] },
];

let env: StackEnv;
let admin: KubeRest;
let worker: WorkerProcess;
let alice: Client;

type Row = Record<string, string>;

async function top(client: Client, tool: 'pods_top' | 'nodes_top', args: Record<string, unknown>) {
  const res = await client.callTool({ name: tool, arguments: args });
  return { res, text: textOf(res), rows: ((res.structuredContent as { rows?: Row[] } | undefined)?.rows ?? []) };
}

/** "2000m" → 2000, for the CPU comparisons that allow the sampling's 1%. */
const milli = (s: string | undefined) => Number(/^(\d+)m$/.exec(s ?? '')?.[1] ?? NaN);

beforeAll(async () => {
  env = loadStackEnv();
  admin = adminRest(env);
  await ensureNamespace(admin, NS);
  // Pods are kept across runs (a new pod takes two scrapes to show); one whose annotations are not this file's
  // is replaced.
  for (const p of PODS) {
    const podPath = `/api/v1/namespaces/${NS}/pods/${p.name}`;
    const existing = await admin.raw('GET', podPath);
    const sorted = (o: Record<string, string> | undefined) => JSON.stringify(Object.entries(o ?? {}).sort());
    if (existing.status === 200 && sorted((JSON.parse(existing.text) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations) !== sorted(p.annotations)) {
      await admin.raw('DELETE', podPath, { query: { gracePeriodSeconds: 0 } });
      await waitFor(`pod ${p.name} replaced`, async () => (await admin.raw('GET', podPath)).status === 404);
    }
    await ensure(admin, `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: NS, labels: { app: APP }, annotations: p.annotations },
      spec: { nodeName: p.node, containers: p.containers.map((c) => ({ ...c, image: 'registry.invalid/app:1' })) },
    });
  }
  // The metrics pipeline is eventually consistent: a bounded poll, as the admin, until every container reports
  // the usage its annotations set (metrics-server scrapes every METRIC_RESOLUTION_SECONDS).
  const usageOf = (p: PodSpec, container: string, key: string) => p.annotations[`${key}.${container}`] ?? p.annotations[key] ?? '';
  await waitForPodUsage(admin, NS, Object.fromEntries(PODS.map((p) => [p.name, Object.fromEntries(p.containers.map((c) => [c.name, {
    cpu: usageOf(p, c.name, USAGE_CPU_ANNOTATION), memory: usageOf(p, c.name, USAGE_MEMORY_ANNOTATION),
  }]))])), 12 * METRIC_RESOLUTION_SECONDS * 1000);
  await waitFor('metrics for both nodes', async () =>
    (await admin.get<{ items: unknown[] }>('/apis/metrics.k8s.io/v1beta1/nodes')).items.length >= NODES.length, 12 * METRIC_RESOLUTION_SECONDS * 1000);

  worker = await startStackWorker(env);
  alice = await mcpClient(worker.url, await kubeToken(env, 'alice'));
}, 300_000);

afterAll(async () => {
  await alice?.close();
  await worker?.stop();
});

describe('pods_top on the real metrics API', () => {
  it('ranks a namespace\'s pods by memory with usage against requests and limits', async () => {
    const { res, text, rows } = await top(alice, 'pods_top', { namespace: NS });
    expect(res.isError, text).toBeFalsy();
    expect(rows.map((r) => r.pod)).toEqual(['big', 'medium', 'sidecars']);
    expect(rows.map((r) => r.memory)).toEqual(['300Mi', '128Mi', '96Mi']);
    const big = rows[0]!;
    // 300Mi of a 600Mi request and a 1200Mi limit; 250m of a 500m request and a 1-core limit.
    expect(big).toMatchObject({ memoryOfRequest: '50%', memoryOfLimit: '25%', cpuOfRequest: '50%', cpuOfLimit: '25%' });
    expect(milli(big.cpu)).toBeCloseTo(250, -1);
    expect(rows[1]).toMatchObject({ memoryOfRequest: '-', memoryOfLimit: '-', cpuOfRequest: '-' });
    expect(milli(rows[2]!.cpu)).toBeGreaterThanOrEqual(118);
    expect(milli(rows[2]!.cpu)).toBeLessThanOrEqual(122);
    expect(text).toMatch(/^# top 3 of 3 pods by memory/m);
    expect(text).toMatch(/^big\s+25\dm\s+50%\s+25%\s+300Mi\s+50%\s+25%$/m);
  });

  it('ranks by cpu when asked', async () => {
    const { rows } = await top(alice, 'pods_top', { namespace: NS, sortBy: 'cpu' });
    expect(rows.map((r) => r.pod)).toEqual(['big', 'sidecars', 'medium']);
  });

  it('shows each container with its own usage', async () => {
    const { rows } = await top(alice, 'pods_top', { namespace: NS, containers: true });
    expect(rows.map((r) => `${r.pod}/${r.container} ${r.memory}`)).toEqual(['big/app 300Mi', 'medium/app 128Mi', 'sidecars/app 64Mi', 'sidecars/proxy 32Mi']);
    const proxy = rows.find((r) => r.container === 'proxy')!;
    expect(milli(proxy.cpu)).toBeGreaterThanOrEqual(19);
    expect(milli(proxy.cpu)).toBeLessThanOrEqual(21);
  });

  it('ranks across all namespaces, naming each pod\'s namespace', async () => {
    // The seeded team-a web pods report kwok's default usage: 1Mi per container.
    const { text, rows } = await top(alice, 'pods_top', { labelSelector: `app in (${APP},web)`, limit: 500 });
    expect(text).toMatch(/^NAMESPACE\s+POD\s+CPU/m);
    expect(rows.slice(0, 3).map((r) => `${r.namespace}/${r.pod} ${r.memory}`)).toEqual([`${NS}/big 300Mi`, `${NS}/medium 128Mi`, `${NS}/sidecars 96Mi`]);
    const web = rows.filter((r) => r.namespace === 'team-a' && r.pod?.startsWith('web-'));
    expect(web.map((r) => r.memory)).toEqual(['1Mi', '1Mi']);
  });
});

describe('nodes_top on the real metrics API', () => {
  it('reports each node\'s usage in m and Mi as % of allocatable', async () => {
    const { res, text, rows } = await top(alice, 'nodes_top', {});
    expect(res.isError, text).toBeFalsy();
    const alloc = `${Number(NODE_ALLOCATABLE.cpu) * 1000}m/${32 * 1024}Mi`;
    // kwok-node-0 uses 2 cores and 8Gi of 8 and 32Gi; kwok-node-1 4 cores and 24Gi.
    const expected: Record<string, { cpu: number; memory: string; cpuPercent: string; memoryPercent: string }> = {
      [NODES[0]!]: { cpu: 2000, memory: '8192Mi', cpuPercent: '25%', memoryPercent: '25%' },
      [NODES[1]!]: { cpu: 4000, memory: '24576Mi', cpuPercent: '50%', memoryPercent: '75%' },
    };
    expect(Object.keys(expected).map((n) => NODE_USAGE[n]?.memory)).toEqual(['8Gi', '24Gi']);
    for (const [name, want] of Object.entries(expected)) {
      const row = rows.find((r) => r.name === name);
      expect(row, text).toBeDefined();
      expect(row).toMatchObject({ memory: want.memory, cpuPercent: want.cpuPercent, memoryPercent: want.memoryPercent, allocatable: alloc });
      expect(Math.abs(milli(row!.cpu) - want.cpu) / want.cpu).toBeLessThan(0.01);
      // The pods on the node request something (big asks for 500m and 600Mi on kwok-node-0).
      if (name === NODES[0]) expect(row!.cpuRequested).toMatch(/^\d+m \(\d+%\)$/);
    }
  });
});

describe('metrics RBAC is the cluster\'s', () => {
  it('lets a viewer read pod metrics (metrics-server\'s reader role aggregates into view)', async () => {
    const bob = await mcpClient(worker.url, await kubeToken(env, 'bob'));
    try {
      const { res, rows } = await top(bob, 'pods_top', { namespace: NS });
      expect(res.isError).toBeFalsy();
      expect(rows.map((r) => r.pod)).toEqual(['big', 'medium', 'sidecars']);
    } finally {
      await bob.close();
    }
  });

  it('refuses a user who may read pods but not metrics.k8s.io, naming the permission, and shows no usage', async () => {
    // carol may read this namespace's pods (and nothing of metrics.k8s.io).
    await ensure(admin, `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pod-reader', namespace: NS },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
    });
    await ensure(admin, `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'carol-pod-reader', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'oidc:carol' }],
    });
    const carol = await mcpClient(worker.url, await kubeToken(env, 'carol'));
    try {
      const pods = await carol.callTool({ name: 'pods_list', arguments: { namespace: NS } });
      expect(textOf(pods)).toContain('sidecars'); // the pods themselves she may read
      const { res, text, rows } = await top(carol, 'pods_top', { namespace: NS });
      expect(res.isError).toBe(true);
      expect(text).toMatch(/forbidden/i);
      expect(text).toMatch(/"?pods"? in API group "metrics\.k8s\.io"/);
      expect(text).toContain('oidc:carol');
      expect(rows).toEqual([]);
      expect(text).not.toMatch(/300Mi|128Mi|96Mi/);
      const nodes = await top(carol, 'nodes_top', {});
      expect(nodes.res.isError).toBe(true);
      expect(nodes.text).toMatch(/"?nodes"? in API group "metrics\.k8s\.io"/);
      expect(nodes.text).not.toMatch(/8192Mi|24576Mi/);
    } finally {
      await carol.close();
      // Other suites rely on carol having no rights at all.
      await admin.raw('DELETE', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings/carol-pod-reader`);
    }
  });
});
