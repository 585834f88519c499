// Agent-task section: the MCP calls and response bytes each server needs to answer five SRE questions, ours
// (the worker over stdio) against containers/kubernetes-mcp-server (its stdio mode), both with the stack's admin
// kubeconfig and a real MCP SDK client, on objects this section creates. Each question is the minimal honest
// sequence of calls an agent would make with that server's tools; the section also checks that the answer's
// evidence is in what each server returned. KMG_BENCH_AGENT_DUMP=<dir> writes each side's text there.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { repoRoot } from '../../stack/env.js';
import { adminRest, ensure, ensureNamespace, waitForPodUsage } from '../../worker/helpers.js';
import { USAGE_CPU_ANNOTATION, USAGE_MEMORY_ANNOTATION } from '../../stack/components/kwok.js';
import { METRIC_RESOLUTION_SECONDS } from '../../stack/components/metrics-server.js';
import { NODES } from '../../stack/components/seed.js';
import { installKms, KMS_VERSION } from '../kubernetes-mcp-server.js';
import type { BenchResult, BenchRow, BenchSection } from '../section.js';

const NS = 'kmg-bench-agent';
const NS_A = 'kmg-bench-agent-a';
const NS_Z = 'kmg-bench-agent-z';
/** No kubelet (kwok) manages this node, so pod statuses written here stay as written. */
const UNMANAGED_NODE = 'kmg-no-kubelet';
const REASON = 'KmgBenchAgent';
/** Pods on kwok's nodes whose emulated memory use tops the cluster (metrics-server reports it as Mi). */
const MEMORY_HOGS = [
  { pod: 'search-indexer-0', memory: '2048Mi', cpu: '900m' },
  { pod: 'report-worker-0', memory: '1536Mi', cpu: '300m' },
  { pod: 'session-cache-0', memory: '1024Mi', cpu: '150m' },
];

interface Call {
  tool: string;
  args: Record<string, unknown>;
}

interface Question {
  name: string;
  ours: Call[];
  theirs: Call[];
  /** What the answer needs to see; a side whose output lacks any of these did not answer. */
  evidence: RegExp[];
}

const QUESTIONS: Question[] = [
  {
    name: 'crashloop cause (Deployment checkout)',
    ours: [{ tool: 'workload_diagnose', args: { kind: 'Deployment', name: 'checkout', namespace: NS } }],
    // The pod's name is not in the question: list by the Deployment's selector, then read the pod.
    theirs: [
      { tool: 'pods_list_in_namespace', args: { namespace: NS, labelSelector: 'app=checkout' } },
      { tool: 'pods_get', args: { namespace: NS, name: 'checkout-5d8f7c9b4-x2x7q' } },
    ],
    evidence: [/CrashLoopBackOff/, /OOMKilled/, /137/],
  },
  {
    name: 'stuck rollout (Deployment payments)',
    ours: [{ tool: 'workload_diagnose', args: { kind: 'Deployment', name: 'payments', namespace: NS } }],
    theirs: [
      { tool: 'resources_get', args: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'payments' } },
      { tool: 'pods_list_in_namespace', args: { namespace: NS, labelSelector: 'app=payments' } },
    ],
    evidence: [/ProgressDeadlineExceeded/, /ImagePullBackOff/],
  },
  {
    name: 'recent warnings across namespaces',
    ours: [{ tool: 'events_list', args: { type: 'Warning', since: '1h' } }],
    theirs: [{ tool: 'events_list', args: { fieldSelector: 'type=Warning' } }],
    evidence: [/newest bench warning/, /older bench warning/],
  },
  {
    name: 'top memory pods',
    ours: [{ tool: 'pods_top', args: { sortBy: 'memory', limit: 10 } }],
    theirs: [{ tool: 'pods_top', args: { all_namespaces: true } }],
    // Each of the three biggest pods with its memory figure on its line.
    evidence: MEMORY_HOGS.map((h) => new RegExp(`${h.pod}\\b.*\\b${h.memory}\\b`)),
  },
  {
    name: 'which Secrets Deployment api-gw mounts',
    // workload_diagnose lists what the pod template references and whether each exists (metadata only).
    ours: [{ tool: 'workload_diagnose', args: { kind: 'Deployment', name: 'api-gw', namespace: NS } }],
    theirs: [{ tool: 'resources_get', args: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'api-gw' } }],
    evidence: [/api-gw-tls/, /api-gw-db/, /api-gw-env/],
  },
];

async function writeStatus(admin: KubeRest, objectPath: string, status: unknown): Promise<void> {
  const res = await admin.raw('PATCH', `${objectPath}/status`, { body: { status }, contentType: 'application/merge-patch+json' });
  if (res.status !== 200) throw new Error(`status ${objectPath}: ${res.status} ${res.text.slice(0, 300)}`);
}

const container = (name: string, image: string, extra: Record<string, unknown> = {}) => ({ name, image, ...extra });

/** A Deployment, one ReplicaSet per revision (owned by it) and one pod per ReplicaSet, statuses written as given. */
async function workload(admin: KubeRest, name: string, revisions: Array<{ hash: string; image: string; pod: string; podStatus: unknown; replicas: number }>, status: unknown): Promise<void> {
  const depPath = `/apis/apps/v1/namespaces/${NS}/deployments/${name}`;
  const latest = revisions.at(-1)!;
  await ensure(admin, `/apis/apps/v1/namespaces/${NS}/deployments`, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [container('app', latest.image)] } } },
  });
  const dep = await admin.get<{ metadata: { uid: string } }>(depPath);
  await writeStatus(admin, depPath, status);
  for (const [i, r] of revisions.entries()) {
    const labels = { app: name, 'pod-template-hash': r.hash };
    await ensure(admin, `/apis/apps/v1/namespaces/${NS}/replicasets`, {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: { name: `${name}-${r.hash}`, namespace: NS, labels, annotations: { 'deployment.kubernetes.io/revision': String(i + 1) }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: dep.metadata.uid, controller: true }] },
      spec: { replicas: r.replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [container('app', r.image)] } } },
    });
    const rs = await admin.get<{ metadata: { uid: string } }>(`/apis/apps/v1/namespaces/${NS}/replicasets/${name}-${r.hash}`);
    await ensure(admin, `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: r.pod, namespace: NS, labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-${r.hash}`, uid: rs.metadata.uid, controller: true }] },
      spec: { nodeName: UNMANAGED_NODE, containers: [container('app', r.image, { resources: { requests: { memory: '128Mi', cpu: '100m' }, limits: { memory: '256Mi' } } })] },
    });
    await writeStatus(admin, `/api/v1/namespaces/${NS}/pods/${r.pod}`, r.podStatus);
  }
}

function warning(ns: string, name: string, object: string, minutesAgo: number, reason: string, message: string, count = 1, uid?: string) {
  const t = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  return {
    apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: ns, labels: { bench: REASON } },
    involvedObject: { kind: 'Pod', name: object, namespace: ns, apiVersion: 'v1', ...(uid ? { uid } : {}) },
    type: 'Warning', reason, message, count, firstTimestamp: t, lastTimestamp: t, source: { component: 'kmg-bench' },
  };
}

/**
 * A pod status as a kubelet writes it (five conditions, host and pod IPs, start time, container and image IDs), so
 * both servers read objects of the size a real cluster returns. `ready` false adds the reason kubelet gives.
 */
function kubeletStatus(phase: string, ready: boolean, container: Record<string, unknown>, ip: string): Record<string, unknown> {
  const now = new Date().toISOString();
  const cond = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now, ...(ok ? {} : { reason: 'ContainersNotReady', message: 'containers with unready status: [app]' }) });
  return {
    phase,
    conditions: [cond('PodReadyToStartContainers', true), cond('Initialized', true), cond('Ready', ready), cond('ContainersReady', ready), cond('PodScheduled', true)],
    hostIP: '10.0.0.17', hostIPs: [{ ip: '10.0.0.17' }], podIP: ip, podIPs: [{ ip }], startTime: now, qosClass: 'Burstable',
    containerStatuses: [{ name: 'app', ready, started: ready, imageID: ready ? `${String(container.image)}@sha256:${'4f'.repeat(32)}` : '', containerID: ready || container.lastState ? `containerd://${'9c'.repeat(32)}` : undefined, ...container }],
  };
}

async function setUp(admin: KubeRest): Promise<void> {
  for (const ns of [NS, NS_A, NS_Z]) await ensureNamespace(admin, ns);
  const now = new Date().toISOString();
  const ready = (image: string) => kubeletStatus('Running', true, { image, restartCount: 0, state: { running: { startedAt: now } } }, '10.244.1.12');

  await workload(admin, 'checkout', [{
    hash: '5d8f7c9b4', image: 'registry.invalid/checkout:1', pod: 'checkout-5d8f7c9b4-x2x7q', replicas: 1,
    podStatus: kubeletStatus('Running', false, { image: 'registry.invalid/checkout:1', restartCount: 7, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=app pod=checkout-5d8f7c9b4-x2x7q_kmg-bench-agent' } }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: now, finishedAt: now, containerID: `containerd://${'7a'.repeat(32)}` } } }, '10.244.1.11'),
  }], { observedGeneration: 1, replicas: 1, updatedReplicas: 1, unavailableReplicas: 1, conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', lastUpdateTime: now, lastTransitionTime: now }] });

  await workload(admin, 'payments', [
    { hash: '6b7c8d9f1', image: 'registry.invalid/payments:1', pod: 'payments-6b7c8d9f1-a1b2c', replicas: 1, podStatus: ready('registry.invalid/payments:1') },
    {
      hash: '7c8d9f1a2', image: 'registry.invalid/payments:2', pod: 'payments-7c8d9f1a2-d3e4f', replicas: 1,
      podStatus: kubeletStatus('Pending', false, { image: 'registry.invalid/payments:2', restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.invalid/payments:2": not found' } } }, '10.244.1.13'),
    },
  ], {
    observedGeneration: 1, replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1, unavailableReplicas: 1,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastUpdateTime: now, lastTransitionTime: now },
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "payments-7c8d9f1a2" has timed out progressing.', lastUpdateTime: now, lastTransitionTime: now },
    ],
  });

  // Every cluster's namespaces have a default ServiceAccount; no controller-manager runs here to create it.
  await ensure(admin, `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: NS } });
  for (const s of ['api-gw-tls', 'api-gw-db', 'api-gw-env']) {
    await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: s, namespace: NS }, type: 'Opaque', data: { value: Buffer.from(`bench-${s}`).toString('base64') } });
  }
  await ensure(admin, `/apis/apps/v1/namespaces/${NS}/deployments`, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api-gw', namespace: NS, labels: { app: 'api-gw' } },
    spec: {
      replicas: 2, selector: { matchLabels: { app: 'api-gw' } },
      template: {
        metadata: { labels: { app: 'api-gw' } },
        spec: {
          containers: [container('gw', 'registry.invalid/api-gw:3', {
            ports: [{ containerPort: 8443, name: 'https' }],
            env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'api-gw-db', key: 'value' } } }, { name: 'LOG_LEVEL', value: 'info' }],
            envFrom: [{ secretRef: { name: 'api-gw-env' } }],
            volumeMounts: [{ name: 'tls', mountPath: '/etc/tls', readOnly: true }, { name: 'config', mountPath: '/etc/api-gw' }],
            readinessProbe: { httpGet: { path: '/healthz', port: 8443, scheme: 'HTTPS' } },
            resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '512Mi' } },
          })],
          volumes: [{ name: 'tls', secret: { secretName: 'api-gw-tls' } }, { name: 'config', configMap: { name: 'api-gw-config' } }],
        },
      },
    },
  });

  // Warnings: the newest in the alphabetically last namespace, an older one repeated; each run replaces its own.
  const stamp = Date.now();
  for (const ns of [NS, NS_A, NS_Z]) await admin.raw('DELETE', `/api/v1/namespaces/${ns}/events`, { query: { labelSelector: `bench=${REASON}` } });
  await ensure(admin, `/api/v1/namespaces/${NS_Z}/events`, warning(NS_Z, `z.${stamp}`, 'web-0', 1, 'Unhealthy', 'newest bench warning: readiness probe failed'));
  await ensure(admin, `/api/v1/namespaces/${NS_A}/events`, warning(NS_A, `a.${stamp}`, 'web-1', 40, 'FailedMount', 'older bench warning: secret "missing" not found', 6));
  const uid = async (pod: string) => (await admin.get<{ metadata: { uid: string } }>(`/api/v1/namespaces/${NS}/pods/${pod}`)).metadata.uid;
  await ensure(admin, `/api/v1/namespaces/${NS}/events`, warning(NS, `c.${stamp}`, 'checkout-5d8f7c9b4-x2x7q', 3, 'BackOff', 'Back-off restarting failed container app in pod checkout-5d8f7c9b4-x2x7q_kmg-bench-agent', 40, await uid('checkout-5d8f7c9b4-x2x7q')));
  await ensure(admin, `/api/v1/namespaces/${NS}/events`, warning(NS, `p.${stamp}`, 'payments-7c8d9f1a2-d3e4f', 5, 'Failed', 'Failed to pull image "registry.invalid/payments:2": not found', 12, await uid('payments-7c8d9f1a2-d3e4f')));

  // Top memory pods: kwok reports the usage their annotations set; kept across runs (a new pod takes a scrape
  // or two to show).
  for (const [i, h] of MEMORY_HOGS.entries()) {
    await ensure(admin, `/api/v1/namespaces/${NS}/pods`, {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: h.pod, namespace: NS, labels: { app: h.pod.replace(/-0$/, '') }, annotations: { [USAGE_MEMORY_ANNOTATION]: h.memory, [USAGE_CPU_ANNOTATION]: h.cpu } },
      spec: { nodeName: NODES[i % NODES.length], containers: [container('app', `registry.invalid/${h.pod.replace(/-0$/, '')}:1`, { resources: { requests: { memory: '1Gi', cpu: '250m' }, limits: { memory: '3Gi' } } })] },
    });
  }
  // metrics-server reports a new pod after a scrape or two: a bounded poll until all three show their usage.
  await waitForPodUsage(admin, NS, Object.fromEntries(MEMORY_HOGS.map((h) => [h.pod, { app: { cpu: h.cpu, memory: h.memory } }])), 12 * METRIC_RESOLUTION_SECONDS * 1000);
}

interface Tally {
  calls: number;
  textBytes: number;
  jsonBytes: number;
  text: string;
  errors: number;
}

async function stdioClient(command: string, args: string[], env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'kmg-bench-agent', version: '0' });
  await client.connect(new StdioClientTransport({ command, args, env: { PATH: process.env.PATH ?? '', ...env }, stderr: 'ignore' }));
  return client;
}

async function ask(client: Client, calls: Call[]): Promise<Tally> {
  const t: Tally = { calls: 0, textBytes: 0, jsonBytes: 0, text: '', errors: 0 };
  for (const c of calls) {
    const res = await client.callTool({ name: c.tool, arguments: c.args });
    const text = ((res.content ?? []) as Array<{ type: string; text?: string }>).filter((x) => x.type === 'text').map((x) => x.text ?? '').join('\n');
    t.calls++;
    t.textBytes += Buffer.byteLength(text);
    t.jsonBytes += Buffer.byteLength(JSON.stringify(res));
    t.text += `${text}\n`;
    if (res.isError) t.errors++;
  }
  return t;
}

const section: BenchSection = {
  name: 'agent-task',
  async run(ctx): Promise<BenchResult> {
    const admin = adminRest(ctx.env);
    ctx.report(`creating the objects of five SRE questions in ${NS}, ${NS_A}, ${NS_Z}`);
    await setUp(admin);
    const kubeconfig = ctx.env.KUBECONFIG_ADMIN;
    if (!kubeconfig) throw new Error('the stack env has no KUBECONFIG_ADMIN');
    const bin = await installKms(ctx);
    const home = mkdtempSync(path.join(tmpdir(), 'kmg-bench-agent-'));
    const ours = await stdioClient(process.execPath, [path.join(repoRoot, 'worker', 'dist', 'main.js'), '--stdio'], { KUBECONFIG: kubeconfig, HOME: home, LOG_LEVEL: 'warn' });
    const theirs = await stdioClient(bin, ['--kubeconfig', kubeconfig, '--disable-multi-cluster', '--read-only', '--toolsets', 'core'], { HOME: home });
    const baselineName = `kubernetes-mcp-server ${KMS_VERSION}`;
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    const total = { ours: { calls: 0, text: 0, json: 0 }, theirs: { calls: 0, text: 0, json: 0 } };
    try {
      for (const q of QUESTIONS) {
        ctx.report(q.name);
        const o = await ask(ours, q.ours);
        const t = await ask(theirs, q.theirs);
        if (process.env.KMG_BENCH_AGENT_DUMP) {
          mkdirSync(process.env.KMG_BENCH_AGENT_DUMP, { recursive: true });
          const slug = q.name.replace(/[^a-z]+/gi, '-').toLowerCase();
          writeFileSync(path.join(process.env.KMG_BENCH_AGENT_DUMP, `${slug}.ours.txt`), o.text);
          writeFileSync(path.join(process.env.KMG_BENCH_AGENT_DUMP, `${slug}.theirs.txt`), t.text);
        }
        const found = (x: Tally) => q.evidence.every((e) => e.test(x.text));
        const answered = (x: Tally) => (found(x) ? 'yes' : x.errors === x.calls ? 'no (tool error)' : 'no');
        rows.push(
          { metric: `${q.name}: calls`, ours: o.calls, baseline: t.calls, baselineName, target: 'fewer', met: o.calls < t.calls },
          { metric: `${q.name}: response bytes`, ours: o.textBytes, baseline: t.textBytes, baselineName, unit: 'B', target: 'ratio ≤ 0.5', met: o.textBytes <= 0.5 * t.textBytes },
          { metric: `${q.name}: answer in the output`, ours: answered(o), baseline: answered(t), baselineName },
        );
        notes.push(`${q.name}: ours ${q.ours.map((c) => `${c.tool} ${JSON.stringify(c.args)}`).join(' → ')}; theirs ${q.theirs.map((c) => `${c.tool} ${JSON.stringify(c.args)}`).join(' → ')}.`);
        if (o.errors || t.errors) notes.push(`${q.name}: tool errors, ours ${o.errors}, theirs ${t.errors}: ours "${o.text.trim().slice(0, 160)}"; theirs "${t.text.trim().slice(0, 160)}"`);
        total.ours.calls += o.calls;
        total.ours.text += o.textBytes;
        total.ours.json += o.jsonBytes;
        total.theirs.calls += t.calls;
        total.theirs.text += t.textBytes;
        total.theirs.json += t.jsonBytes;
      }
    } finally {
      await Promise.allSettled([ours.close(), theirs.close()]);
    }
    rows.push(
      { metric: 'all five questions: calls', ours: total.ours.calls, baseline: total.theirs.calls, baselineName, target: 'fewer', met: total.ours.calls < total.theirs.calls },
      { metric: 'all five questions: response bytes (text the model reads)', ours: total.ours.text, baseline: total.theirs.text, baselineName, unit: 'B', target: 'ratio ≤ 0.5', met: total.ours.text <= 0.5 * total.theirs.text },
      { metric: 'all five questions: whole results (JSON, with structuredContent)', ours: total.ours.json, baseline: total.theirs.json, baselineName, unit: 'B' },
    );
    notes.unshift(
      'Both servers over stdio with the stack admin kubeconfig, one @modelcontextprotocol/sdk client each; theirs with --read-only --toolsets core --disable-multi-cluster (table list output, its default); ours with its defaults (64 KiB byte budget). Bytes are the text content of each result; "answer in the output" checks the evidence the question needs (exit reason and code, rollout condition and pull error, both bench warnings, memory figures, the three Secret names).',
      `top memory pods: metrics-server scrapes kwok, which reports the usage set on the section's three pods (${MEMORY_HOGS.map((h) => `${h.pod} ${h.memory}`).join(', ')}, the cluster's biggest); theirs lists every pod in the cluster, so its bytes grow with what other suites left running.`,
    );
    return { rows, versions: { 'kubernetes-mcp-server': KMS_VERSION, 'kube-mcp-worker': '0.1.0 (worker/dist, stdio)' }, notes };
  },
};

export default section;
