// Fixtures the worker suites create as admin in their own namespace: a running pod, a Secret,
// a Deployment, an Event and a Helm release secret.
import { gzipSync } from 'node:zlib';
import type { KubeRest } from '@kmg/worker/k8s/rest';
import { ensure, ensureNamespace, nodeNames, podManifest, waitFor } from './helpers.js';

export const NS = 'kmg-worker-it';
export const SECRET_VALUE = 's3cr3t-value-xyz';
export const HELM_SECRET_VALUE = 'helm-db-password-123';
export const HELM_MANIFEST_SECRET = 'manifest-token-456';

export function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

/** Every form in which a planted secret value could leak into output. */
export const SECRET_NEEDLES = [SECRET_VALUE, b64(SECRET_VALUE), HELM_SECRET_VALUE, b64(HELM_SECRET_VALUE), HELM_MANIFEST_SECRET, b64(HELM_MANIFEST_SECRET)];

export function helmReleaseData(): string {
  const release = {
    name: 'demo',
    namespace: NS,
    version: 1,
    info: { status: 'deployed', last_deployed: new Date().toISOString(), description: 'Install complete', notes: 'Thanks for installing demo.' },
    chart: { metadata: { name: 'demo', version: '1.2.3', appVersion: '4.5.6' }, values: { replicaCount: 1, db: { password: '' } } },
    config: { replicaCount: 2, db: { password: HELM_SECRET_VALUE, host: 'db.internal' } },
    manifest: `---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: demo-token\ndata:\n  token: ${b64(HELM_MANIFEST_SECRET)}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo-config\ndata:\n  mode: fast\n`,
  };
  return b64(gzipSync(Buffer.from(JSON.stringify(release))).toString('base64'));
}

export interface Fixtures {
  runnerPod: string;
  runnerUid: string;
  node: string;
}

export async function setUpFixtures(admin: KubeRest): Promise<Fixtures> {
  await ensureNamespace(admin, NS);
  const [node] = await nodeNames(admin);
  await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'it-secret', namespace: NS }, type: 'Opaque', data: { password: b64(SECRET_VALUE), username: b64('admin') },
  });
  await ensure(admin, `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'it-config', namespace: NS }, data: { color: 'blue' } });
  await ensure(admin, `/apis/apps/v1/namespaces/${NS}/deployments`, {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] } } },
  });
  await ensure(admin, `/api/v1/namespaces/${NS}/secrets`, {
    apiVersion: 'v1', kind: 'Secret', type: 'helm.sh/release.v1',
    metadata: { name: 'sh.helm.release.v1.demo.v1', namespace: NS, labels: { owner: 'helm', name: 'demo', version: '1', status: 'deployed' } },
    data: { release: helmReleaseData() },
  });
  const runnerPod = 'it-runner';
  await ensure(admin, `/api/v1/namespaces/${NS}/pods`, podManifest(runnerPod, NS, node!, { app: 'it-runner' }));
  await waitFor('the runner pod to be Running (kwok)', async () => {
    const p = await admin.get<{ status?: { phase?: string } }>(`/api/v1/namespaces/${NS}/pods/${runnerPod}`);
    return p.status?.phase === 'Running';
  });
  const pod = await admin.get<{ metadata: { uid: string } }>(`/api/v1/namespaces/${NS}/pods/${runnerPod}`);
  await ensure(admin, `/api/v1/namespaces/${NS}/events`, {
    apiVersion: 'v1', kind: 'Event', metadata: { name: `it-runner.${Date.now()}`, namespace: NS },
    involvedObject: { kind: 'Pod', name: runnerPod, namespace: NS, uid: pod.metadata.uid, apiVersion: 'v1' },
    type: 'Warning', reason: 'ItProbe', message: 'integration probe warning for it-runner', count: 1,
    firstTimestamp: new Date().toISOString(), lastTimestamp: new Date().toISOString(), source: { component: 'worker-it' },
  });
  return { runnerPod, runnerUid: pod.metadata.uid, node: node! };
}
