// Safer apply against the real apiserver: a conflict between two field managers explained (and force taking
// ownership), a multi-document manifest whose second document fails, a diff against a server-side dry run with
// Secret values masked, a wait that succeeds (a Pod kwok makes Ready) and one that runs out (a Deployment no
// controller rolls out), and a non-destructive worker refusing a scale to 0, a patch and an apply that remove.
import type { Client } from '@modelcontextprotocol/client';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { kubeToken } from '../support/keycloak-tokens.js';
import { adminRest, ensureNamespace, mcpClient, nodeNames, startStackWorker, textOf, type WorkerProcess } from './helpers.js';

const NS = 'kmg-apply-it';
const CM = `/api/v1/namespaces/${NS}/configmaps`;
const OBJECTS = [
  `${CM}/shared`, `${CM}/gone-keep`, `${CM}/multi-1`, `${CM}/multi-2`, `${CM}/multi-3`, `${CM}/diffme`, `${CM}/keep`,
  `/api/v1/namespaces/${NS}/secrets/diff-secret`, `/api/v1/namespaces/${NS}/pods/ready-pod`,
  `/apis/apps/v1/namespaces/${NS}/deployments/never-rolls`, `/apis/apps/v1/namespaces/${NS}/deployments/guarded`,
];

let env: StackEnv;
let admin: KubeRest;
let rw: WorkerProcess;
let nd: WorkerProcess;
let alice: Client;
let aliceNd: Client;

type Doc = { index: number; name: string; outcome: string; error?: string; changes?: number; wait?: { waitFor?: string; done: boolean; failed: boolean; message: string } };
const docsOf = (res: { structuredContent?: unknown }) => (res.structuredContent as { documents: Doc[]; failed: number });

const configMap = (name: string, data: Record<string, string>) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${NS}\ndata:\n${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}\n`;

function deployment(name: string, extra: { replicas?: number; labels?: Record<string, string> } = {}): string {
  const labels = { app: name, ...extra.labels };
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS, labels },
    spec: { replicas: extra.replicas ?? 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } } },
  });
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  const res = await client.callTool({ name, arguments: args });
  return { res, text: textOf(res) };
}

beforeAll(async () => {
  env = loadStackEnv();
  admin = adminRest(env);
  await ensureNamespace(admin, NS);
  // Each run starts from nothing (objects go at once: no finalizers, and pods of kwok nodes with grace 0).
  for (const p of OBJECTS) await admin.raw('DELETE', p, { query: { gracePeriodSeconds: 0 } });
  rw = await startStackWorker(env);
  nd = await startStackWorker(env, { WORKER_NON_DESTRUCTIVE: 'true' });
  const token = await kubeToken(env, 'alice');
  alice = await mcpClient(rw.url, token);
  aliceNd = await mcpClient(nd.url, token);
});

afterAll(async () => {
  await alice?.close();
  await aliceNd?.close();
  await Promise.all([rw, nd].filter(Boolean).map((w) => w.stop()));
});

describe('conflicts between field managers', () => {
  it('refuses by default, names the other manager and its fields, and force: true takes ownership', async () => {
    // Another tool (a CI pipeline's field manager) owns data.a.
    const ci = await admin.raw('PATCH', `${CM}/shared`, { body: configMap('shared', { a: 'from-ci' }), contentType: 'application/apply-patch+yaml', query: { fieldManager: 'team-ci', force: true } });
    expect(ci.status).toBe(201);

    const refused = await call(alice, 'resources_create_or_update', { manifest: configMap('shared', { a: 'from-alice' }) });
    expect(refused.res.isError).toBe(true);
    expect(refused.text).toBe(
      'ConfigMap/shared failed: Conflict: the manifest sets a field another field manager owns: "team-ci" owns .data.a. Nothing was changed. To take ownership (your values win and these fields become yours), apply again with force: true; to leave them to their owner, remove them from the manifest.',
    );
    expect((await admin.get<{ data: Record<string, string> }>(`${CM}/shared`)).data).toEqual({ a: 'from-ci' });

    const forced = await call(alice, 'resources_create_or_update', { manifest: configMap('shared', { a: 'from-alice' }), force: true });
    expect(forced.res.isError).toBeFalsy();
    const cm = await admin.get<{ data: Record<string, string>; metadata: { managedFields: Array<{ manager: string; fieldsV1?: { 'f:data'?: Record<string, unknown> } }> } }>(`${CM}/shared`);
    expect(cm.data).toEqual({ a: 'from-alice' });
    const owners = cm.metadata.managedFields.filter((f) => f.fieldsV1?.['f:data']?.['f:a']).map((f) => f.manager);
    expect(owners).toEqual(['kube-mcp/oidc:alice']);
  });
});

describe('multi-document manifests', () => {
  it('applies documents 1 and 3 when document 2 fails, and says which failed and why', async () => {
    const manifest = [configMap('multi-1', { a: '1' }), `${configMap('multi-2', { a: '2' })}dta:\n  typo: "x"\n`, configMap('multi-3', { a: '3' })].join('---\n');
    const { res, text } = await call(alice, 'resources_create_or_update', { manifest });
    expect(res.isError).toBe(true);
    expect(text.split('\n').slice(0, 4)).toEqual([
      '1 of 3 objects failed ([2/3] ConfigMap/multi-2); the other 2 were applied. Every object is attempted in order, so one failure does not stop the rest; fix the failed one and apply the whole manifest again (apply converges).',
      `[1/3] configmap/multi-1 in ${NS} created`,
      `[2/3] configmap/multi-2 in ${NS} FAILED: Invalid: the field .dta is not in the ConfigMap schema (misspelled, or at the wrong level); fix the manifest and apply again`,
      `[3/3] configmap/multi-3 in ${NS} created`,
    ]);
    expect(docsOf(res)).toMatchObject({ failed: 1, documents: [{ index: 1, outcome: 'created' }, { index: 2, outcome: 'failed' }, { index: 3, outcome: 'created' }] });
    expect((await admin.raw('GET', `${CM}/multi-1`)).status).toBe(200);
    expect((await admin.raw('GET', `${CM}/multi-2`)).status).toBe(404);
    expect((await admin.raw('GET', `${CM}/multi-3`)).status).toBe(200);
  });
});

describe('diff', () => {
  it('shows what an apply would change, field by field, and changes nothing', async () => {
    expect((await call(alice, 'resources_create_or_update', { manifest: configMap('diffme', { a: '1', b: '2' }) })).res.isError).toBeFalsy();
    const before = await admin.get<{ metadata: { resourceVersion: string } }>(`${CM}/diffme`);
    // Server-side apply removes b (alice applied it before and leaves it out now) and changes a.
    const { res, text } = await call(alice, 'resources_create_or_update', { manifest: configMap('diffme', { a: '10', c: '3' }), diff: true });
    expect(res.isError).toBeFalsy();
    expect(text).toBe(`configmap/diffme in ${NS}: 3 changes\n  ~ data.a: "1" → "10"\n  - data.b: "2"\n  + data.c: "3"\n`);
    expect(docsOf(res).documents[0]).toMatchObject({ outcome: 'diff', changes: 3 });
    expect((await admin.get<{ metadata: { resourceVersion: string } }>(`${CM}/diffme`)).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('says a new object would be created, with its fields', async () => {
    const { text } = await call(alice, 'resources_create_or_update', { manifest: configMap('keep', { x: 'y' }), diff: true });
    expect(text).toMatch(new RegExp(`^configmap/keep in ${NS}: would be created \\(\\d+ fields\\)\\n`));
    expect(text).toContain('  + data.x: "y"');
    expect((await admin.raw('GET', `${CM}/keep`)).status).toBe(404);
  });

  it('masks Secret values on both sides: a value is reported without either value, and never compared', async () => {
    const secret = (password: string, extra = '') => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: diff-secret\n  namespace: ${NS}\nstringData:\n  password: ${password}\n${extra}`;
    expect((await call(alice, 'resources_create_or_update', { manifest: secret('old-value-4711') })).res.isError).toBeFalsy();
    const { res, text } = await call(alice, 'resources_create_or_update', { manifest: secret('new-value-0815', '  token: tok-value-42\n'), diff: true });
    expect(text).toContain('  ~ data.password: (Secret value, not shown) → (not compared: Secret values are never compared)');
    expect(text).toContain('  + data.token: "***"');
    const all = JSON.stringify(res);
    for (const v of ['old-value-4711', 'new-value-0815', 'tok-value-42']) {
      expect(all).not.toContain(v);
      expect(all).not.toContain(Buffer.from(v).toString('base64'));
    }
  });
});

describe('wait after apply', () => {
  it('waits until an applied Pod is Ready and says so', async () => {
    const node = (await nodeNames(admin)).find((n) => n.startsWith('kwok-node-'));
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ready-pod', namespace: NS }, spec: { nodeName: node, containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } });
    const { res, text } = await call(alice, 'resources_create_or_update', { manifest, wait: 60 });
    expect(res.isError).toBeFalsy();
    expect(text).toContain('Waited (up to 60s) for each workload to roll out and each Pod/Job/Ready-condition object to be ready: all ready.');
    expect(text).toMatch(new RegExp(`  pod/ready-pod in ${NS}: Ready( after \\d+s)? \\(pod "ready-pod" is Ready\\)`));
    expect(docsOf(res).documents[0]!.wait).toMatchObject({ waitFor: 'Ready', done: true });
  });

  it('keeps the apply result when an object is deleted during the wait, and stops waiting for it', async () => {
    await admin.raw('DELETE', `/apis/apps/v1/namespaces/${NS}/deployments/gone-while-waiting`, { query: { gracePeriodSeconds: 0 } });
    const pending = call(alice, 'resources_create_or_update', { manifest: `${deployment('gone-while-waiting')}\n---\n${configMap('gone-keep', { x: 'y' })}`, wait: 60 });
    // No controller rolls the Deployment out here: it is waited for until someone deletes it.
    while ((await admin.raw('GET', `/apis/apps/v1/namespaces/${NS}/deployments/gone-while-waiting`)).status !== 200) await new Promise((r) => setTimeout(r, 200));
    expect((await admin.raw('DELETE', `/apis/apps/v1/namespaces/${NS}/deployments/gone-while-waiting`)).status).toBe(200);
    const { res, text } = await pending;
    expect(text).toContain(`[1/2] deployment/gone-while-waiting in ${NS} created`);
    expect(text).toContain(`[2/2] configmap/gone-keep in ${NS}`);
    expect(text).toContain(`  deployment/gone-while-waiting in ${NS}: will not become rolled out: it was deleted while waiting`);
    expect(docsOf(res).documents[0]!.wait).toMatchObject({ waitFor: 'rolled out', done: false, failed: true });
    expect(text).not.toContain('internal error');
  });

  it('says what it waited for and where it stood when the time ran out', async () => {
    const { res, text } = await call(alice, 'resources_create_or_update', { manifest: `${deployment('never-rolls')}\n---\n${configMap('keep', { x: 'y' })}`, wait: 2 });
    expect(res.isError).toBeFalsy();
    expect(text).toContain('Waited (up to 2s) for each workload to roll out and each Pod/Job/Ready-condition object to be ready: 1 not ready.');
    expect(text).toContain(`  deployment/never-rolls in ${NS}: not rolled out when the 2s wait ran out: Waiting for deployment "never-rolls" spec update to be observed...`);
    expect(text).toContain(`  configmap/keep in ${NS}: nothing to wait for (no rollout or Ready state)`);
    expect(docsOf(res).documents[0]!.wait).toMatchObject({ waitFor: 'rolled out', done: false, failed: false });
  });
});

describe('non-destructive worker', () => {
  beforeAll(async () => {
    const r = await call(alice, 'resources_create_or_update', { manifest: deployment('guarded', { replicas: 2, labels: { tier: 'front' } }) });
    expect(r.res.isError, r.text).toBeFalsy();
  });

  it('lists scale, patch and apply but refuses a scale to 0, and allows another count', async () => {
    const names = (await aliceNd.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['resources_scale', 'resources_patch', 'resources_create_or_update']));
    const zero = await call(aliceNd, 'resources_scale', { name: 'guarded', namespace: NS, replicas: 0 });
    expect(zero.res.isError).toBe(true);
    expect(zero.text).toBe('cluster stack is non-destructive: this resources_scale call scales Deployment/guarded to 0 replicas, which stops every pod. Nothing was changed');
    expect((await admin.get<{ spec: { replicas: number } }>(`/apis/apps/v1/namespaces/${NS}/deployments/guarded`)).spec.replicas).toBe(2);
    expect((await call(aliceNd, 'resources_scale', { name: 'guarded', namespace: NS, replicas: 3 })).res.isError).toBeFalsy();
  });

  it('refuses a patch that removes a field, naming it, and allows one that adds', async () => {
    const del = await call(aliceNd, 'resources_patch', { kind: 'Deployment', name: 'guarded', namespace: NS, patch: { metadata: { labels: { tier: null } } } });
    expect(del.res.isError).toBe(true);
    expect(del.text).toBe('cluster stack is non-destructive: this resources_patch call removes metadata.labels.tier. Nothing was changed');
    const sneaky = await call(aliceNd, 'resources_patch', { kind: 'Deployment', name: 'guarded', namespace: NS, type: 'json', patch: [{ op: 'replace', path: '/spec/replicas', value: 0 }] });
    expect(sneaky.res.isError).toBe(true);
    expect(sneaky.text).toContain('sets spec.replicas to 0 (stops every pod)');
    const dep = await admin.get<{ metadata: { labels: Record<string, string> }; spec: { replicas: number } }>(`/apis/apps/v1/namespaces/${NS}/deployments/guarded`);
    expect(dep.metadata.labels.tier).toBe('front');
    expect(dep.spec.replicas).toBe(3);
    expect((await call(aliceNd, 'resources_patch', { kind: 'Deployment', name: 'guarded', namespace: NS, patch: { metadata: { labels: { owner: 'sre' } } } })).res.isError).toBeFalsy();
  });

  it('refuses an apply that would remove a field the user applied before, and allows one that changes values', async () => {
    const drop = await call(aliceNd, 'resources_create_or_update', { manifest: deployment('guarded', { replicas: 3 }) });
    expect(drop.res.isError).toBe(true);
    expect(drop.text).toBe(`cluster stack is non-destructive: this resources_create_or_update call would destroy: deployment/guarded in ${NS} removes metadata.labels.tier. Nothing was changed`);
    expect((await admin.get<{ metadata: { labels: Record<string, string> } }>(`/apis/apps/v1/namespaces/${NS}/deployments/guarded`)).metadata.labels.tier).toBe('front');
    const change = await call(aliceNd, 'resources_create_or_update', { manifest: deployment('guarded', { replicas: 3, labels: { tier: 'back' } }) });
    expect(change.res.isError, change.text).toBeFalsy();
  });

  it('does not offer delete at all: a call to it is an unknown tool and the object stays', async () => {
    expect((await aliceNd.listTools()).tools.map((t) => t.name)).not.toContain('resources_delete');
    await expect(aliceNd.callTool({ name: 'resources_delete', arguments: { kind: 'Deployment', name: 'guarded', namespace: NS } })).rejects.toMatchObject({ code: -32602 });
    expect((await admin.raw('GET', `/apis/apps/v1/namespaces/${NS}/deployments/guarded`)).status).toBe(200);
  });
});
