// kwok plays the kubelets: it manages fake nodes (annotation kwok.x-k8s.io/node=fake), moves their pods
// through the default "fast" stages to Running, and serves the kubelet API on 127.0.0.1 so that
// `kubectl logs` (ClusterLogs: a log file), `exec` (ClusterExec: a local command in a scratch dir) and
// `port-forward` (ClusterPortForward: `cat`, i.e. an echo) return real data through the apiserver. It also
// plays the kubelets' resource metrics (`/metrics/resource`, what metrics-server scrapes) with the usage the
// annotations below set, so pods_top and nodes_top have numbers a test can predict.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import type { Component, StackContext } from '../component.js';
import { request } from '../http.js';
import { ensureGoBinary } from './go-build.js';

export const KWOK_VERSION = process.env.KMG_KWOK_VERSION ?? 'v0.8.0';
/** The default "fast" stage set of kwok's kustomize/stage/fast, taken from the module itself. */
const STAGE_FILES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
];
/** kwok's kubelet resource-metrics emulation (what kwokctl --enable-metrics-server loads), per node at its path. */
const METRIC_FILE = 'kustomize/metrics/resource/metrics-resource.yaml';
export const FAKE_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
/** Where metrics-server scrapes a node's resource metrics (it honours this node annotation). */
export const RESOURCE_METRICS_PATH_ANNOTATION = 'metrics.k8s.io/resource-metrics-path';
export const resourceMetricsPath = (node: string) => `/metrics/nodes/${node}/metrics/resource`;

/**
 * Emulated usage as quantities ("250m", "300Mi"). On a pod: kwok's own convention, the usage of each of its
 * containers (default 1m and 1Mi); `<key>.<container>` sets one container. On a node: the node's usage
 * (otherwise the sum of its pods), so node numbers stay fixed while tests come and go.
 */
export const USAGE_CPU_ANNOTATION = 'kwok.x-k8s.io/usage-cpu';
export const USAGE_MEMORY_ANNOTATION = 'kwok.x-k8s.io/usage-memory';

/** CEL: a container's usage from annotation `<key>.<container>`, else `<key>` on its pod, else `fallback`. */
function containerUsage(key: string, fallback: string): string {
  const own = `"${key}." + container.name`;
  return `${own} in pod.metadata.annotations ? Quantity(pod.metadata.annotations[${own}])`
    + ` : "${key}" in pod.metadata.annotations ? Quantity(pod.metadata.annotations["${key}"]) : Quantity("${fallback}")`;
}

/** kwok's Metric with the node series taken from the node's usage annotations when it has them. */
function resourceMetric(file: string): unknown {
  const metric = parse(readFileSync(file, 'utf8')) as { spec: { metrics: Array<{ name: string; value: string }> } };
  // CEL wants one type from both branches: `Quantity("1") * <double>` turns kwok's own (pod sum) value into a
  // Quantity (milli precision, 0.1m over a 10 s window for the counter).
  const nodeValue: Record<string, string> = {
    // A counter: usage × seconds since the node was created, so its rate is the annotated usage.
    node_cpu_usage_seconds_total: `"${USAGE_CPU_ANNOTATION}" in node.metadata.annotations`
      + ` ? Quantity(node.metadata.annotations["${USAGE_CPU_ANNOTATION}"]) * node.SinceSecond() : Quantity("1") * node.CumulativeUsage("cpu")`,
    node_memory_working_set_bytes: `"${USAGE_MEMORY_ANNOTATION}" in node.metadata.annotations`
      + ` ? Quantity(node.metadata.annotations["${USAGE_MEMORY_ANNOTATION}"]) : Quantity("1") * node.Usage("memory")`,
  };
  // kwok's own start time is `pod.SinceSecond()` (seconds since creation, taken as an epoch time): it moves at
  // every scrape, and metrics-server, seeing it go backwards now and then (kwok evaluates it per series and
  // caches results), drops the pod's containers ("unexpected decrease in startTime"). The kubelet reports the
  // start as epoch seconds; the pod's creation is that here, and it never moves.
  const startTime = 'UnixSecond(pod.metadata.creationTimestamp)';
  for (const m of metric.spec.metrics) {
    if (nodeValue[m.name]) m.value = nodeValue[m.name]!;
    if (m.name === 'container_start_time_seconds') m.value = startTime;
  }
  if (Object.keys(nodeValue).some((n) => !metric.spec.metrics.some((m) => m.name === n))) throw new Error(`${METRIC_FILE} lacks a node series`);
  return metric;
}

/** Lines every fake container prints as its log (tests grep for them). */
export const FAKE_LOG_LINES = [
  '2026-01-01T00:00:00Z INFO starting web server on :8080',
  '2026-01-01T00:00:01Z INFO connected to database db.team-a.svc:5432',
  '2026-01-01T00:00:02Z WARN slow request GET /api/orders took 1532ms',
  '2026-01-01T00:00:03Z ERROR payment provider timeout after 30s',
  '2026-01-01T00:00:04Z INFO health check ok',
];

/** Copies `files` of kwok's module into `<cacheDir>/<sub>` once; returns their paths there. */
async function ensureModuleFiles(ctx: StackContext, cacheDir: string, sub: string, files: string[]): Promise<string[]> {
  const dir = path.join(cacheDir, sub);
  if (!existsSync(dir) || readdirSync(dir).length < files.length) {
    const { stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', `sigs.k8s.io/kwok@${KWOK_VERSION}`], {
      cwd: ctx.paths.cacheDir, env: { ...process.env, GOFLAGS: '-mod=mod' },
    });
    const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
    if (!moduleDir) ctx.fail(`go mod download gave no directory for sigs.k8s.io/kwok@${KWOK_VERSION}`);
    mkdirSync(dir, { recursive: true });
    for (const f of files) copyFileSync(path.join(moduleDir, f), path.join(dir, path.basename(f)));
  }
  return files.map((f) => path.join(dir, path.basename(f)));
}

export const kwok: Component = {
  name: 'kwok',
  dependsOn: ['pki', 'kube-apiserver'],
  async up(ctx) {
    const bin = await ensureGoBinary(ctx, {
      name: 'kwok', version: KWOK_VERSION, binary: 'kwok',
      build: (c, out) => c.run('go', ['install', '-trimpath', '-ldflags=-s -w', `sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}`], {
        env: { GOBIN: path.join(out, 'bin'), CGO_ENABLED: '0' }, cwd: c.paths.cacheDir,
      }),
    });
    const moduleCache = path.join(ctx.paths.cacheDir, 'kwok', KWOK_VERSION);
    const stageFiles = await ensureModuleFiles(ctx, moduleCache, 'stages', STAGE_FILES);
    const [metricFile] = await ensureModuleFiles(ctx, moduleCache, 'metrics', [METRIC_FILE]);
    const dir = ctx.dataDir();
    const logsFile = path.join(dir, 'container.log');
    // kwok replays the file in the CRI log format the kubelet reads: `<time> <stream> F <line>`.
    writeFileSync(logsFile, FAKE_LOG_LINES.map((l) => `${l.slice(0, 20)} stdout F ${l}\n`).join(''));
    const execDir = path.join(dir, 'exec');
    mkdirSync(execDir, { recursive: true });
    writeFileSync(path.join(execDir, 'hello.txt'), 'hello from a kwok container\n');

    const port = await ctx.freePort('KWOK_URL');
    const env = ctx.env;
    const docs: unknown[] = [
      {
        apiVersion: 'config.kwok.x-k8s.io/v1alpha1',
        kind: 'KwokConfiguration',
        options: {
          cidr: '10.244.0.0/16',
          nodeIP: '127.0.0.1',
          nodePort: port,
          serverAddress: `127.0.0.1:${port}`,
          tlsCertFile: env.STACK_SERVER_CERT_FILE,
          tlsPrivateKeyFile: env.STACK_SERVER_KEY_FILE,
          manageNodesWithAnnotationSelector: `${FAKE_NODE_ANNOTATION}=fake`,
          nodeLeaseDurationSeconds: 40,
          enableDebuggingHandlers: true, // logs, exec, attach, port-forward
          // The defaults of kwok's own deployment (kustomize/kwok/kwok.yaml); the binary has none.
          nodeLeaseParallelism: 2,
          podPlayStageParallelism: 2,
          nodePlayStageParallelism: 2,
          podsOnNodeSyncParallelism: 2,
          enablePodsOnNodeSyncListPager: false,
          enablePodsOnNodeSyncStreamWatch: true,
        },
      },
      { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'ClusterLogs', metadata: { name: 'stack-logs' },
        spec: { logs: [{ logsFile, follow: true }] } },
      { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'ClusterExec', metadata: { name: 'stack-exec' },
        spec: { execs: [{ local: { workDir: execDir, envs: [{ name: 'KWOK_STACK', value: 'true' }] } }] } },
      { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'ClusterPortForward', metadata: { name: 'stack-port-forward' },
        spec: { forwards: [{ command: ['cat'] }] } },
      resourceMetric(metricFile!),
      { apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'ClusterResourceUsage', metadata: { name: 'stack-usage' },
        spec: { usages: [{ usage: {
          cpu: { expression: containerUsage(USAGE_CPU_ANNOTATION, '1m') },
          memory: { expression: containerUsage(USAGE_MEMORY_ANNOTATION, '1Mi') },
        } }] } },
    ];
    const configFile = path.join(dir, 'kwok.yaml');
    writeFileSync(configFile, [...docs.map((d) => stringify(d)), ...stageFiles.map((f) => readFileSync(f, 'utf8'))].join('\n---\n'));
    const proc = ctx.spawn(bin, [
      `--config=${configFile}`,
      `--kubeconfig=${env.KUBECONFIG_ADMIN}`,
    ], { cwd: dir });
    const out = { KWOK_URL: `https://127.0.0.1:${port}`, KWOK_LOG_FILE: logsFile };
    await ctx.waitFor('its /healthz', async () => (await healthz({ ...env, ...out })) === undefined, { process: proc, timeoutMs: 60_000 });
    return out;
  },
  async check(env) {
    const problem = await healthz(env);
    if (problem) throw new Error(problem);
  },
};

async function healthz(env: Record<string, string>): Promise<string | undefined> {
  if (!env.KWOK_URL) return 'KWOK_URL missing';
  try {
    const res = await request(`${env.KWOK_URL}/healthz`, { caFile: env.STACK_CA_FILE });
    return res.status === 200 ? undefined : `kwok /healthz ${res.status}`;
  } catch (err) {
    return `kwok /healthz: ${(err as Error).message}`;
  }
}
