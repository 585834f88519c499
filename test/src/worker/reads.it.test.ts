// Reading many pods at once against the real apiserver and kwok (its ClusterLogs serves FAKE_LOG_LINES for every
// container): workload_logs by workload and by selector, the default-container annotation in pods_log, pods_exec and
// workload_logs, and the list views (wide, showLabels, fields, unhealthy) with rows that match the text. Unhealthy
// pods sit on a node kwok does not manage, their status written through the status subresource.
import type { Client } from '@modelcontextprotocol/client';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_LOG_LINES } from '../stack/components/kwok.js';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { adminRest, aliceOnStackWorker, type AliceSession, ensure, ensureNamespace, nodeNames, textOf, waitFor } from './helpers.js';

const NS = 'kmg-tools-reads';
const UNMANAGED_NODE = 'kmg-no-kubelet-reads';
const DEFAULT_CONTAINER = 'kubectl.kubernetes.io/default-container';

let env: StackEnv;
let admin: KubeRest;
let session: AliceSession | undefined;
let alice: Client;
let node: string;

type Rows = Array<Record<string, string>>;

async function call(name: string, args: Record<string, unknown>) {
  const res = await alice.callTool({ name, arguments: args });
  return { res, text: textOf(res), structured: res.structuredContent as Record<string, unknown> & { rows?: Rows } };
}

async function writeStatus(pod: string, status: unknown): Promise<void> {
  const res = await admin.raw('PATCH', `/api/v1/namespaces/${NS}/pods/${pod}/status`, { body: { status }, contentType: 'application/merge-patch+json' });
  if (res.status !== 200) throw new Error(`status ${pod}: ${res.status} ${res.text.slice(0, 300)}`);
}

/** A kwok pod of the shop Deployment: an init container, a sidecar listed first, and the annotation naming app. */
function shopPod(name: string) {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'shop' }, annotations: { [DEFAULT_CONTAINER]: 'app' } },
    spec: {
      nodeName: node,
      initContainers: [{ name: 'init', image: 'registry.invalid/init:1' }],
      containers: [{ name: 'sidecar', image: 'registry.invalid/proxy:1' }, { name: 'app', image: 'registry.invalid/shop:1' }],
    },
  };
}

beforeAll(async () => {
  env = loadStackEnv();
  admin = adminRest(env);
  await ensureNamespace(admin, NS);
  const list = await admin.get<{ items: Array<{ metadata: { name: string; annotations?: Record<string, string> } }> }>('/api/v1/nodes');
  node = list.items.find((n) => n.metadata.annotations?.['kwok.x-k8s.io/node'] === 'fake')?.metadata.name ?? (await nodeNames(admin))[0]!;

  await ensure(admin, `/apis/apps/v1/namespaces/${NS}/deployments`, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'shop', namespace: NS, labels: { team: 'checkout' } },
    spec: { replicas: 3, selector: { matchLabels: { app: 'shop' } }, template: { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'sidecar', image: 'registry.invalid/proxy:1' }, { name: 'app', image: 'registry.invalid/shop:1' }] } } },
  });
  for (const p of ['shop-a', 'shop-b']) await ensure(admin, `/api/v1/namespaces/${NS}/pods`, shopPod(p));
  await waitFor('the shop pods to be Running (kwok)', async () => {
    const pods = await admin.get<{ items: Array<{ status?: { phase?: string } }> }>(`/api/v1/namespaces/${NS}/pods`, { query: { labelSelector: 'app=shop' } });
    return pods.items.filter((p) => p.status?.phase === 'Running').length >= 2;
  });

  // A crashlooping pod of the same Deployment and a not-Ready pod of another app: no kubelet runs on their node,
  // so the status written here stays (and their logs cannot be read).
  const now = new Date().toISOString();
  for (const [name, app] of [['shop-crash', 'shop'], ['other-notready', 'other']] as const) {
    await ensure(admin, `/api/v1/namespaces/${NS}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app } }, spec: { nodeName: UNMANAGED_NODE, containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } });
  }
  await writeStatus('shop-crash', {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now }],
    containerStatuses: [{ name: 'app', image: 'registry.invalid/app:1', imageID: '', ready: false, restartCount: 5, started: false, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } }, lastState: { terminated: { reason: 'Error', exitCode: 1, startedAt: now, finishedAt: now } } }],
  });
  await writeStatus('other-notready', {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now }],
    containerStatuses: [{ name: 'app', image: 'registry.invalid/app:1', imageID: '', ready: false, restartCount: 0, started: true, state: { running: { startedAt: now } } }],
  });

  session = await aliceOnStackWorker(env);
  alice = session.alice;
}, 300_000);

afterAll(async () => {
  await session?.stop();
  // No kubelet finishes their deletion: remove them at once.
  if (admin) for (const p of ['shop-crash', 'other-notready']) await admin.raw('DELETE', `/api/v1/namespaces/${NS}/pods/${p}`, { query: { gracePeriodSeconds: 0 } });
});

describe('workload_logs reads the pods of a workload or selector', () => {
  it('reads the least healthy pods first, says how many of how many, and keeps going past a pod whose log fails', async () => {
    const { res, text, structured } = await call('workload_logs', { kind: 'Deployment', name: 'shop', namespace: NS, maxPods: 2, grep: 'ERROR' });
    expect(res.isError, text).toBeFalsy();
    expect(text).toContain('# 2 of 3 pods of deployment shop (app=shop) read (least healthy first; raise maxPods, max 50, or narrow the selector for the other 1)');
    // The crashlooping pod is read first; its node has no kubelet, so its log is an error line, not a failed call.
    expect(text).toMatch(/# \[shop-crash\/app\] not read: /);
    // The default-container annotation picks app over the sidecar listed first.
    expect(text).toMatch(/^\[shop-[ab]\/app\] 2026-01-01T00:00:03Z ERROR payment provider timeout after 30s$/m);
    expect(text).toContain('# /ERROR/ matched 1 of all 5 lines');
    expect(structured).toMatchObject({ selector: 'app=shop', podsMatched: 3, podsRead: 2 });
    const logs = structured.logs as Array<{ pod: string; container: string; error?: string; matched?: number; searched?: number }>;
    expect(logs[0]).toMatchObject({ pod: 'shop-crash', container: 'app' });
    expect(logs[0]!.error).toBeTruthy();
    expect(logs[1]).toMatchObject({ container: 'app', matched: 1, searched: 5 });
  });

  it('by label selector with allContainers reads init containers too, prefixes pod/container, and honours sinceTime', async () => {
    const { res, text, structured } = await call('workload_logs', { labelSelector: 'app=shop', namespace: NS, allContainers: true, maxPods: 3, sinceTime: '2026-01-01T00:00:03Z' });
    expect(res.isError, text).toBeFalsy();
    for (const c of ['init', 'sidecar', 'app']) {
      expect(text).toContain(`[shop-a/${c}] 2026-01-01T00:00:03Z ERROR payment provider timeout after 30s`);
      expect(text).toContain(`[shop-b/${c}] 2026-01-01T00:00:04Z INFO health check ok`);
    }
    // Lines before sinceTime are not there.
    expect(text).not.toContain('starting web server');
    expect((structured.logs as unknown[]).length).toBe(7);
  });

  it('refuses a call that names neither a workload nor a selector, saying which argument to give', async () => {
    const { res, text } = await call('workload_logs', { namespace: NS });
    expect(res.isError).toBe(true);
    expect(text).toContain('name: required (with kind) unless labelSelector is given');
  });
});

describe('pods_log and pods_exec pick the default container', () => {
  it('pods_log without container reads the annotated container and says so; allContainers reads all three', async () => {
    const one = await call('pods_log', { name: 'shop-a', namespace: NS });
    expect(one.res.isError, one.text).toBeFalsy();
    expect(one.text.split('\n')).toEqual([`# container app (the pod's ${DEFAULT_CONTAINER} annotation; others: sidecar, init)`, ...FAKE_LOG_LINES]);
    const all = await call('pods_log', { name: 'shop-a', namespace: NS, allContainers: true, grep: 'WARN' });
    expect(all.text).toContain('# /WARN/ matched 3 of 15 lines read from 3 logs (all lines of each)');
    expect(all.text.split('\n').filter((l) => l.startsWith('['))).toEqual(['init', 'sidecar', 'app'].map((c) => `[${c}] ${FAKE_LOG_LINES[2]}`));
  });

  it('pods_exec without container runs in the annotated container and says so', async () => {
    const { res, text } = await call('pods_exec', { name: 'shop-a', namespace: NS, command: ['echo', 'hi'] });
    expect(res.isError, text).toBeFalsy();
    expect(text).toMatch(new RegExp(`^# container app \\(the pod's ${DEFAULT_CONTAINER.replace(/\./g, '\\.')} annotation`));
    expect(text).toContain('hi');
  });
});

describe('list views', () => {
  it('pods_list unhealthy shows only the pods with a problem, why, and how many pods were read', async () => {
    const { res, text, structured } = await call('pods_list', { namespace: NS, unhealthy: true });
    expect(res.isError, text).toBeFalsy();
    expect(structured.rows!.map((r) => [r.name, r.problem])).toEqual([
      ['other-notready', 'not Ready'],
      ['shop-crash', 'app: CrashLoopBackOff; app last exit Error (1); not Ready'],
    ]);
    expect(text).toMatch(/^# 2 unhealthy pods among the 4 pods read in namespace kmg-tools-reads\nNAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+PROBLEM\n/);
    expect(text).toMatch(/shop-crash\s+0\/1\s+CrashLoopBackOff\s+5 .*app: CrashLoopBackOff/);
    expect(structured.podsRead).toBe(4);
  });

  it('pods_list wide and showLabels add the node, IP and labels to the text and to every row', async () => {
    const { text, structured } = await call('pods_list', { namespace: NS, labelSelector: 'app=shop', wide: true, showLabels: true });
    expect(text).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\s+LABELS$/m);
    const a = structured.rows!.find((r) => r.name === 'shop-a')!;
    expect(a).toMatchObject({ node, labels: 'app=shop' });
    expect(a.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(text).toMatch(new RegExp(`shop-a\\s+2/2\\s+Running\\s+0\\s+\\S+\\s+${a.ip!.replace(/\./g, '\\.')}\\s+${node}\\s+<none>\\s+<none>\\s+app=shop`));
  });

  it('resources_list fields projects paths into columns, rows keyed by the expression', async () => {
    const fields = ['.spec.template.spec.containers[*].image', '.metadata.labels.team', '.spec.replicas'];
    const { res, text, structured } = await call('resources_list', { kind: 'Deployment', namespace: NS, fields });
    expect(res.isError, text).toBeFalsy();
    expect(text).toMatch(/^NAME\s+\.spec\.template\.spec\.containers\[\*\]\.image\s+\.metadata\.labels\.team\s+\.spec\.replicas\nshop\s+registry\.invalid\/proxy:1,registry\.invalid\/shop:1\s+checkout\s+3$/m);
    expect(structured.rows).toEqual([{ name: 'shop', [fields[0]!]: 'registry.invalid/proxy:1,registry.invalid/shop:1', [fields[1]!]: 'checkout', [fields[2]!]: '3' }]);
  });

  it('fields never read a Secret value: data and the last-applied annotation are masked in text and rows', async () => {
    const needle = `reads-needle-${Date.now()}`;
    await admin.raw('DELETE', `/api/v1/namespaces/${NS}/secrets/projected`);
    await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'projected', namespace: NS, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ stringData: { password: needle } }) } },
      type: 'Opaque', stringData: { password: needle },
    });
    const { res, text } = await call('resources_list', { kind: 'Secret', namespace: NS, fields: ['.data.password', '.data', '.metadata.annotations', '.stringData'] });
    expect(res.isError, text).toBeFalsy();
    const all = JSON.stringify(res);
    for (const form of [needle, Buffer.from(needle).toString('base64'), Buffer.from(needle).toString('base64').replace(/=+$/, '')]) expect(all).not.toContain(form);
    expect(text).toMatch(/^projected\s+\*\*\*\s+\{"password":"\*\*\*"\}\s+\{"kubectl\.kubernetes\.io\/last-applied-configuration":"\*\*\*"\}\s+<none>$/m);
  });

  it('nodes_list wide shows what kubectl -o wide adds', async () => {
    const { text, structured } = await call('nodes_list', { wide: true });
    expect(text).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/m);
    expect(structured.rows!.find((r) => r.name === node)).toHaveProperty('internalIp');
  });

  it('a field path it cannot read is an isError result naming the field', async () => {
    const { res, text } = await call('resources_list', { kind: 'Deployment', namespace: NS, fields: ['.spec.replicas', '.spec.template.spec.containers[0:2]'] });
    expect(res.isError).toBe(true);
    expect(text).toMatch(/^Invalid arguments for resources_list: fields\.1: "\.spec\.template\.spec\.containers\[0:2\]" has \[0:2\] at position \d+; only \[\*\], \[N\] and \['key'\] are supported/);
  });

  it('api_resources_list returns its rows in structuredContent, the columns the text shows', async () => {
    const { text, structured } = await call('api_resources_list', { group: 'apps' });
    expect(structured.count).toBe(structured.rows!.length);
    expect(text.split('\n')).toHaveLength(structured.rows!.length + 1);
    expect(structured.rows).toContainEqual({ name: 'deployments', shortnames: 'deploy', apiversion: 'apps/v1', namespaced: 'true', kind: 'Deployment', verbs: expect.stringContaining('list') });
  });
});
