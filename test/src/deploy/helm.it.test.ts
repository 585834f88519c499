import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadStackEnv } from '../stack/env.js';
import { objects, VALUE_SETS, type K8sObject, type ValueSet } from './chart.js';
import { ensureHelm } from './helm-binary.js';
import { chartDir } from './paths.js';

const run = promisify(execFile);

let helm: string;
const rendered = new Map<ValueSet, K8sObject[]>();

async function template(values: string, extra: string[] = []): Promise<string> {
  const { stdout } = await run(helm, ['template', 'kmg', chartDir, '--namespace', 'default', '-f', values, ...extra], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

const find = (set: ValueSet, kind: string, name?: string): K8sObject[] =>
  rendered.get(set)!.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (set: ValueSet, kind: string, name: string): K8sObject => {
  const found = find(set, kind, name);
  expect(found, `${kind}/${name} in ${set}`).toHaveLength(1);
  return found[0]!;
};

interface PodSpec {
  containers: Array<{ name: string; image: string; args: string[]; ports: Array<{ name: string; containerPort: number }>; env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>; readinessProbe: { httpGet: { path: string; port: string } }; livenessProbe: { httpGet: { path: string; port: string } }; startupProbe: { httpGet: { path: string; port: string } }; securityContext: Record<string, unknown> }>;
  priorityClassName?: string;
  affinity?: Record<string, unknown>;
  topologySpreadConstraints?: Array<{ topologyKey: string }>;
  securityContext: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
}
const podSpec = (o: K8sObject): PodSpec => (o.spec as { template: { spec: PodSpec } }).template.spec;

beforeAll(async () => {
  helm = await ensureHelm();
  for (const [set, file] of Object.entries(VALUE_SETS) as Array<[ValueSet, string]>) rendered.set(set, objects(await template(file)));
}, 1_200_000); // a cold cache compiles helm from source

describe('Helm chart', () => {
  it.each(Object.keys(VALUE_SETS) as ValueSet[])('lints cleanly with the %s values', async (set) => {
    const { stdout } = await run(helm, ['lint', '--strict', chartDir, '-f', VALUE_SETS[set]]);
    expect(stdout).toContain('0 chart(s) failed');
  });

  it('refuses to render without the values it cannot guess, naming them', async () => {
    const err = await run(helm, ['template', 'kmg', chartDir]).catch((e: { stderr: string }) => e);
    expect((err as { stderr: string }).stderr).toMatch(/existingSecret|publicUrl|orgs/);
    const noRedis = await template(VALUE_SETS.minimal, ['--set', 'redis.url=']).catch((e: { stderr: string }) => e);
    expect((noRedis as { stderr: string }).stderr).toMatch(/redis/);
  });

  it('runs the gateway with replicas, autoscaling, a disruption budget, spread and probes', () => {
    const deploy = one('minimal', 'Deployment', 'kmg-kube-mcp-gateway-gateway');
    const spec = podSpec(deploy);
    expect(spec.containers[0]!.args).toEqual(['gateway', '--config', '/etc/kmg/gateway.yaml']);
    // Probes go to the ops listener (metrics port), which the Ingress never routes.
    expect(spec.containers[0]!.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(spec.containers[0]!.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(spec.containers[0]!.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(spec.topologySpreadConstraints?.map((t) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(spec.containers[0]!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(one('minimal', 'HorizontalPodAutoscaler', 'kmg-kube-mcp-gateway-gateway').spec).toMatchObject({ minReplicas: 2 });
    expect(one('minimal', 'PodDisruptionBudget', 'kmg-kube-mcp-gateway-gateway').spec).toMatchObject({ maxUnavailable: 1 });
    // Fixed replicas when autoscaling is off.
    expect(find('impersonation', 'HorizontalPodAutoscaler', 'kmg-kube-mcp-gateway-gateway')).toHaveLength(0);
    expect(one('impersonation', 'Deployment', 'kmg-kube-mcp-gateway-gateway').spec).toMatchObject({ replicas: 3 });
  });

  it('gives the grace period room for the drain delay and the in-flight timeout', () => {
    for (const set of Object.keys(VALUE_SETS) as ValueSet[]) {
      const deploy = one(set, 'Deployment', 'kmg-kube-mcp-gateway-gateway');
      const cfg = readGatewayConfig(set) as { ops: { shutdown: { timeoutSeconds: number; drainDelaySeconds: number } } };
      expect(podSpec(deploy).terminationGracePeriodSeconds).toBeGreaterThan(cfg.ops.shutdown.timeoutSeconds + cfg.ops.shutdown.drainDelaySeconds);
    }
  });

  it('takes every secret from the existing Secret, never from values', () => {
    const env = podSpec(one('two-orgs', 'Deployment', 'kmg-kube-mcp-gateway-gateway')).containers[0]!.env ?? [];
    expect(env.map((e) => [e.name, e.valueFrom?.secretKeyRef?.name, e.valueFrom?.secretKeyRef?.key])).toEqual([
      ['KMG_ENCRYPTION_KEY', 'kmg-secrets', 'encryption-key'],
      ['KMG_ORG_ACME_CLIENT_SECRET', 'kmg-secrets', 'acme-client-secret'],
      ['KMG_ORG_GLOBEX_CLIENT_SECRET', 'kmg-secrets', 'globex-client-secret'],
    ]);
    const config = one('two-orgs', 'ConfigMap', 'kmg-kube-mcp-gateway-gateway').data!['gateway.yaml']!;
    expect(config).toContain('${KMG_ORG_ACME_CLIENT_SECRET}');
    expect(find('two-orgs', 'Secret')).toHaveLength(0);
    // Redis URL with a password comes from the Secret too.
    const imp = podSpec(one('impersonation', 'Deployment', 'kmg-kube-mcp-gateway-gateway')).containers[0]!.env ?? [];
    expect(imp.find((e) => e.name === 'KMG_REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'kmg-secrets', key: 'redis-url' });
  });

  it('renders a gateway config the gateway accepts, for every value set', async () => {
    const { configSchema } = await import('@kmg/gateway');
    for (const set of Object.keys(VALUE_SETS) as ValueSet[]) {
      const parsed = configSchema.safeParse(readGatewayConfig(set));
      expect(parsed.success ? 'valid' : parsed.error.issues.map((i) => `${set}: ${i.path.join('.')}: ${i.message}`).join('\n')).toBe('valid');
    }
    const twoOrgs = configSchema.parse(readGatewayConfig('two-orgs'));
    expect(twoOrgs.orgs.map((o) => o.name)).toEqual(['acme', 'globex']);
    expect(twoOrgs.storage.redis?.url).toBe('redis-sentinel://redis-sentinel.data.svc:26379/mymaster');
    expect(twoOrgs.orgs[1]!.policy.readOnly).toBe(true);
  });

  it('renders worker configs the worker accepts, and points each org cluster at its pool Service', async () => {
    const { parseWorkerConfig } = await import('@kmg/worker/config');
    for (const set of Object.keys(VALUE_SETS) as ValueSet[]) {
      const services = new Set(find(set, 'Service').map((s) => s.metadata.name));
      for (const cm of find(set, 'ConfigMap').filter((c) => c.data?.['worker.yaml'])) {
        const worker = parseWorkerConfig(objects(cm.data!['worker.yaml']!)[0]);
        expect(worker.host).toBe('0.0.0.0');
        expect(worker.allowedHosts).toContain(`${cm.metadata.name}.default.svc:8080`);
      }
      const gw = readGatewayConfig(set) as { orgs: Array<{ clusters: Array<{ workers: string[] }> }> };
      for (const cluster of gw.orgs.flatMap((o) => o.clusters)) {
        for (const url of cluster.workers) expect(services).toContain(new URL(url).hostname.split('.')[0]);
      }
    }
  });

  it('keeps SSE working through the Ingress: no buffering, long timeouts', () => {
    const ingress = one('impersonation', 'Ingress', 'kmg-kube-mcp-gateway-gateway');
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
    });
    expect(JSON.stringify(ingress.spec)).toContain('"host":"gw.example.org"');
    // An nginx Ingress carries no other controller's annotations.
    expect(Object.keys(ingress.metadata.annotations ?? {}).filter((k) => !k.startsWith('nginx.ingress.kubernetes.io/'))).toEqual([]);
    expect(find('minimal', 'Ingress')).toHaveLength(0);
  });

  it('lets an impersonating pool impersonate exactly its allow-listed users and groups (with the prefix); bearer workers get no token', () => {
    const role = one('impersonation', 'ClusterRole', 'kmg-kube-mcp-gateway-worker-legacy-impersonator');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['oidc:alice', 'oidc:bob'] },
      { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: ['oidc:k8s-admins', 'oidc:k8s-viewers'] },
    ]);
    const binding = one('impersonation', 'ClusterRoleBinding', 'kmg-kube-mcp-gateway-worker-legacy-impersonator');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'kmg-kube-mcp-gateway-worker-legacy', namespace: 'default' }]);
    expect(one('impersonation', 'ServiceAccount', 'kmg-kube-mcp-gateway-worker-legacy').automountServiceAccountToken).toBe(true);
    for (const set of ['minimal', 'two-orgs'] as const) {
      expect(find(set, 'ClusterRole')).toHaveLength(0);
      expect(find(set, 'ClusterRoleBinding')).toHaveLength(0);
    }
    expect(podSpec(one('minimal', 'Deployment', 'kmg-kube-mcp-gateway-worker-default')).automountServiceAccountToken).toBe(false);
  });

  it('makes impersonating workers trust this release\'s gateway by default (issuer, audience, in-cluster JWKS)', async () => {
    // Lists replace lists in Helm values, so restate both cluster lists with identity impersonation.
    const overlay = path.join(mkdtempSync(path.join(tmpdir(), 'kmg-helm-')), 'impersonate.yaml');
    writeFileSync(overlay, stringify({
      orgs: [{ name: 'acme', keycloak: { issuer: 'https://sso.example.com/realms/acme', clientSecretKey: 'acme-client-secret' }, clusters: [{ name: 'local', workerPool: 'default', identity: 'impersonation' }] }],
      workerPools: { default: { clusters: [{ name: 'local', identity: 'impersonation', impersonation: { unrestricted: true } }] } },
    }));
    const docs = objects(await template(VALUE_SETS.minimal, ['-f', overlay]));
    const cm = docs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'kmg-kube-mcp-gateway-worker-default')!;
    const { parseWorkerConfig } = await import('@kmg/worker/config');
    const worker = parseWorkerConfig(objects(cm.data!['worker.yaml']!)[0]);
    expect(worker.assertion).toEqual({ issuer: 'https://mcp.example.com', audience: 'kubernetes', jwksUrl: 'http://kmg-kube-mcp-gateway-gateway.default.svc:80/orgs/acme/mcp/identity/jwks.json' });
    expect(worker.clusters[0]).toMatchObject({ identity: 'impersonation', server: 'https://kubernetes.default.svc', serviceAccountTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' });
    // The gateway gets its signing key from the Secret.
    const gw = docs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kmg-kube-mcp-gateway-gateway')!;
    expect(JSON.stringify(gw.spec)).toContain('identity-signing-key.pem');
  });

  it('admits traffic to workers only from the gateway pods', () => {
    const np = one('minimal', 'NetworkPolicy', 'kmg-kube-mcp-gateway-workers');
    expect(np.spec).toMatchObject({
      podSelector: { matchLabels: { 'app.kubernetes.io/component': 'worker' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'kmg', 'app.kubernetes.io/component': 'gateway' } } }] }],
    });
  });

  it('adds a ServiceMonitor for /metrics only when asked', () => {
    const sm = one('impersonation', 'ServiceMonitor', 'kmg-kube-mcp-gateway');
    expect(JSON.stringify(sm.spec)).toContain('"port":"metrics","path":"/metrics"');
    // /metrics lives on its own port, which the Ingress (routing the http port) never exposes.
    expect((readGatewayConfig('impersonation') as { ops: { metrics: { port: number } } }).ops.metrics.port).toBe(9090);
    const svcPorts = (one('impersonation', 'Service', 'kmg-kube-mcp-gateway-gateway').spec as { ports: Array<{ name: string }> }).ports.map((p) => p.name);
    expect(svcPorts).toEqual(['http', 'metrics']);
    expect(JSON.stringify(one('impersonation', 'Ingress', 'kmg-kube-mcp-gateway-gateway').spec)).toContain('"port":{"name":"http"}');
    expect(sm.metadata.labels?.release).toBe('prometheus');
    expect(find('minimal', 'ServiceMonitor')).toHaveLength(0);
  });

  it('deploys one worker pool per referenced pool, each with autoscaling and probes', () => {
    const workers = find('two-orgs', 'Deployment').filter((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'worker');
    expect(workers.map((w) => w.metadata.name).sort()).toEqual(['kmg-kube-mcp-gateway-worker-acme-prod', 'kmg-kube-mcp-gateway-worker-acme-staging', 'kmg-kube-mcp-gateway-worker-globex']);
    for (const w of workers) {
      expect(podSpec(w).containers[0]!.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
      expect(find('two-orgs', 'HorizontalPodAutoscaler', w.metadata.name)).toHaveLength(1);
    }
    // The chart's default pool is not rendered when no org uses it.
    expect(find('two-orgs', 'Deployment', 'kmg-kube-mcp-gateway-worker-default')).toHaveLength(0);
  });
});

/** Renders a value set with an overlay (written to a file: lists in overlays replace lists). */
async function renderWith(overlay: Record<string, unknown>, base: ValueSet = 'minimal'): Promise<K8sObject[]> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'kmg-helm-')), 'overlay.yaml');
  writeFileSync(file, stringify(overlay));
  return objects(await template(VALUE_SETS[base], ['-f', file]));
}
/** The render error for an overlay (the test fails if it renders). */
async function refusal(overlay: Record<string, unknown>, base: ValueSet = 'minimal'): Promise<string> {
  const result = await renderWith(overlay, base).then(() => 'rendered', (e: { stderr?: string }) => e.stderr ?? String(e));
  expect(result).not.toBe('rendered');
  return result;
}
const acme = (clusters: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'acme', keycloak: { issuer: 'https://sso.example.com/realms/acme', clientSecretKey: 'acme-client-secret' }, clusters, ...extra });
const kinds = (objs: K8sObject[], kind: string, name?: string) => objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

describe('Helm chart: values it refuses', () => {
  it('rejects unknown keys at every level (typos fail instead of being ignored)', async () => {
    for (const typo of [{ gateway: { replicas: 3 } }, { ingress: { enable: true } }, { workerDefaults: { pdb: { minAvaliable: 1 } } }, { networkPolicy: { egres: {} } }, { secrets: { existingSecret: 'kmg-secrets', encryptionKey: 'x' } }]) {
      expect(await refusal(typo), JSON.stringify(typo)).toMatch(/additional properties|additionalProperties/i);
    }
  });

  it('rejects credentials in redis.url (it lands in a ConfigMap) and a malformed image digest', async () => {
    expect(await refusal({ redis: { url: 'redis://:hunter2@redis.data.svc:6379/0' } })).toMatch(/redis\/url/);
    expect(await refusal({ redis: { url: 'redis://default:hunter2@redis.data.svc:6379/0' } })).toMatch(/redis\/url/);
    expect(await refusal({ image: { repository: 'r', digest: 'latest' } })).toMatch(/digest/);
  });

  it('requires keycloak unless the org is a resource server, and a singleOrg that names an org', async () => {
    expect(await refusal({ orgs: [{ name: 'acme', clusters: [{ name: 'local', workerPool: 'default' }] }] })).toMatch(/keycloak/);
    const rs = await renderWith({ orgs: [{ name: 'acme', mode: 'resource-server', resourceServer: { issuer: 'https://sso.example.com/realms/acme', audience: ['mcp'] }, exchange: { tokenEndpoint: 'https://sso.example.com/t', clientId: 'c', clientSecret: 's' }, clusters: [{ name: 'local', workerPool: 'default' }] }] });
    expect(kinds(rs, 'Deployment')).toHaveLength(2);
    expect(await refusal({ singleOrg: 'globex' })).toMatch(/singleOrg "globex" is not one of orgs\[\]\.name \(acme\)/);
  });

  it('refuses contradictions that would only fail at run time', async () => {
    // The old impersonation values: workers expecting an audience the gateway never signs for.
    expect(await refusal({ workerPools: { legacy: { clusters: [{ name: 'legacy', identity: 'impersonation', impersonation: { allowedUsers: ['alice'] } }], assertion: { issuer: 'https://gw.example.org', audience: 'kube-mcp-worker' } } } }, 'impersonation')).toMatch(/assertion\.audience "kube-mcp-worker" differs/);
    // A ServiceMonitor whose scrapes the worker NetworkPolicy would drop.
    expect(await refusal({ metrics: { serviceMonitor: { enabled: true } } })).toMatch(/networkPolicy\.metricsFrom/);
    // Two orgs on one impersonating pool, signing for different audiences.
    const imp = { name: 'shared', identity: 'impersonation', impersonation: { unrestricted: true } };
    expect(await refusal({
      orgs: [acme([{ name: 'shared', workerPool: 'default', identity: 'impersonation', audience: 'kubernetes' }]), { ...acme([{ name: 'shared', workerPool: 'default', identity: 'impersonation', audience: 'other' }]), name: 'globex' }],
      workerPools: { default: { clusters: [imp] } },
    })).toMatch(/different audiences \(kubernetes, other\)/);
    // An org cluster its pool does not serve, or serves with another identity.
    expect(await refusal({ orgs: [acme([{ name: 'prod', workerPool: 'default' }])] })).toMatch(/has no cluster named "prod"/);
    expect(await refusal({ orgs: [acme([{ name: 'local', workerPool: 'default', identity: 'impersonation' }])] })).toMatch(/identity is impersonation but workerPools\.default cluster local is bearer/);
  });

  it('never lends the local service-account token to a remote server, and never lets it impersonate anyone by default', async () => {
    const orgs = [acme([{ name: 'remote', workerPool: 'default', identity: 'impersonation' }])];
    expect(await refusal({ orgs, workerPools: { default: { clusters: [{ name: 'remote', server: 'https://api.other.example:6443', identity: 'impersonation' }] } } })).toMatch(/remote server .* set serviceAccountTokenFile or kubeconfig/);
    expect(await refusal({ orgs: [acme([{ name: 'local', workerPool: 'default', identity: 'impersonation' }])], workerPools: { default: { clusters: [{ name: 'local', identity: 'impersonation' }] } } })).toMatch(/impersonation\.allowedUsers .* or set impersonation\.unrestricted/);
    // With that cluster's own credentials it renders: no RBAC here, no token mounted, no token file defaulted.
    const docs = await renderWith({ orgs, workerPools: { default: { clusters: [{ name: 'remote', server: 'https://api.other.example:6443', identity: 'impersonation', kubeconfig: '/etc/kmg/remote/kubeconfig' }] } } });
    expect(kinds(docs, 'ClusterRole')).toHaveLength(0);
    expect(podSpec(kinds(docs, 'Deployment', 'kmg-kube-mcp-gateway-worker-default')[0]!).automountServiceAccountToken).toBe(false);
    const { parseWorkerConfig } = await import('@kmg/worker/config');
    const worker = parseWorkerConfig(objects(kinds(docs, 'ConfigMap', 'kmg-kube-mcp-gateway-worker-default')[0]!.data!['worker.yaml']!)[0]);
    expect(worker.clusters[0]).toMatchObject({ server: 'https://api.other.example:6443', kubeconfig: '/etc/kmg/remote/kubeconfig' });
    expect(worker.clusters[0]!.serviceAccountTokenFile).toBeUndefined();
  });
});

describe('Helm chart: what platform teams set', () => {
  it('renders a disruption budget only for more than one replica, maxUnavailable 1 by default, an explicit 0 honoured', async () => {
    const single = await renderWith({ gateway: { autoscaling: { enabled: false }, replicaCount: 1 }, workerDefaults: { autoscaling: { enabled: false }, replicaCount: 1 } });
    expect(kinds(single, 'PodDisruptionBudget')).toHaveLength(0);
    const zero = await renderWith({ gateway: { pdb: { maxUnavailable: 0 } }, workerPools: { default: { clusters: [{ name: 'local', identity: 'bearer' }], pdb: { maxUnavailable: 0 } } } });
    expect(kinds(zero, 'PodDisruptionBudget').map((p) => p.spec)).toEqual([expect.objectContaining({ maxUnavailable: 0 }), expect.objectContaining({ maxUnavailable: 0 })]);
    expect(one('minimal', 'PodDisruptionBudget', 'kmg-kube-mcp-gateway-worker-default').spec).toMatchObject({ maxUnavailable: 1 });
  });

  it('lets security contexts be overridden (OpenShift restricted-v2 assigns the uid) and pins the image by digest', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const docs = await renderWith({ image: { repository: 'registry.example/kmg', tag: '1.2.3', digest }, podSecurityContext: { runAsUser: null, runAsGroup: null, fsGroup: null }, workerDefaults: { containerSecurityContext: { readOnlyRootFilesystem: true, runAsUser: 1000680000 } } });
    for (const d of kinds(docs, 'Deployment')) {
      expect(podSpec(d).containers[0]!.image).toBe(`registry.example/kmg@${digest}`);
      expect(podSpec(d).securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    }
    expect(podSpec(kinds(docs, 'Deployment', 'kmg-kube-mcp-gateway-worker-default')[0]!).containers[0]!.securityContext).toMatchObject({ runAsUser: 1000680000, allowPrivilegeEscalation: false });
  });

  it('schedules worker pools as asked: labels, annotations, affinity, zone spread, priority, grace, streams autoscaling', async () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['mcp'] }] }] } } };
    const docs = await renderWith({
      workerDefaults: { podLabels: { team: 'platform' }, priorityClassName: 'mcp-high' },
      workerPools: { default: { clusters: [{ name: 'local', identity: 'bearer' }], podAnnotations: { 'example.com/scrape': 'metrics' }, affinity, terminationGracePeriodSeconds: 300, autoscaling: { streams: { enabled: true, averageValue: 40 } } } },
    });
    const w = kinds(docs, 'Deployment', 'kmg-kube-mcp-gateway-worker-default')[0]!;
    const tpl = (w.spec as { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } }).template.metadata;
    expect(tpl.labels).toMatchObject({ team: 'platform', 'kube-mcp-gateway/worker-pool': 'default' });
    expect(tpl.annotations['example.com/scrape']).toBe('metrics');
    expect(podSpec(w)).toMatchObject({ affinity, priorityClassName: 'mcp-high', terminationGracePeriodSeconds: 300 });
    expect(podSpec(w).topologySpreadConstraints?.map((t) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    const hpa = kinds(docs, 'HorizontalPodAutoscaler', 'kmg-kube-mcp-gateway-worker-default')[0]!;
    expect((hpa.spec as { metrics: unknown[] }).metrics).toContainEqual({ type: 'Pods', pods: { metric: { name: 'kmg_live_streams' }, target: { type: 'AverageValue', averageValue: '40' } } });
  });

  it('rolls the pods when the external Secret changes (checksum or reloader annotation)', async () => {
    const docs = await renderWith({ secrets: { existingSecret: 'kmg-secrets', checksum: 'v42', reloader: true } });
    for (const d of kinds(docs, 'Deployment')) {
      expect((d.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations).toMatchObject({ 'checksum/secret': 'v42', 'secret.reloader.stakater.com/reload': 'kmg-secrets' });
    }
  });

  it('puts a host name (no port) in the Ingress and only the annotations of its controller', async () => {
    const docs = await renderWith({ publicUrl: 'https://mcp.example.com:8443', ingress: { enabled: true, className: 'haproxy' } });
    const ingress = kinds(docs, 'Ingress')[0]!;
    expect((ingress.spec as { rules: Array<{ host: string }> }).rules[0]!.host).toBe('mcp.example.com');
    expect(Object.keys(ingress.metadata.annotations ?? {})).toEqual(['haproxy.org/timeout-server']);
  });
});

/* ---------- NetworkPolicy under a namespace default-deny, simulated on the rendered policies ---------- */

interface Peer { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: { matchLabels?: Record<string, string> }; ipBlock?: { cidr: string } }
interface NpRule { from?: Peer[]; to?: Peer[]; ports?: Array<{ port: number | string; protocol?: string }> }
interface NpSpec { podSelector: { matchLabels?: Record<string, string> }; policyTypes: string[]; ingress?: NpRule[]; egress?: NpRule[] }
interface Endpoint { labels: Record<string, string>; namespace: Record<string, string>; ip?: string; ports?: Record<string, number> }

const matches = (sel: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string>) => Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (a: string) => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = Number(bits) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(bits));
  return (n(ip) & mask) >>> 0 === (n(base!) & mask) >>> 0;
}
function peerMatches(peer: Peer, ep: Endpoint, sameNamespace: boolean): boolean {
  if (peer.ipBlock) return ep.ip !== undefined && inCidr(ep.ip, peer.ipBlock.cidr);
  if (!ep.labels || Object.keys(ep.labels).length === 0) return false;
  const nsOk = peer.namespaceSelector ? matches(peer.namespaceSelector, ep.namespace) : sameNamespace;
  return nsOk && (peer.podSelector ? matches(peer.podSelector, ep.labels) : true);
}
function portMatches(rule: NpRule, port: number, named: Record<string, number> | undefined, protocol: string): boolean {
  if (!rule.ports) return true;
  return rule.ports.some((p) => (p.protocol ?? 'TCP') === protocol && (typeof p.port === 'number' ? p.port === port : named?.[p.port] === port));
}
/** Whether src may open a connection to dst:port, with every pod of the namespace under a default-deny (both directions). */
function allowed(policies: NpSpec[], ns: Record<string, string>, src: Endpoint, dst: Endpoint, port: number, protocol = 'TCP'): boolean {
  const srcInNs = src.namespace === ns;
  const dstInNs = dst.namespace === ns;
  const egressOk = !srcInNs || policies.some((p) => p.policyTypes.includes('Egress') && matches(p.podSelector, src.labels) && (p.egress ?? []).some((r) => (r.to === undefined || r.to.some((peer) => peerMatches(peer, dst, dstInNs))) && portMatches(r, port, dst.ports, protocol)));
  const ingressOk = !dstInNs || policies.some((p) => p.policyTypes.includes('Ingress') && matches(p.podSelector, dst.labels) && (p.ingress ?? []).some((r) => (r.from === undefined || r.from.some((peer) => peerMatches(peer, src, srcInNs))) && portMatches(r, port, dst.ports, protocol)));
  return egressOk && ingressOk;
}

describe('Helm chart: NetworkPolicy for every component, under a namespace default-deny', () => {
  it('admits exactly the traffic the product needs (DNS, Redis, Keycloak, apiserver, gateway → worker, worker → gateway JWKS, ingress, scrapes)', async () => {
    const ns = { 'kubernetes.io/metadata.name': 'default' };
    const docs = await renderWith({
      networkPolicy: {
        metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        egress: {
          enabled: true,
          redis: { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } }, podSelector: { matchLabels: { app: 'redis' } } }], ports: [6379] },
          keycloak: { to: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [443] },
          apiserver: { to: [{ ipBlock: { cidr: '10.0.0.1/32' } }], ports: [6443] },
        },
      },
    }, 'impersonation');
    const policies = kinds(docs, 'NetworkPolicy').map((p) => p.spec as unknown as NpSpec);
    const sel = { 'app.kubernetes.io/name': 'kube-mcp-gateway', 'app.kubernetes.io/instance': 'kmg' };
    const gateway: Endpoint = { labels: { ...sel, 'app.kubernetes.io/component': 'gateway' }, namespace: ns, ports: { http: 8080, metrics: 9090 } };
    const worker: Endpoint = { labels: { ...sel, 'app.kubernetes.io/component': 'worker', 'kube-mcp-gateway/worker-pool': 'legacy' }, namespace: ns, ports: { http: 8080, metrics: 9090 } };
    const dns: Endpoint = { labels: { 'k8s-app': 'kube-dns' }, namespace: { 'kubernetes.io/metadata.name': 'kube-system' } };
    const redis: Endpoint = { labels: { app: 'redis' }, namespace: { 'kubernetes.io/metadata.name': 'data' } };
    const keycloak: Endpoint = { labels: {}, namespace: {}, ip: '203.0.113.10' };
    const apiserver: Endpoint = { labels: {}, namespace: {}, ip: '10.0.0.1' };
    const ingressNginx: Endpoint = { labels: { app: 'ingress-nginx' }, namespace: { 'kubernetes.io/metadata.name': 'ingress-nginx' } };
    const prometheus: Endpoint = { labels: { app: 'prometheus' }, namespace: { 'kubernetes.io/metadata.name': 'monitoring' } };
    const stranger: Endpoint = { labels: { app: 'other' }, namespace: ns, ports: {} };
    const needed: Array<[string, Endpoint, Endpoint, number, string?]> = [
      ['gateway → DNS', gateway, dns, 53, 'UDP'], ['worker → DNS', worker, dns, 53, 'UDP'],
      ['gateway → Redis', gateway, redis, 6379], ['gateway → Keycloak', gateway, keycloak, 443],
      ['gateway → worker', gateway, worker, 8080], ['worker → gateway JWKS', worker, gateway, 8080],
      ['worker → apiserver', worker, apiserver, 6443], ['ingress → gateway', ingressNginx, gateway, 8080],
      ['Prometheus → gateway metrics', prometheus, gateway, 9090], ['Prometheus → worker metrics', prometheus, worker, 9090],
    ];
    for (const [what, src, dst, port, proto] of needed) expect(allowed(policies, ns, src, dst, port, proto), what).toBe(true);
    const refused: Array<[string, Endpoint, Endpoint, number]> = [
      ['another pod → worker', stranger, worker, 8080], ['another pod → gateway', stranger, gateway, 8080],
      ['worker → Redis', worker, redis, 6379], ['worker → Keycloak', worker, keycloak, 443], ['gateway → apiserver', gateway, apiserver, 6443],
      ['Prometheus → worker http', prometheus, worker, 8080], ['ingress → worker', ingressNginx, worker, 8080],
    ];
    for (const [what, src, dst, port] of refused) expect(allowed(policies, ns, src, dst, port), what).toBe(false);
  });

  it('leaves egress open unless asked (opt-in), and still guards ingress to every component', () => {
    for (const set of Object.keys(VALUE_SETS) as ValueSet[]) {
      const policies = find(set, 'NetworkPolicy');
      expect(policies.map((p) => p.metadata.name).sort()).toEqual(['kmg-kube-mcp-gateway-gateway', 'kmg-kube-mcp-gateway-workers']);
      for (const p of policies) expect((p.spec as unknown as NpSpec).policyTypes).toEqual(['Ingress']);
    }
  });
});

function readGatewayConfig(set: ValueSet): unknown {
  const text = one(set, 'ConfigMap', 'kmg-kube-mcp-gateway-gateway').data!['gateway.yaml']!;
  // The gateway expands ${NAME} from its environment at start; give it what the Secret would.
  const env: Record<string, string> = { KMG_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'), KMG_REDIS_URL: 'redis-sentinel://s1:26379,s2:26379/mymaster' };
  const expanded = text.replace(/\$\{([A-Z0-9_]+)\}/g, (_m, name: string) => env[name] ?? `secret-for-${name}`);
  return objects(expanded)[0];
}

describe('Helm chart against a real kube-apiserver', () => {
  it.each(Object.keys(VALUE_SETS) as ValueSet[])('passes a server-side dry-run apply with the %s values', async (set) => {
    const stack = loadStackEnv();
    // ServiceMonitor needs the Prometheus operator's CRD, which a bare apiserver lacks: its shape is checked above.
    const manifests = rendered.get(set)!.filter((o) => o.kind !== 'ServiceMonitor');
    const input = manifests.map((o) => JSON.stringify(o)).join('\n');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('kubectl', ['--kubeconfig', stack.KUBECONFIG_ADMIN, 'apply', '--dry-run=server', '--namespace', 'default', '-o', 'name', '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
      child.stdin.end(input);
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // The apiserver accepted (and admitted) every object.
    expect(stdout.trim().split('\n')).toHaveLength(manifests.length);
  });

  it('prints the MCP URL of each org after install (NOTES.txt)', async () => {
    const stack = loadStackEnv();
    const { stdout } = await run(helm, ['install', 'kmg', chartDir, '--dry-run=client', '--kubeconfig', stack.KUBECONFIG_ADMIN, '--namespace', 'default', '-f', VALUE_SETS['two-orgs'], '--set', 'metrics.serviceMonitor.enabled=false'], { maxBuffer: 16 * 1024 * 1024 });
    const notes = stdout.slice(stdout.indexOf('NOTES:'));
    expect(notes).toContain('acme: https://mcp.example.com/orgs/acme/mcp');
    expect(notes).toContain('globex: https://mcp.example.com/orgs/globex/mcp');
    expect(notes).toContain('https://mcp.example.com/orgs/<org>/callback');
    // The metrics command reaches the ops port, where /metrics and the detailed /readyz live.
    expect(notes).toContain('port-forward svc/kmg-kube-mcp-gateway-gateway 9090:metrics');
    expect(notes).toContain('curl -s localhost:9090/metrics');
    expect(notes).toMatch(/kmg-kube-mcp-gateway-worker-globex: nothing \(no token is mounted/);
    const imp = await run(helm, ['install', 'kmg', chartDir, '--dry-run=client', '--kubeconfig', stack.KUBECONFIG_ADMIN, '--namespace', 'default', '-f', VALUE_SETS.impersonation, '--set', 'metrics.serviceMonitor.enabled=false'], { maxBuffer: 16 * 1024 * 1024 });
    expect(imp.stdout.slice(imp.stdout.indexOf('NOTES:'))).toMatch(/kmg-kube-mcp-gateway-worker-legacy: impersonate on this cluster[^\n]*\n\s+only the users oidc:alice, oidc:bob/);
  });
});
