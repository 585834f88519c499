// Cluster seed: RBAC for the Keycloak groups, two fake nodes, namespaces team-a/team-b with Deployments
// and their pods (created directly with nodeName: there is no controller-manager), Services, ConfigMaps,
// a Secret for masking tests and some Events, and read access to metrics.k8s.io for view/edit/admin (the role
// metrics-server ships). The nodes get a realistic CPU/memory allocatable and a fixed emulated usage. Finishes by proving the OIDC path end to end (alice's
// exchanged token passes SelfSubjectReview), so a stack that reports "up" accepts Keycloak tokens.
import type { Component, StackContext } from '../component.js';
import { request, type HttpResult } from '../http.js';
import { FAKE_NODE_ANNOTATION, RESOURCE_METRICS_PATH_ANNOTATION, resourceMetricsPath, USAGE_CPU_ANNOTATION, USAGE_MEMORY_ANNOTATION } from './kwok.js';
import { exchangeForCluster, passwordGrant } from '../tokens.js';

export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

export const SEED_SECRET_VALUE = 's3cr3t-value';
export const NODES = ['kwok-node-0', 'kwok-node-1'];
/** CPU and memory allocatable of each node (kwok's default, 1k cores and 1Ti, would make every % round to 0). */
export const NODE_ALLOCATABLE = { cpu: '8', memory: '32Gi' };
/** The usage kwok reports for each node (the nodes' usage annotations). */
export const NODE_USAGE: Record<string, { cpu: string; memory: string }> = {
  'kwok-node-0': { cpu: '2', memory: '8Gi' },
  'kwok-node-1': { cpu: '4', memory: '24Gi' },
};

const plural: Record<string, string> = {
  Namespace: 'namespaces', Node: 'nodes', Pod: 'pods', Service: 'services', ConfigMap: 'configmaps', Secret: 'secrets',
  Event: 'events', Deployment: 'deployments', ClusterRoleBinding: 'clusterrolebindings', ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
};

export function collectionPath(o: Obj): string {
  const base = o.apiVersion === 'v1' ? '/api/v1' : `/apis/${o.apiVersion}`;
  const ns = o.metadata.namespace ? `/namespaces/${o.metadata.namespace}` : '';
  const p = plural[o.kind];
  if (!p) throw new Error(`no resource path for ${o.kind}`);
  return `${base}${ns}/${p}`;
}

export function clusterRoleBinding(name: string, subject: { kind: 'Group' | 'User'; name: string }, role: string): Obj {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', ...subject }],
  };
}

/** The stack's RBAC: Keycloak's groups, as the apiserver's JWT authenticator prefixes them. */
const OIDC_BINDINGS: Obj[] = [
  clusterRoleBinding('oidc-k8s-admins', { kind: 'Group', name: 'oidc:k8s-admins' }, 'cluster-admin'),
  clusterRoleBinding('oidc-k8s-viewers', { kind: 'Group', name: 'oidc:k8s-viewers' }, 'view'),
];

/** metrics-server's own reader role: who may view, edit or admin may read metrics.k8s.io. */
const METRICS_READER: Obj = {
  apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
  metadata: { name: 'system:aggregated-metrics-reader', labels: Object.fromEntries(['view', 'edit', 'admin'].map((r) => [`rbac.authorization.k8s.io/aggregate-to-${r}`, 'true'])) },
  rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
};

/** What makes a node report metrics: where metrics-server scrapes it, and the usage kwok reports. */
function nodeAnnotations(name: string): Record<string, string> {
  const usage = NODE_USAGE[name];
  return {
    [RESOURCE_METRICS_PATH_ANNOTATION]: resourceMetricsPath(name),
    ...(usage ? { [USAGE_CPU_ANNOTATION]: usage.cpu, [USAGE_MEMORY_ANNOTATION]: usage.memory } : {}),
  };
}

function node(name: string): Obj {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, annotations: { [FAKE_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0', ...nodeAnnotations(name) },
      labels: { type: 'kwok', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } },
    spec: {},
  };
}

interface App { ns: string; name: string; replicas: number; containers: string[]; port: number }

function appObjects(app: App): Obj[] {
  const labels = { app: app.name };
  const containers = app.containers.map((c, i) => ({
    name: c, image: `registry.example.test/${app.name}-${c}:1.0`,
    ports: i === 0 ? [{ name: 'http', containerPort: app.port }] : [],
    env: i === 0 ? [{ name: 'LOG_LEVEL', valueFrom: { configMapKeyRef: { name: `${app.name}-config`, key: 'LOG_LEVEL' } } }] : [],
  }));
  const objs: Obj[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${app.name}-config`, namespace: app.ns },
      data: { LOG_LEVEL: 'info', 'app.properties': `name=${app.name}\nretries=3\n` } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app.name, namespace: app.ns, labels },
      spec: { replicas: app.replicas, selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers } } } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: app.name, namespace: app.ns, labels },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: app.port }] } },
  ];
  for (let i = 0; i < app.replicas; i++) {
    objs.push({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: `${app.name}-7d9f8b6c5d-${['x2k4p', 'q8m3n', 'z7v1c'][i] ?? String(i)}`, namespace: app.ns,
        labels: { ...labels, 'pod-template-hash': '7d9f8b6c5d' } },
      spec: { nodeName: NODES[i % NODES.length], containers, automountServiceAccountToken: false,
        tolerations: [{ key: FAKE_NODE_ANNOTATION, operator: 'Exists', effect: 'NoSchedule' }] },
    });
  }
  return objs;
}

function event(ns: string, pod: string, nodeName: string, type: 'Normal' | 'Warning', reason: string, message: string, n: number): Obj {
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1', kind: 'Event', metadata: { name: `${pod}.seed${n}`, namespace: ns },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod, namespace: ns },
    type, reason, message, count: 1, firstTimestamp: at, lastTimestamp: at,
    source: { component: 'kubelet', host: nodeName },
  };
}

/** Nodes, namespaces, workloads, Services, ConfigMaps, a Secret and Events, after the given RBAC objects. */
export function seedObjects(rbac: Obj[] = OIDC_BINDINGS): Obj[] {
  const apps: App[] = [
    { ns: 'team-a', name: 'web', replicas: 2, containers: ['app'], port: 8080 },
    { ns: 'team-b', name: 'api', replicas: 1, containers: ['app', 'proxy'], port: 9090 },
  ];
  const objs: Obj[] = [
    ...rbac,
    METRICS_READER,
    ...NODES.map(node),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'a' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b', labels: { team: 'b' } } },
    ...apps.flatMap(appObjects),
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-credentials', namespace: 'team-a' }, type: 'Opaque',
      stringData: { username: 'web', password: SEED_SECRET_VALUE, 'api-token': 'tok-9f8e7d6c5b4a' } },
    event('team-a', 'web-7d9f8b6c5d-x2k4p', NODES[0]!, 'Normal', 'Scheduled', 'Successfully assigned team-a/web-7d9f8b6c5d-x2k4p to kwok-node-0', 1),
    event('team-a', 'web-7d9f8b6c5d-x2k4p', NODES[0]!, 'Normal', 'Started', 'Started container app', 2),
    event('team-a', 'web-7d9f8b6c5d-q8m3n', NODES[1]!, 'Warning', 'BackOff', 'Back-off restarting failed container app', 3),
    event('team-b', 'api-7d9f8b6c5d-x2k4p', NODES[0]!, 'Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', 4),
  ];
  return objs;
}

export function admin(env: Record<string, string>) {
  const tls = { caFile: env.STACK_CA_FILE, certFile: env.STACK_ADMIN_CERT_FILE, keyFile: env.STACK_ADMIN_KEY_FILE };
  return (method: string, path: string, body?: unknown): Promise<HttpResult> => request(`${env.KUBE_APISERVER_URL}${path}`, {
    ...tls, method, headers: body === undefined ? {} : { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * The ClusterRole aggregation controller lives in the controller-manager, which this stack does not run,
 * so `view`, `edit` and `admin` would stay empty: fill their rules from the roles that aggregate into them.
 */
async function aggregateClusterRoles(call: ReturnType<typeof admin>): Promise<void> {
  type Role = { metadata: { name: string }; rules?: unknown[] };
  for (const target of ['view', 'edit', 'admin']) {
    const res = await call('GET', `/apis/rbac.authorization.k8s.io/v1/clusterroles?labelSelector=${encodeURIComponent(`rbac.authorization.k8s.io/aggregate-to-${target}=true`)}`);
    if (res.status !== 200) throw new Error(`listing roles aggregated into ${target}: ${res.status}`);
    const rules = (JSON.parse(res.text) as { items: Role[] }).items.flatMap((r) => r.rules ?? []);
    const patch = await call('PATCH', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${target}`, { rules });
    if (patch.status !== 200) throw new Error(`filling ClusterRole ${target}: ${patch.status} ${patch.text.slice(0, 200)}`);
  }
}

/**
 * Creates the seed objects (with `rbac` first) as the admin, points the nodes at kwok and waits until kwok
 * runs every seeded pod. Shared by the stack and npm start's built-in cluster.
 */
export async function seedCluster(ctx: StackContext, rbac?: Obj[]): Promise<void> {
  const env = ctx.env;
  const call = admin(env);
  for (const o of seedObjects(rbac)) {
    const res = await call('POST', collectionPath(o), o);
    if (res.status !== 201 && res.status !== 409) ctx.fail(`creating ${o.kind} ${o.metadata.name}: ${res.status} ${res.text.slice(0, 300)}`);
  }
  // After the roles exist: the metrics reader role aggregates into view, edit and admin.
  await aggregateClusterRoles(call);
  // A restarted kwok listens on a new port, but nodes it initialised earlier keep the old one; nodes seeded
  // by an earlier version of this file get today's annotations and allocatable.
  const kwokPort = Number(new URL(env.KWOK_URL!).port);
  for (const name of NODES) {
    const meta = await call('PATCH', `/api/v1/nodes/${name}`, { metadata: { annotations: nodeAnnotations(name) } });
    if (meta.status !== 200) ctx.fail(`annotating node ${name}: ${meta.status} ${meta.text.slice(0, 200)}`);
    const res = await call('PATCH', `/api/v1/nodes/${name}/status`, {
      status: { daemonEndpoints: { kubeletEndpoint: { Port: kwokPort } }, capacity: NODE_ALLOCATABLE, allocatable: NODE_ALLOCATABLE },
    });
    if (res.status !== 200) ctx.fail(`pointing node ${name} at kwok: ${res.status} ${res.text.slice(0, 200)}`);
  }
  ctx.progress('created RBAC, nodes, namespaces, workloads, secret, events; waiting for kwok to run the pods');
  await ctx.waitFor('every seeded pod Running', async () => {
    const res = await call('GET', '/api/v1/pods?labelSelector=pod-template-hash%3D7d9f8b6c5d');
    const pods = (JSON.parse(res.text) as { items: { status?: { phase?: string } }[] }).items;
    return pods.length === 3 && pods.every((p) => p.status?.phase === 'Running');
  }, { timeoutMs: 120_000, intervalMs: 500 });
}

export const seed: Component = {
  name: 'seed',
  dependsOn: ['keycloak', 'kube-apiserver', 'kwok'],
  async up(ctx) {
    const env = ctx.env;
    await seedCluster(ctx);
    ctx.progress('pods Running; proving that the apiserver accepts an exchanged Keycloak token');
    await ctx.waitFor('alice\'s exchanged token to pass SelfSubjectReview', async () => {
      const user = await passwordGrant(env, 'alice', env.ALICE_PASSWORD!);
      const token = await exchangeForCluster(env, user.access_token);
      const res = await request(`${env.KUBE_APISERVER_URL}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
        caFile: env.STACK_CA_FILE, method: 'POST',
        headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
      });
      return res.status === 201 && res.text.includes('oidc:alice');
    }, { timeoutMs: 120_000, intervalMs: 1000 });
    return { SEED_SECRET_VALUE, KWOK_NODES: NODES.join(',') };
  },
  async check(env) {
    const res = await admin(env)('GET', '/api/v1/namespaces/team-a/pods?labelSelector=app%3Dweb');
    if (res.status !== 200) throw new Error(`listing team-a pods: ${res.status}`);
    const pods = (JSON.parse(res.text) as { items: unknown[] }).items;
    if (pods.length === 0) throw new Error('seeded pods missing');
    const view = await admin(env)('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/view');
    if (!/"rules":\[\{/.test(view.text)) throw new Error('ClusterRole view has no rules (aggregation not applied)');
  },
};
