// metrics-server built from its module (sigs.k8s.io/metrics-server), run as a local process and registered
// with the kube-apiserver's aggregation layer as v1beta1.metrics.k8s.io, so pods_top and nodes_top read a
// real metrics API. It scrapes kwok, which emulates each node's kubelet /metrics/resource (see kwok.ts),
// wired as kwokctl --enable-metrics-server does it: the nodes' metrics-path annotation and status port.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Component } from '../component.js';
import { request } from '../http.js';
import { ensureGoBinary } from './go-build.js';
import { extensionServingCert } from './pki.js';

export const METRICS_SERVER_VERSION = process.env.KMG_METRICS_SERVER_VERSION ?? 'v0.8.0';
export const METRICS_APISERVICE = 'v1beta1.metrics.k8s.io';
/** The lowest resolution metrics-server accepts: a new pod shows up in the metrics API within about two of these. */
export const METRIC_RESOLUTION_SECONDS = 10;
const SERVICE = { name: 'metrics-server', namespace: 'kube-system' };

/**
 * The Service and APIService that route metrics.k8s.io to the process. There is no service network here (a
 * ClusterIP leads nowhere, and --enable-aggregator-routing would need endpoint addresses, which may not be
 * loopback): the aggregator resolves an ExternalName Service to `<externalName>:<APIService port>`. It checks the serving certificate against
 * `metrics-server.kube-system.svc`, whatever the address.
 */
function registration(port: number, caFile: string): unknown[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { ...SERVICE, labels: { 'k8s-app': 'metrics-server' } },
      spec: { type: 'ExternalName', externalName: '127.0.0.1', ports: [{ name: 'https', port, protocol: 'TCP' }] } },
    { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: METRICS_APISERVICE, labels: { 'k8s-app': 'metrics-server' } },
      spec: { group: 'metrics.k8s.io', version: 'v1beta1', service: { ...SERVICE, port },
        caBundle: readFileSync(caFile).toString('base64'), groupPriorityMinimum: 100, versionPriority: 100 } },
  ];
}

function adminTls(env: Record<string, string>) {
  return { caFile: env.STACK_CA_FILE, certFile: env.STACK_ADMIN_CERT_FILE, keyFile: env.STACK_ADMIN_KEY_FILE };
}

/** Server-side apply as the stack: a restarted metrics-server on another port re-points the APIService. */
async function apply(env: Record<string, string>, obj: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): Promise<void> {
  const base = obj.apiVersion === 'v1' ? '/api/v1' : `/apis/${obj.apiVersion}`;
  const ns = obj.metadata.namespace ? `/namespaces/${obj.metadata.namespace}` : '';
  const plural = obj.kind === 'Service' ? 'services' : 'apiservices';
  const res = await request(`${env.KUBE_APISERVER_URL}${base}${ns}/${plural}/${obj.metadata.name}?fieldManager=kmg-stack&force=true`, {
    ...adminTls(env), method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' }, body: JSON.stringify(obj),
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`applying ${obj.kind} ${obj.metadata.name}: ${res.status} ${res.text.slice(0, 300)}`);
}

/** Undefined when the APIService is Available and routes to `url`; otherwise why not. */
async function apiServiceProblem(env: Record<string, string>, url: string): Promise<string | undefined> {
  const res = await request(`${env.KUBE_APISERVER_URL}/apis/apiregistration.k8s.io/v1/apiservices/${METRICS_APISERVICE}`, adminTls(env));
  if (res.status !== 200) return `APIService ${METRICS_APISERVICE}: ${res.status}`;
  const svc = JSON.parse(res.text) as { spec?: { service?: { port?: number } }; status?: { conditions?: Array<{ type: string; status: string; message?: string }> } };
  if (String(svc.spec?.service?.port) !== new URL(url).port) return `APIService ${METRICS_APISERVICE} routes to port ${svc.spec?.service?.port}, not ${url}`;
  const available = svc.status?.conditions?.find((c) => c.type === 'Available');
  return available?.status === 'True' ? undefined : `APIService ${METRICS_APISERVICE} not Available: ${available?.message ?? 'no condition yet'}`;
}

async function livez(env: Record<string, string>): Promise<string | undefined> {
  if (!env.METRICS_SERVER_URL) return 'METRICS_SERVER_URL missing';
  try {
    const res = await request(`${env.METRICS_SERVER_URL}/livez`, { caFile: env.STACK_CA_FILE });
    return res.status === 200 ? undefined : `metrics-server /livez ${res.status}`;
  } catch (err) {
    return `metrics-server /livez: ${(err as Error).message}`;
  }
}

export const metricsServer: Component = {
  name: 'metrics-server',
  dependsOn: ['pki', 'kube-apiserver'],
  async up(ctx) {
    const bin = await ensureGoBinary(ctx, {
      name: 'metrics-server', version: METRICS_SERVER_VERSION, binary: 'metrics-server',
      build: (c, out) => c.run('go', ['install', '-trimpath', '-ldflags=-s -w', `sigs.k8s.io/metrics-server/cmd/metrics-server@${METRICS_SERVER_VERSION}`], {
        env: { GOBIN: path.join(out, 'bin'), CGO_ENABLED: '0' }, cwd: c.paths.cacheDir,
      }),
    });
    const env = ctx.env;
    const dir = ctx.dataDir();
    const serving = await extensionServingCert(ctx, dir, SERVICE.name, SERVICE.namespace);
    const port = await ctx.freePort('METRICS_SERVER_URL');
    const proc = ctx.spawn(bin, [
      '--bind-address=127.0.0.1', `--secure-port=${port}`,
      `--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`,
      // The admin identity (system:masters) covers all metrics-server needs of the apiserver: list nodes and
      // pods, TokenReview/SubjectAccessReview for its callers, and the front-proxy CA in kube-system's
      // extension-apiserver-authentication ConfigMap. On the scrape side kwok's kubelet API checks no client
      // certificate; a real kubelet would want nodes/metrics, which this identity has too.
      `--kubeconfig=${env.KUBECONFIG_ADMIN}`,
      `--authentication-kubeconfig=${env.KUBECONFIG_ADMIN}`,
      `--authorization-kubeconfig=${env.KUBECONFIG_ADMIN}`,
      // kwok serves every node's kubelet API on 127.0.0.1 (the nodes' InternalIP) at the nodes' status port,
      // with the stack's serving certificate, so TLS is verified rather than skipped as kwokctl does.
      '--kubelet-preferred-address-types=InternalIP',
      '--kubelet-use-node-status-port',
      `--kubelet-certificate-authority=${env.STACK_CA_FILE}`,
      `--metric-resolution=${METRIC_RESOLUTION_SECONDS}s`,
      // Must stay under 90% of the resolution (metrics-server refuses to start otherwise; its default is 10s).
      '--kubelet-request-timeout=5s',
      '--v=1',
    ], { cwd: dir });
    const out = { METRICS_SERVER_URL: `https://127.0.0.1:${port}` };
    await ctx.waitFor('its /livez', async () => (await livez({ ...env, ...out })) === undefined, { process: proc, timeoutMs: 60_000 });
    for (const obj of registration(port, env.STACK_CA_FILE!)) await apply(env, obj as Parameters<typeof apply>[1]);
    ctx.progress(`registered APIService ${METRICS_APISERVICE}; waiting for the aggregator to find it Available`);
    await ctx.waitFor(`APIService ${METRICS_APISERVICE} Available`, async () => (await apiServiceProblem(env, out.METRICS_SERVER_URL)) === undefined, {
      process: proc, timeoutMs: 60_000, intervalMs: 500,
    });
    return out;
  },
  async check(env) {
    const problem = (await livez(env)) ?? (await apiServiceProblem(env, env.METRICS_SERVER_URL!));
    if (problem) throw new Error(problem);
  },
};
