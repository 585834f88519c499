// What an SRE's agent asks first, against the real apiserver: a crashlooping pod (on a node kwok does
// not manage, its status written through the status subresource), an unavailable Deployment and a
// failed Job in cluster_health; events newest first across namespaces and folded; Helm's default
// statuses; apiserver warnings, strict field validation and per-user field managers on apply.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { b64 } from './fixtures.js';
import { adminRest, aliceOnStackWorker, type AliceSession, ensure, ensureNamespace, textOf } from './helpers.js';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { gzipSync } from 'node:zlib';

const NS = 'kmg-tools-sre';
const OLD_NS = 'aaa-kmg-tools-sre';
const NEW_NS = 'zzz-kmg-tools-sre';
const PSA_NS = 'kmg-tools-psa';
const UNMANAGED_NODE = 'kmg-no-kubelet';
const REASON = 'KmgToolsProbe';
const REFS_SECRET_VALUE = 'kmg-refs-secret-value-7f3a';

let env: StackEnv;
let admin: KubeRest;
let session: AliceSession | undefined;
let alice: Client;

async function writeStatus(path: string, status: unknown): Promise<void> {
  const res = await admin.raw('PATCH', `${path}/status`, { body: { status }, contentType: 'application/merge-patch+json' });
  if (res.status !== 200) throw new Error(`status ${path}: ${res.status} ${res.text.slice(0, 300)}`);
}

function event(ns: string, name: string, minutesAgo: number, count: number, message: string) {
  const t = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  return {
    apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: ns },
    involvedObject: { kind: 'Pod', name: 'crashy', namespace: ns, apiVersion: 'v1' },
    type: 'Warning', reason: REASON, message, count, firstTimestamp: t, lastTimestamp: t, source: { component: 'kmg-tools-it' },
  };
}

function helmSecret(name: string, version: number, status: string) {
  const release = { name, namespace: NS, version, info: { status, last_deployed: new Date().toISOString() }, chart: { metadata: { name, version: '0.1.0', appVersion: '1' } }, config: {} };
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'helm.sh/release.v1',
    metadata: { name: `sh.helm.release.v1.${name}.v${version}`, namespace: NS, labels: { owner: 'helm', name, version: String(version), status } },
    data: { release: b64(gzipSync(Buffer.from(JSON.stringify(release))).toString('base64')) },
  };
}

beforeAll(async () => {
  env = loadStackEnv();
  admin = adminRest(env);
  for (const ns of [NS, OLD_NS, NEW_NS]) await ensureNamespace(admin, ns);
  await ensure(admin, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PSA_NS, labels: { 'pod-security.kubernetes.io/warn': 'restricted' } } });

  await admin.raw('DELETE', `/api/v1/namespaces/${NS}/resourcequotas/pods`);

  // A crashlooping pod: no kubelet runs on its node, so the status written here stays.
  const podPath = `/api/v1/namespaces/${NS}/pods/crashy`;
  await ensure(admin, `/api/v1/namespaces/${NS}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'crashy', namespace: NS, labels: { app: 'stuck' } }, spec: { nodeName: UNMANAGED_NODE, containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } });
  const now = new Date().toISOString();
  await writeStatus(podPath, {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now }],
    containerStatuses: [{ name: 'app', image: 'registry.invalid/app:1', imageID: '', ready: false, restartCount: 6, started: false, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=app pod=crashy_kmg-tools-sre(0f5c8d3e-2b1a-4c6d-9e8f-7a6b5c4d3e2f)' } }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: now, finishedAt: now } } }],
  });

  // A Deployment past its progress deadline (no controller-manager runs, so its status is written here).
  const depPath = `/apis/apps/v1/namespaces/${NS}/deployments/stuck`;
  await ensure(admin, `/apis/apps/v1/namespaces/${NS}/deployments`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'stuck', namespace: NS }, spec: { replicas: 2, selector: { matchLabels: { app: 'stuck' } }, template: { metadata: { labels: { app: 'stuck' } }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:2' }] } } } });
  await writeStatus(depPath, { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 0, unavailableReplicas: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "stuck-1" has timed out progressing.', lastUpdateTime: now, lastTransitionTime: now }, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', lastUpdateTime: now, lastTransitionTime: now }] });

  // A Deployment referencing one existing Secret (by env) and one that does not exist (by volume).
  await admin.raw('DELETE', `/api/v1/namespaces/${NS}/secrets/refs-absent`);
  // No controller-manager runs here to create the namespace's default ServiceAccount, which every cluster has.
  await ensure(admin, `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: NS } });
  await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'refs-present', namespace: NS }, type: 'Opaque', data: { password: Buffer.from(REFS_SECRET_VALUE).toString('base64') } });
  await ensure(admin, `/apis/apps/v1/namespaces/${NS}/deployments`, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'refs', namespace: NS },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'refs' } },
      template: {
        metadata: { labels: { app: 'refs' } },
        spec: {
          containers: [{ name: 'app', image: 'registry.invalid/refs:1', env: [{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'refs-present', key: 'password' } } }], volumeMounts: [{ name: 'tls', mountPath: '/tls' }] }],
          volumes: [{ name: 'tls', secret: { secretName: 'refs-absent' } }],
        },
      },
    },
  });

  // A failed Job.
  const jobPath = `/apis/batch/v1/namespaces/${NS}/jobs/migrate`;
  await ensure(admin, `/apis/batch/v1/namespaces/${NS}/jobs`, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate', namespace: NS }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'm', image: 'registry.invalid/m:1' }] } } } });
  // A Job's status conditions cannot be rewritten once terminal: a rerun keeps the first run's.
  const job = await admin.get<{ status?: { conditions?: Array<{ type: string }> } }>(jobPath);
  if (!job.status?.conditions?.some((c) => c.type === 'Failed')) await writeStatus(jobPath, { startTime: now, failed: 1, conditions: [{ type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastProbeTime: now, lastTransitionTime: now }, { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastProbeTime: now, lastTransitionTime: now }] });

  // A quota at its limit.
  await ensure(admin, `/api/v1/namespaces/${NS}/resourcequotas`, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'pods', namespace: NS }, spec: { hard: { 'count/cronjobs.batch': '0' } } });
  await writeStatus(`/api/v1/namespaces/${NS}/resourcequotas/pods`, { hard: { 'count/cronjobs.batch': '0' }, used: { 'count/cronjobs.batch': '0' } });

  // Events: the newest sits in the alphabetically last namespace; one event repeated three times.
  const stamp = Date.now();
  for (const ns of [NS, OLD_NS, NEW_NS]) await admin.raw('DELETE', `/api/v1/namespaces/${ns}/events`, { query: { fieldSelector: `reason=${REASON}` } });
  await ensure(admin, `/api/v1/namespaces/${OLD_NS}/events`, event(OLD_NS, `old.${stamp}`, 50, 1, 'an old probe event'));
  await ensure(admin, `/api/v1/namespaces/${NEW_NS}/events`, event(NEW_NS, `new.${stamp}`, 0, 1, 'the newest probe event'));
  for (const i of [1, 2, 3]) await ensure(admin, `/api/v1/namespaces/${NS}/events`, event(NS, `rep${i}.${stamp}`, 10 + i, 2, 'a repeated probe event'));

  // Helm: one deployed, one failed, one pending, one uninstalled release.
  for (const [n, v, s] of [['ok', 2, 'deployed'], ['ok', 1, 'superseded'], ['bad', 1, 'failed'], ['moving', 1, 'pending-install'], ['gone', 1, 'uninstalled']] as const) {
    await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, helmSecret(n, v, s));
  }

  // A Deployment with three revisions (ReplicaSets made here, owned by it: no controller-manager runs).
  await admin.raw('DELETE', `/apis/apps/v1/namespaces/${NS}/deployments/roll`);
  await admin.raw('DELETE', `/apis/apps/v1/namespaces/${NS}/replicasets`, { query: { labelSelector: 'app=roll' } });
  const tmpl = (v: number) => ({ metadata: { labels: { app: 'roll' } }, spec: { containers: [{ name: 'app', image: `registry.invalid/roll:${v}` }] } });
  const dep = await admin.json<{ metadata: { uid: string } }>('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, { body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'roll', namespace: NS }, spec: { replicas: 1, selector: { matchLabels: { app: 'roll' } }, template: tmpl(3) } } });
  for (const v of [1, 2, 3]) {
    const t = tmpl(v);
    await ensure(admin, `/apis/apps/v1/namespaces/${NS}/replicasets`, {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: { name: `roll-${v}`, namespace: NS, labels: { app: 'roll', 'pod-template-hash': `h${v}` }, annotations: { 'deployment.kubernetes.io/revision': String(v), ...(v === 1 ? { 'kubernetes.io/change-cause': 'first release' } : {}) }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'roll', uid: dep.metadata.uid, controller: true }] },
      spec: { replicas: v === 3 ? 1 : 0, selector: { matchLabels: { app: 'roll', 'pod-template-hash': `h${v}` } }, template: { ...t, metadata: { labels: { app: 'roll', 'pod-template-hash': `h${v}` } } } },
    });
  }

  session = await aliceOnStackWorker(env);
  alice = session.alice;
}, 300_000);

afterAll(async () => {
  await session?.stop();
  if (admin) await admin.raw('DELETE', `/api/v1/namespaces/${NS}/pods/crashy`, { query: { gracePeriodSeconds: 0 } });
});

describe('cluster_health sees what phase Running hides', () => {
  it('reports the crashlooping pod with its waiting reason, restarts and OOMKilled last exit', async () => {
    const res = await alice.callTool({ name: 'cluster_health', arguments: { namespace: NS } });
    const text = textOf(res);
    expect(text).toMatch(/kmg-tools-sre\s+crashy\s+Running\s+0\/1\s+6\s+app: CrashLoopBackOff; app last exit OOMKilled \(137\); not Ready/);
    const sc = res.structuredContent as { crashLooping: number; unhealthyPods: Array<{ name: string; restarts: number }>; deploymentsUnavailable: number; jobsFailed: number };
    expect(sc.crashLooping).toBe(1);
    expect(sc.unhealthyPods).toContainEqual(expect.objectContaining({ name: 'crashy', restarts: 6 }));
    expect(text).toMatch(/kmg-tools-sre\s+stuck\s+0\/2\s+2\s+ProgressDeadlineExceeded; Available=False \(MinimumReplicasUnavailable\); 0\/2 available/);
    expect(sc.deploymentsUnavailable).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/kmg-tools-sre\s+migrate\s+BackoffLimitExceeded\s+Job has reached the specified backoff limit/);
    expect(sc.jobsFailed).toBe(1);
  });

  it('reads every node cluster-wide and says how many pods it read', async () => {
    const res = await alice.callTool({ name: 'cluster_health', arguments: {} });
    const nodes = await admin.get<{ items: unknown[] }>('/api/v1/nodes');
    expect(res.structuredContent).toMatchObject({ apiserverReady: true, nodes: nodes.items.length, podsReadAll: true });
    expect(textOf(res)).toMatch(/unhealthy pods: \d+ of \d+ pods read \(Succeeded excluded\)/);
    expect(textOf(res)).toContain('crashy');
  });
});

describe('events_list', () => {
  it('puts the newest event first across namespaces, whatever their names', async () => {
    const res = await alice.callTool({ name: 'events_list', arguments: { reason: REASON, limit: 10 } });
    const rows = (res.structuredContent as { rows: Array<Record<string, string>>; readAll: boolean }).rows;
    expect(rows[0]).toMatchObject({ namespace: NEW_NS, message: 'the newest probe event' });
    expect(rows.at(-1)).toMatchObject({ namespace: OLD_NS, message: 'an old probe event' });
    expect((res.structuredContent as { readAll: boolean }).readAll).toBe(true);
    expect(textOf(res)).toMatch(/^# newest first: \d+ of \d+ distinct events in all namespaces \(read all \d+ events\)/);
  });

  it('folds the repeats of one event into one row with the summed count and first/last seen', async () => {
    const res = await alice.callTool({ name: 'events_list', arguments: { namespace: NS, reason: REASON } });
    const rows = (res.structuredContent as { rows: Array<Record<string, string>> }).rows;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ object: 'Pod/crashy', count: '6', message: 'a repeated probe event' });
    expect(Date.parse(rows[0]!.firstSeen!)).toBeLessThan(Date.parse(rows[0]!.lastSeen!));
  });

  it('keeps only events seen within since', async () => {
    const res = await alice.callTool({ name: 'events_list', arguments: { reason: REASON, since: '5m' } });
    const rows = (res.structuredContent as { rows: Array<Record<string, string>> }).rows;
    expect(rows.map((r) => r.namespace)).toEqual([NEW_NS]);
  });
});

describe('helm_releases_list', () => {
  it("shows helm list's default statuses (deployed, failed, pending) and the latest revision only", async () => {
    const res = await alice.callTool({ name: 'helm_releases_list', arguments: { namespace: NS } });
    const rows = (res.structuredContent as { rows: Array<Record<string, string>> }).rows;
    expect(rows.map((r) => `${r.name}:${r.revision}:${r.status}`)).toEqual(['bad:1:failed', 'moving:1:pending-install', 'ok:2:deployed']);
    const all = await alice.callTool({ name: 'helm_releases_list', arguments: { namespace: NS, all: true } });
    expect((all.structuredContent as { rows: Array<{ name: string }> }).rows.map((r) => r.name)).toContain('gone');
  });
});

describe('resources_create_or_update', () => {
  it('refuses a misspelled field (fieldValidation Strict) instead of dropping it', async () => {
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\n  namespace: ${NS}\ndta:\n  a: "1"\n`;
    const res = await alice.callTool({ name: 'resources_create_or_update', arguments: { manifest, dryRun: true } });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/^ConfigMap\/typo failed: Invalid: the field \.dta is not in the ConfigMap schema \(misspelled, or at the wrong level\); fix the manifest and apply again/);
    const cm = await admin.raw('GET', `/api/v1/namespaces/${NS}/configmaps/typo`);
    expect(cm.status).toBe(404);
  });

  it('names the document that failed in a multi-document manifest and still runs the others', async () => {
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n  namespace: ${NS}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n  namespace: ${NS}\nbogus: 1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: third\n  namespace: ${NS}\n`;
    const res = await alice.callTool({ name: 'resources_create_or_update', arguments: { manifest, dryRun: true } });
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/^1 of 3 objects failed \(\[2\/3\] ConfigMap\/second\); the other 2 passed the dry run\..*\n\[1\/3\] configmap\/first in kmg-tools-sre would be created \(dry run, nothing persisted\)\n\[2\/3\] configmap\/second in kmg-tools-sre FAILED: Invalid: the field \.bogus is not in the ConfigMap schema/);
  });

  it('shows the Pod Security warning the apiserver sends', async () => {
    const manifest = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: loose\n  namespace: ${PSA_NS}\nspec:\n  nodeName: ${UNMANAGED_NODE}\n  containers:\n  - name: app\n    image: registry.invalid/app:1\n`;
    const res = await alice.callTool({ name: 'resources_create_or_update', arguments: { manifest, dryRun: true } });
    expect(res.isError).toBeFalsy();
    expect(textOf(res)).toMatch(/^Warning \(from the apiserver\): would violate PodSecurity "restricted:latest"/);
  });

  it("writes as the user's own field manager", async () => {
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: owned\n  namespace: ${NS}\ndata:\n  a: "1"\n`;
    expect((await alice.callTool({ name: 'resources_create_or_update', arguments: { manifest } })).isError).toBeFalsy();
    const cm = await admin.get<{ metadata: { managedFields: Array<{ manager: string; operation: string }> } }>(`/api/v1/namespaces/${NS}/configmaps/owned`);
    expect(cm.metadata.managedFields.map((f) => f.manager)).toContain('kube-mcp/oidc:alice');
  });
});

describe('resources_patch', () => {
  it("refuses a misspelled field (fieldValidation Strict) and patches as the user's own field manager", async () => {
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: patched\n  namespace: ${NS}\ndata:\n  a: "1"\n`;
    expect((await alice.callTool({ name: 'resources_create_or_update', arguments: { manifest } })).isError).toBeFalsy();
    const typo = await alice.callTool({ name: 'resources_patch', arguments: { kind: 'ConfigMap', name: 'patched', namespace: NS, patch: { dta: { b: '2' } } } });
    expect(typo.isError).toBe(true);
    expect(textOf(typo)).toMatch(/dta/);
    const ok = await alice.callTool({ name: 'resources_patch', arguments: { kind: 'ConfigMap', name: 'patched', namespace: NS, patch: { data: { b: '2' } } } });
    expect(ok.isError).toBeFalsy();
    const cm = await admin.get<{ data: Record<string, string>; metadata: { managedFields: Array<{ manager: string; operation: string }> } }>(`/api/v1/namespaces/${NS}/configmaps/patched`);
    expect(cm.data).toEqual({ a: '1', b: '2' });
    expect(cm.metadata.managedFields.filter((f) => f.operation === 'Update').map((f) => f.manager)).toContain('kube-mcp/oidc:alice');
  });
});

describe('workload_diagnose', () => {
  it('explains a crashlooping pod: state, last exit, restarts, and what to do', async () => {
    const res = await alice.callTool({ name: 'workload_diagnose', arguments: { kind: 'Pod', name: 'crashy', namespace: NS } });
    const text = textOf(res);
    const sc = res.structuredContent as { healthy: boolean; hints: string[] };
    expect(sc.healthy).toBe(false);
    expect(sc.hints.join('\n')).toMatch(/container app was OOMKilled \(exit 137\) \(no memory limit: the node ran out\)/);
    // The kubelet's message ends "container=app pod=crashy_<ns>(<uid>)": the line already names both.
    expect(text).toMatch(/container app: waiting: CrashLoopBackOff \(back-off 5m0s restarting failed container\); last: OOMKilled exit 137 .*; restarts 6/);
    expect(text).toContain('previous log of app');
  });

  it('explains a stuck Deployment: generations, conditions, its worst pod and the quota at its limit', async () => {
    const res = await alice.callTool({ name: 'workload_diagnose', arguments: { kind: 'Deployment', name: 'stuck', namespace: NS } });
    const text = textOf(res);
    const hints = (res.structuredContent as { hints: string[] }).hints.join('\n');
    expect(hints).toMatch(/stuck past its progress deadline: ReplicaSet "stuck-1" has timed out progressing\./);
    expect(hints).toMatch(/OOMKilled/);
    expect(hints).toMatch(/ResourceQuota pods is at its limit for count\/cronjobs\.batch/);
    expect(text).toMatch(/deployment kmg-tools-sre\/stuck: generation 1 \(observed\)/);
    expect(text).toMatch(/the worst pod:\npod crashy \(node kmg-no-kubelet\)\n/);
    expect(text).toMatch(/crashy +Running +0\/1 +6 +app: CrashLoopBackOff/);
    expect(text).toContain('images: app=registry.invalid/app:2');
    // The pod runs an older image than the template shown above, so its container line names it.
    expect(text).toMatch(/container app: waiting: CrashLoopBackOff .*; image registry\.invalid\/app:1$/m);
  });

  it('lists the Secrets a Deployment references, where each is used and whether it exists, and flags the missing one without reading any Secret data', async () => {
    const res = await alice.callTool({ name: 'workload_diagnose', arguments: { kind: 'Deployment', name: 'refs', namespace: NS } });
    expect(res.isError).toBeFalsy();
    const text = textOf(res);
    expect(text).toContain('Secret refs-present: exists; env DB_PASSWORD (app)');
    expect(text).toContain('Secret refs-absent: MISSING; volume tls');
    const sc = res.structuredContent as { healthy: boolean; hints: string[]; references: Array<{ kind: string; name: string; status: string; uses: string[] }> };
    expect(sc.healthy).toBe(false);
    expect(sc.hints).toContain('Secret refs-absent does not exist (volume tls): pods using it stay ContainerCreating (FailedMount); create it or fix the name');
    expect(sc.references.find((r) => r.kind === 'ServiceAccount')).toMatchObject({ name: 'default', status: 'exists' });
    expect(sc.references.filter((r) => r.kind === 'Secret')).toEqual([
      { kind: 'Secret', name: 'refs-absent', uses: ['volume tls'], optional: false, status: 'missing' },
      { kind: 'Secret', name: 'refs-present', uses: ['env DB_PASSWORD (app)'], optional: false, status: 'exists' },
    ]);
    // Nothing of the Secret's data, raw or base64, anywhere in the result.
    const whole = JSON.stringify(res);
    expect(whole).not.toContain(REFS_SECRET_VALUE);
    expect(whole).not.toContain(Buffer.from(REFS_SECRET_VALUE).toString('base64'));
  });
});

describe('rollouts', () => {
  const image = async () => (await admin.get<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(`/apis/apps/v1/namespaces/${NS}/deployments/roll`)).spec.template.spec.containers[0]!.image;

  it('rollout_history lists revisions with images and change-cause, the current one marked', async () => {
    const res = await alice.callTool({ name: 'rollout_history', arguments: { name: 'roll', namespace: NS } });
    const rows = (res.structuredContent as { rows: Array<Record<string, string>> }).rows;
    expect(rows.map((r) => [r.revision, r.images, r.changeCause, r.current])).toEqual([
      ['1', 'app=registry.invalid/roll:1', 'first release', 'false'],
      ['2', 'app=registry.invalid/roll:2', '', 'false'],
      ['3', 'app=registry.invalid/roll:3', '', 'true'],
    ]);
  });

  it('rollout_undo dry run shows the template diff and changes nothing; the real one rolls back', async () => {
    const dry = await alice.callTool({ name: 'rollout_undo', arguments: { name: 'roll', namespace: NS, dryRun: true } });
    expect(dry.isError).toBeFalsy();
    expect(textOf(dry)).toContain('deployment kmg-tools-sre/roll would roll back from revision 3 to revision 2');
    expect(textOf(dry)).toMatch(/- +image: registry\.invalid\/roll:3\n\+ +image: registry\.invalid\/roll:2/);
    expect(textOf(dry)).not.toContain('pod-template-hash');
    expect(await image()).toBe('registry.invalid/roll:3');
    const real = await alice.callTool({ name: 'rollout_undo', arguments: { name: 'roll', namespace: NS, toRevision: 1 } });
    expect(real.structuredContent).toMatchObject({ from: 3, to: 1, dryRun: false, changed: true });
    expect(await image()).toBe('registry.invalid/roll:1');
  });

  it('rollout_pause and rollout_resume set spec.paused, and undo refuses a paused Deployment', async () => {
    expect((await alice.callTool({ name: 'rollout_pause', arguments: { name: 'roll', namespace: NS } })).structuredContent).toMatchObject({ paused: true, wasPaused: false });
    const refused = await alice.callTool({ name: 'rollout_undo', arguments: { name: 'roll', namespace: NS } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toContain('is paused: rollout_resume it before rolling back');
    expect((await alice.callTool({ name: 'rollout_resume', arguments: { name: 'roll', namespace: NS } })).structuredContent).toMatchObject({ paused: false, wasPaused: true });
    expect((await admin.get<{ spec: { paused?: boolean } }>(`/apis/apps/v1/namespaces/${NS}/deployments/roll`)).spec.paused).toBeFalsy();
  });

  it('rollout_status waits a bounded time and says it is still not done', async () => {
    const res = await alice.callTool({ name: 'rollout_status', arguments: { name: 'roll', namespace: NS, wait: 3 } });
    const sc = res.structuredContent as { done: boolean; waitedSeconds: number };
    expect(sc.done).toBe(false);
    expect(sc.waitedSeconds).toBeGreaterThan(0);
    expect(textOf(res)).toMatch(/still not done after waiting \d+s/);
  });
});

describe('resources_delete wait', () => {
  it('waits until the object is gone, or says which finalizer still holds it', async () => {
    for (const name of ['bye', 'held']) await admin.raw('DELETE', `/api/v1/namespaces/${NS}/configmaps/${name}`);
    await ensure(admin, `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bye', namespace: NS } });
    const gone = await alice.callTool({ name: 'resources_delete', arguments: { kind: 'ConfigMap', name: 'bye', namespace: NS, wait: 10 } });
    expect(textOf(gone)).toMatch(/^configmap kmg-tools-sre\/bye deleted and gone/);
    await ensure(admin, `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: NS, finalizers: ['kmg.test/hold'] } });
    const held = await alice.callTool({ name: 'resources_delete', arguments: { kind: 'ConfigMap', name: 'held', namespace: NS, wait: 2 } });
    expect(textOf(held)).toMatch(/^configmap kmg-tools-sre\/held deleted, but still present after waiting \d+s \(held by finalizers: kmg\.test\/hold\)/);
    await admin.raw('PATCH', `/api/v1/namespaces/${NS}/configmaps/held`, { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
  });
});
