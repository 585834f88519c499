import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { loadStackEnv } from '../stack/env.js';
import { ensureHelm } from './helm-binary.js';
import { chartDir, repoRoot } from './paths.js';

const run = promisify(execFile);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
  automountServiceAccountToken?: boolean;
}

/** The value sets the chart is tested with: CI sets in the chart, and the README's two-org example. */
const VALUE_SETS = {
  minimal: path.join(chartDir, 'ci', 'minimal-values.yaml'),
  impersonation: path.join(chartDir, 'ci', 'impersonation-values.yaml'),
  'two-orgs': path.join(repoRoot, 'helm', 'examples', 'two-orgs.values.yaml'),
} as const;
type ValueSet = keyof typeof VALUE_SETS;

let helm: string;
const rendered = new Map<ValueSet, K8sObject[]>();

async function template(values: string, extra: string[] = []): Promise<string> {
  const { stdout } = await run(helm, ['template', 'kmg', chartDir, '--namespace', 'default', '-f', values, ...extra], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

function objects(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

const find = (set: ValueSet, kind: string, name?: string): K8sObject[] =>
  rendered.get(set)!.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (set: ValueSet, kind: string, name: string): K8sObject => {
  const found = find(set, kind, name);
  expect(found, `${kind}/${name} in ${set}`).toHaveLength(1);
  return found[0]!;
};

interface PodSpec {
  containers: Array<{ name: string; args: string[]; env?: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>; readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } }; securityContext: Record<string, unknown> }>;
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
    expect(spec.containers[0]!.readinessProbe.httpGet.path).toBe('/readyz');
    expect(spec.containers[0]!.livenessProbe.httpGet.path).toBe('/healthz');
    expect(spec.topologySpreadConstraints?.map((t) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(spec.containers[0]!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(one('minimal', 'HorizontalPodAutoscaler', 'kmg-kube-mcp-gateway-gateway').spec).toMatchObject({ minReplicas: 2 });
    expect(one('minimal', 'PodDisruptionBudget', 'kmg-kube-mcp-gateway-gateway').spec).toMatchObject({ minAvailable: 1 });
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
    expect(find('minimal', 'Ingress')).toHaveLength(0);
  });

  it('lets impersonating workers impersonate users and groups and nothing else; bearer workers get no token', () => {
    const role = one('impersonation', 'ClusterRole', 'kmg-kube-mcp-gateway-impersonator');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }]);
    const binding = one('impersonation', 'ClusterRoleBinding', 'kmg-kube-mcp-gateway-impersonator');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'kmg-kube-mcp-gateway-worker-legacy', namespace: 'default' }]);
    expect(one('impersonation', 'ServiceAccount', 'kmg-kube-mcp-gateway-worker-legacy').automountServiceAccountToken).toBe(true);
    expect(find('minimal', 'ClusterRole')).toHaveLength(0);
    expect(podSpec(one('minimal', 'Deployment', 'kmg-kube-mcp-gateway-worker-default')).automountServiceAccountToken).toBe(false);
  });

  it('makes impersonating workers trust this release\'s gateway by default (issuer, audience, in-cluster JWKS)', async () => {
    // Lists replace lists in Helm values, so restate both cluster lists with identity impersonation.
    const overlay = path.join(mkdtempSync(path.join(tmpdir(), 'kmg-helm-')), 'impersonate.yaml');
    writeFileSync(overlay, stringify({
      orgs: [{ name: 'acme', keycloak: { issuer: 'https://sso.example.com/realms/acme', clientSecretKey: 'acme-client-secret' }, clusters: [{ name: 'local', workerPool: 'default', identity: 'impersonation' }] }],
      workerPools: { default: { clusters: [{ name: 'local', identity: 'impersonation' }] } },
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
      expect(podSpec(w).containers[0]!.readinessProbe.httpGet.path).toBe('/readyz');
      expect(find('two-orgs', 'HorizontalPodAutoscaler', w.metadata.name)).toHaveLength(1);
    }
    // The chart's default pool is not rendered when no org uses it.
    expect(find('two-orgs', 'Deployment', 'kmg-kube-mcp-gateway-worker-default')).toHaveLength(0);
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
  });
});
