// helm_history and helm_rollback on release Secrets written here in helm's storage format, with the release's
// objects live in the apiserver, and the helm binary reading (and rolling on from) the revision helm_rollback wrote; pods_debug adding an ephemeral container to a real pod; nodes_log against a kwok
// node, whose missing kubelet must come back as an error the user can act on.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Client } from '@modelcontextprotocol/client';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHelm } from '../deploy/helm-binary.js';
import { loadStackEnv, type StackEnv } from '../stack/env.js';
import { b64 } from './fixtures.js';
import { adminRest, aliceOnStackWorker, type AliceSession, ensure, ensureNamespace, nodeNames, podManifest, textOf } from './helpers.js';

const run = promisify(execFile);
const NS = 'kmg-tools-helm-debug';
const VALUES_PW = 'rollback-values-pw-5521';
const SECRET_V1 = 'rollback-secret-one-7781';
const SECRET_V2 = 'rollback-secret-two-9932';
const NEEDLES = [VALUES_PW, SECRET_V1, SECRET_V2, b64(SECRET_V1), b64(SECRET_V2)];

let env: StackEnv;
let admin: KubeRest;
let session: AliceSession | undefined;
let alice: Client;

function manifest(v: 1 | 2): string {
  const docs = [
    // Each revision's ConfigMap echoes a credential (a values password, the other revision's Secret): the plan's diff shows these lines.
    `# Source: shop/templates/config.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-config\ndata:\n  mode: mode-v${v}\n  ${v === 1 ? `echo: ${SECRET_V1}` : `dsn: postgres://app:${VALUES_PW}@db/shop`}\n`,
    `# Source: shop/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-secret\ntype: Opaque\nstringData:\n  pw: ${v === 1 ? SECRET_V1 : SECRET_V2}\n`,
    `# Source: shop/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: shop\n  template:\n    metadata:\n      labels:\n        app: shop\n    spec:\n      containers:\n      - name: app\n        image: registry.invalid/shop:${v}\n`,
  ];
  if (v === 2) docs.push(`# Source: shop/templates/extra.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-extra\ndata:\n  added: in-v2\n`);
  return '---\n' + docs.join('---\n');
}

function release(v: 1 | 2, status: string) {
  return {
    name: 'shop', namespace: NS, version: v,
    info: { first_deployed: '2026-01-01T00:00:00Z', last_deployed: `2026-01-0${v}T00:00:00Z`, status, description: v === 1 ? 'Install complete' : 'Upgrade complete', notes: 'shop is up' },
    chart: { metadata: { name: 'shop', version: `0.${v}.0`, appVersion: `${v}.0` }, values: { replicas: 1 }, templates: [] },
    config: { db: { password: VALUES_PW }, tier: `t${v}` },
    manifest: manifest(v),
    hooks: v === 1 ? [{ name: 'shop-migrate', kind: 'Job', path: 'shop/templates/hook.yaml', manifest: 'kind: Job', events: ['pre-rollback', 'pre-upgrade'] }] : [],
  };
}

function releaseSecret(v: 1 | 2, status: string) {
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'helm.sh/release.v1',
    metadata: { name: `sh.helm.release.v1.shop.v${v}`, namespace: NS, labels: { owner: 'helm', name: 'shop', version: String(v), status } },
    data: { release: b64(gzipSync(Buffer.from(JSON.stringify(release(v, status)))).toString('base64')) },
  };
}

interface StoredSecret { metadata: { labels: Record<string, string> }; data: { release: string } }
function decode(s: StoredSecret): { version: number; info: { status: string; description: string }; config: unknown; manifest: string } {
  return JSON.parse(gunzipSync(Buffer.from(Buffer.from(s.data.release, 'base64').toString(), 'base64')).toString()) as ReturnType<typeof decode>;
}

async function call(name: string, args: Record<string, unknown>) {
  const res = await alice.callTool({ name, arguments: args });
  return { res, text: textOf(res), structured: res.structuredContent as Record<string, unknown> };
}

async function liveImage(): Promise<string> {
  const d = await admin.get<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>(`/apis/apps/v1/namespaces/${NS}/deployments/shop`);
  return d.spec.template.spec.containers[0]!.image;
}

beforeAll(async () => {
  env = loadStackEnv();
  admin = adminRest(env);
  await ensureNamespace(admin, NS);
  // A rerun starts from revision 2 deployed, its objects live as helm (client-side, manager "helm") left them.
  await admin.raw('DELETE', `/api/v1/namespaces/${NS}/secrets`, { query: { labelSelector: 'owner=helm,name=shop' } });
  for (const p of ['/api/v1/namespaces/NS/configmaps/shop-config', '/api/v1/namespaces/NS/configmaps/shop-extra', '/api/v1/namespaces/NS/secrets/shop-secret', '/apis/apps/v1/namespaces/NS/deployments/shop'])
    await admin.raw('DELETE', p.replace('NS', NS));
  await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, releaseSecret(1, 'superseded'));
  await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, releaseSecret(2, 'deployed'));
  const { parseManifest } = await import('@kmg/worker/tools/resources/apply');
  for (const o of parseManifest(manifest(2))) {
    const path = o.kind === 'Deployment' ? `/apis/apps/v1/namespaces/${NS}/deployments` : `/api/v1/namespaces/${NS}/${o.kind === 'Secret' ? 'secrets' : 'configmaps'}`;
    const meta = { ...o.metadata, annotations: { 'meta.helm.sh/release-name': 'shop', 'meta.helm.sh/release-namespace': NS }, labels: { 'app.kubernetes.io/managed-by': 'Helm' } };
    const res = await admin.raw('POST', path, { body: { ...o, metadata: meta }, query: { fieldManager: 'helm' } });
    if (res.status !== 201) throw new Error(`seed ${o.kind}: ${res.status} ${res.text.slice(0, 200)}`);
  }
  // Someone else's label on a release object: a rollback keeps it, as helm's three-way merge does.
  const label = await admin.raw('PATCH', `/api/v1/namespaces/${NS}/configmaps/shop-config`, { body: { metadata: { labels: { team: 'sre' } } }, contentType: 'application/merge-patch+json', query: { fieldManager: 'kubectl-label' } });
  if (label.status !== 200) throw new Error(`label: ${label.status} ${label.text.slice(0, 200)}`);
  await ensure(admin, `/api/v1/namespaces/${NS}/pods`, podManifest('debug-me', NS, (await nodeNames(admin))[0]!));

  session = await aliceOnStackWorker(env);
  alice = session.alice;
}, 300_000);

afterAll(async () => {
  await session?.stop();
  if (admin) await admin.raw('DELETE', `/api/v1/namespaces/${NS}/pods/debug-me`, { query: { gracePeriodSeconds: 0 } });
});

describe('helm_history and helm_rollback', () => {
  it('lists the revisions like helm history, values never shown', async () => {
    const { res, text, structured } = await call('helm_history', { name: 'shop', namespace: NS });
    expect(res.isError).toBeFalsy();
    expect((structured.rows as Array<Record<string, string>>).map((r) => `${r.revision}|${r.status}|${r.chart}|${r.appVersion}|${r.description}`)).toEqual([
      '1|superseded|shop-0.1.0|1.0|Install complete',
      '2|deployed|shop-0.2.0|2.0|Upgrade complete',
    ]);
    for (const n of NEEDLES) expect(JSON.stringify(res)).not.toContain(n);
    expect(text).toMatch(/REVISION\s+UPDATED\s+STATUS\s+CHART\s+APP VERSION\s+DESCRIPTION/);
  });

  it('plans by default: a server-side dry run per object, what changes, what goes; nothing is changed and no value leaks', async () => {
    const { res, text, structured } = await call('helm_rollback', { name: 'shop', namespace: NS });
    expect(res.isError).toBeFalsy();
    expect(text).toMatch(/^Dry run, nothing changed\. Each object below was applied with a server-side dry run \(dryRun=All/);
    expect(structured).toMatchObject({ release: 'shop', from: 2, to: 1, newRevision: 3, dryRun: true, status: 'planned', hooksNotRun: 1 });
    const objects = Object.fromEntries((structured.objects as Array<{ kind: string; name: string; action: string; changed: string[] }>).map((o) => [`${o.kind}/${o.name}`, o]));
    expect(objects['Deployment/shop']).toMatchObject({ action: 'update', changed: ['spec.template.spec.containers[0].image'] });
    expect(objects['ConfigMap/shop-config']).toMatchObject({ action: 'update', changed: ['data.dsn', 'data.echo', 'data.mode'] });
    expect(text).toMatch(/- +dsn: postgres:\/\/app:\*\*\*@db\/shop/);
    expect(text).toMatch(/\+ +echo: \*\*\*/);
    expect(objects['Secret/shop-secret']).toMatchObject({ action: 'update', changed: ['data (Secret values are not compared)'] });
    expect(objects['ConfigMap/shop-extra']).toMatchObject({ action: 'delete' });
    expect(text).toMatch(/\n\s+- +image: registry\.invalid\/shop:2\n\s+\+ +image: registry\.invalid\/shop:1\n/);
    for (const n of NEEDLES) expect(JSON.stringify(res)).not.toContain(n);
    // Nothing happened.
    expect(await liveImage()).toBe('registry.invalid/shop:2');
    expect((await admin.raw('GET', `/api/v1/namespaces/${NS}/secrets/sh.helm.release.v1.shop.v3`)).status).toBe(404);
    expect((await admin.raw('GET', `/api/v1/namespaces/${NS}/configmaps/shop-extra`)).status).toBe(200);
  });

  it('rolls back: applies revision 1, deletes what only revision 2 had, records revision 3 in helm storage', async () => {
    const { res, text, structured } = await call('helm_rollback', { name: 'shop', namespace: NS, revision: 1, dryRun: false });
    expect(res.isError, text).toBeFalsy();
    expect(structured).toMatchObject({ from: 2, to: 1, newRevision: 3, dryRun: false, status: 'deployed' });
    for (const n of NEEDLES) expect(JSON.stringify(res)).not.toContain(n);
    expect(await liveImage()).toBe('registry.invalid/shop:1');
    expect((await admin.raw('GET', `/api/v1/namespaces/${NS}/configmaps/shop-extra`)).status).toBe(404);
    const cm = await admin.get<{ data: Record<string, string>; metadata: { annotations: Record<string, string>; labels: Record<string, string> } }>(`/api/v1/namespaces/${NS}/configmaps/shop-config`);
    // Revision 2's key is gone (helm owned it; the target does not set it), the other manager's label stays.
    expect(cm.data).toEqual({ mode: 'mode-v1', echo: SECRET_V1 });
    expect(cm.metadata.labels).toMatchObject({ team: 'sre', 'app.kubernetes.io/managed-by': 'Helm' });
    expect(cm.metadata.annotations['meta.helm.sh/release-name']).toBe('shop');
    const secret = await admin.get<{ data: Record<string, string> }>(`/api/v1/namespaces/${NS}/secrets/shop-secret`);
    expect(secret.data).toEqual({ pw: b64(SECRET_V1) });
    const v3 = await admin.get<StoredSecret & { type: string }>(`/api/v1/namespaces/${NS}/secrets/sh.helm.release.v1.shop.v3`);
    expect(v3.type).toBe('helm.sh/release.v1');
    expect(v3.metadata.labels).toMatchObject({ owner: 'helm', name: 'shop', version: '3', status: 'deployed' });
    const r3 = decode(v3);
    expect(r3).toMatchObject({ version: 3, info: { status: 'deployed', description: 'Rollback to 1' }, config: { db: { password: VALUES_PW }, tier: 't1' } });
    expect(r3.manifest).toBe(manifest(1));
    const v2 = await admin.get<StoredSecret>(`/api/v1/namespaces/${NS}/secrets/sh.helm.release.v1.shop.v2`);
    expect(v2.metadata.labels.status).toBe('superseded');
    expect(decode(v2).info.status).toBe('superseded');
    const history = await call('helm_history', { name: 'shop', namespace: NS });
    expect((history.structured.rows as Array<Record<string, string>>).map((r) => `${r.revision}|${r.status}|${r.description}`)).toEqual(['1|superseded|Install complete', '2|superseded|Upgrade complete', '3|deployed|Rollback to 1']);
  });

  it('names the revisions when the one asked for does not exist', async () => {
    const { res, text } = await call('helm_rollback', { name: 'shop', namespace: NS, revision: 9 });
    expect(res.isError).toBe(true);
    expect(text).toMatch(/has no revision 9 \(revisions: 1, 2, 3\); helm_history shows them/);
  });

  it('helm itself reads the revision the rollback recorded, and rolls on from it', async () => {
    const helm = await ensureHelm();
    const flags = ['--kubeconfig', env.KUBECONFIG_ADMIN, '--namespace', NS];
    const history = JSON.parse((await run(helm, ['history', 'shop', '-o', 'json', ...flags])).stdout) as Array<{ revision: number; status: string; description: string }>;
    expect(history.map((h) => `${h.revision}|${h.status}|${h.description}`)).toEqual(['1|superseded|Install complete', '2|superseded|Upgrade complete', '3|deployed|Rollback to 1']);
    await run(helm, ['rollback', 'shop', '2', '--no-hooks', ...flags]);
    expect(await liveImage()).toBe('registry.invalid/shop:2');
    const ours = await call('helm_history', { name: 'shop', namespace: NS });
    expect((ours.structured.rows as Array<Record<string, string>>).map((r) => `${r.revision}|${r.status}|${r.description}`).slice(-2)).toEqual(['3|superseded|Rollback to 1', '4|deployed|Rollback to 2']);
  });
});

describe('pods_debug', () => {
  it('dry-runs on the server, then adds an ephemeral container targeting the app container and says how to read it', async () => {
    const dry = await call('pods_debug', { name: 'debug-me', namespace: NS, image: 'busybox:1.36', target: 'app', command: ['sleep', '3600'], container: 'dbg-dry', dryRun: true });
    expect(dry.res.isError, dry.text).toBeFalsy();
    expect(dry.text).toContain('server-side dry run');
    const podPath = `/api/v1/namespaces/${NS}/pods/debug-me`;
    type Pod = { spec: { ephemeralContainers?: Array<{ name: string; image: string; targetContainerName?: string; command?: string[] }> } };
    expect((await admin.get<Pod>(podPath)).spec.ephemeralContainers ?? []).toEqual([]);

    const real = await call('pods_debug', { name: 'debug-me', namespace: NS, image: 'busybox:1.36', target: 'app', command: ['sleep', '3600'] });
    expect(real.res.isError, real.text).toBeFalsy();
    const name = real.structured.container as string;
    expect(name).toMatch(/^debugger-[0-9a-f]{5}$/);
    expect(real.text).toContain(`pods_log name=debug-me namespace=${NS} container=${name}`);
    const eph = (await admin.get<Pod>(podPath)).spec.ephemeralContainers ?? [];
    expect(eph).toEqual([expect.objectContaining({ name, image: 'busybox:1.36', targetContainerName: 'app', command: ['sleep', '3600'] })]);

    const again = await call('pods_debug', { name: 'debug-me', namespace: NS, image: 'busybox:1.36', container: name });
    expect(again.res.isError).toBe(true);
    expect(again.text).toContain(`already has a container named ${name}`);
  });

  it('refuses a target the pod does not have, naming its containers', async () => {
    const { res, text } = await call('pods_debug', { name: 'debug-me', namespace: NS, image: 'busybox:1.36', target: 'nope' });
    expect(res.isError).toBe(true);
    expect(text).toContain('has no container nope; its containers are: app');
  });
});

describe('nodes_log', () => {
  it("reaches a kwok node through the apiserver's node proxy and says its kubelet does not serve logs, not 'internal error'", async () => {
    const node = (await nodeNames(admin))[0]!;
    const { res, text } = await call('nodes_log', { name: node, query: 'kubelet' });
    expect(res.isError).toBe(true);
    expect(text).toMatch(new RegExp(`^node ${node}'s kubelet did not serve logs \\(apiserver node proxy answered \\d+ `));
    expect(text).toContain('NodeLogQuery');
    expect(text).not.toContain('internal error');
  });

  it('says a node that does not exist is not found, with how to find nodes', async () => {
    const { res, text } = await call('nodes_log', { name: 'kmg-no-such-node' });
    expect(res.isError).toBe(true);
    expect(text).toBe('NotFound: nodes "kmg-no-such-node" not found: cluster stack has no node named kmg-no-such-node (nodes are not namespaced); nodes_list shows the nodes it has');
  });
});
